"""The day a unit's trade-in was received, carried on the unit's row (PostgreSQL), for the stock
ageing report at 1M units: like the costs (0026_speed_unit_costs), a column the Django model
does not declare, written only by triggers in the same statement as the row it copies.

- a unit inserted or updated: trade_in_received_at read from its trade-in (BEFORE, on NEW);
- a trade-in whose received_at changes: its units touched, which recomputes them.

tests/test_unit_costs.py checks it equals the trade-in's received_at after each kind of write.
"""

from django.db import migrations

OWED = "('pending', 'failed', 'settled')"

FORWARD = f"""
ALTER TABLE workflows_unit ADD COLUMN trade_in_received_at timestamp with time zone NULL;

CREATE OR REPLACE FUNCTION workflows_unit_costs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.payout_cost := COALESCE((SELECT amount FROM workflows_payout
        WHERE trade_in_id = NEW.trade_in_id AND status IN {OWED}), 0);
    NEW.label_cost := COALESCE((SELECT SUM(cost) FROM workflows_shippinglabel
        WHERE trade_in_id = NEW.trade_in_id AND voided_at IS NULL), 0);
    NEW.refurbishment_cost := COALESCE((SELECT SUM(amount) FROM workflows_refurbishmentcost
        WHERE unit_id = NEW.id), 0);
    NEW.trade_in_received_at := (SELECT received_at FROM workflows_tradein
        WHERE id = NEW.trade_in_id);
    RETURN NEW;
END $$;

CREATE FUNCTION workflows_unit_received() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workflows_unit SET payout_cost = payout_cost WHERE trade_in_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER workflows_unit_received AFTER UPDATE ON workflows_tradein
    FOR EACH ROW WHEN (OLD.received_at IS DISTINCT FROM NEW.received_at)
    EXECUTE FUNCTION workflows_unit_received();

UPDATE workflows_unit SET payout_cost = payout_cost WHERE trade_in_id IS NOT NULL;

-- The margin and ageing reports: a period's sales with their costs and receipt, index-only;
-- the shelf by receipt.
DROP INDEX unit_margin_idx;
CREATE INDEX unit_margin_idx ON workflows_unit (sold_on)
    INCLUDE (product_id, grade, sale_price, payout_cost, label_cost, refurbishment_cost,
             trade_in_received_at)
    WHERE sale_price IS NOT NULL;
CREATE INDEX unit_shelf_received_idx ON workflows_unit (trade_in_received_at)
    WHERE status IN ('received', 'graded', 'listed') AND trade_in_received_at IS NOT NULL;
"""

BACKWARD = f"""
DROP INDEX unit_shelf_received_idx;
DROP INDEX unit_margin_idx;
CREATE INDEX unit_margin_idx ON workflows_unit (sold_on)
    INCLUDE (product_id, grade, sale_price, payout_cost, label_cost, refurbishment_cost)
    WHERE sale_price IS NOT NULL;
DROP TRIGGER workflows_unit_received ON workflows_tradein;
DROP FUNCTION workflows_unit_received();
CREATE OR REPLACE FUNCTION workflows_unit_costs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.payout_cost := COALESCE((SELECT amount FROM workflows_payout
        WHERE trade_in_id = NEW.trade_in_id AND status IN {OWED}), 0);
    NEW.label_cost := COALESCE((SELECT SUM(cost) FROM workflows_shippinglabel
        WHERE trade_in_id = NEW.trade_in_id AND voided_at IS NULL), 0);
    NEW.refurbishment_cost := COALESCE((SELECT SUM(amount) FROM workflows_refurbishmentcost
        WHERE unit_id = NEW.id), 0);
    RETURN NEW;
END $$;
ALTER TABLE workflows_unit DROP COLUMN trade_in_received_at;
"""


def forward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0027_speed_hold")]

    operations = [migrations.RunPython(forward, backward)]
