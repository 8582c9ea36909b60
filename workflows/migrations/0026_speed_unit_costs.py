"""A unit's costs carried on its row (PostgreSQL), for the margin report at 1M units.

workflows_unit gets payout_cost, label_cost and refurbishment_cost, columns the Django model does
not declare: only PostgreSQL triggers write them, in the same statement (so the same transaction)
as the row they summarise, whatever action or SQL writes it:

- a unit inserted or updated: its three costs recomputed from the rows (BEFORE, on NEW);
- a payout whose owed amount changes (inserted, deleted, amount, status in or out of owed, moved
  to another trade-in), a label whose cost or voiding changes, a refurbishment entry: the units
  concerned are touched, which recomputes them.

The rule is workflows.reports.with_money's (a payout counts while pending, failed or settled; a
voided label costs nothing); tests/test_unit_costs.py checks the columns equal it after each
kind of write. On SQLite nothing is added: the reports compute the costs per query there.
"""

from django.db import migrations

OWED = "('pending', 'failed', 'settled')"

FORWARD = f"""
ALTER TABLE workflows_unit
    ADD COLUMN payout_cost numeric(12, 2) NOT NULL DEFAULT 0,
    ADD COLUMN label_cost numeric(12, 2) NOT NULL DEFAULT 0,
    ADD COLUMN refurbishment_cost numeric(12, 2) NOT NULL DEFAULT 0;

CREATE FUNCTION workflows_unit_costs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.payout_cost := COALESCE((SELECT amount FROM workflows_payout
        WHERE trade_in_id = NEW.trade_in_id AND status IN {OWED}), 0);
    NEW.label_cost := COALESCE((SELECT SUM(cost) FROM workflows_shippinglabel
        WHERE trade_in_id = NEW.trade_in_id AND voided_at IS NULL), 0);
    NEW.refurbishment_cost := COALESCE((SELECT SUM(amount) FROM workflows_refurbishmentcost
        WHERE unit_id = NEW.id), 0);
    RETURN NEW;
END $$;
CREATE TRIGGER workflows_unit_costs BEFORE INSERT OR UPDATE ON workflows_unit
    FOR EACH ROW EXECUTE FUNCTION workflows_unit_costs();

-- Touch the units of a trade-in (OLD's and NEW's): their BEFORE trigger recomputes them.
CREATE FUNCTION workflows_unit_costs_by_trade_in() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE workflows_unit SET payout_cost = payout_cost WHERE trade_in_id = OLD.trade_in_id;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.trade_in_id IS DISTINCT FROM OLD.trade_in_id)
    THEN
        UPDATE workflows_unit SET payout_cost = payout_cost WHERE trade_in_id = NEW.trade_in_id;
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION workflows_unit_costs_by_unit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE workflows_unit SET payout_cost = payout_cost WHERE id = OLD.unit_id;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.unit_id IS DISTINCT FROM OLD.unit_id) THEN
        UPDATE workflows_unit SET payout_cost = payout_cost WHERE id = NEW.unit_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER workflows_unit_costs_payout AFTER INSERT OR DELETE ON workflows_payout
    FOR EACH ROW EXECUTE FUNCTION workflows_unit_costs_by_trade_in();
CREATE TRIGGER workflows_unit_costs_payout_change AFTER UPDATE ON workflows_payout
    FOR EACH ROW WHEN (
        OLD.trade_in_id IS DISTINCT FROM NEW.trade_in_id
        OR (CASE WHEN OLD.status IN {OWED} THEN OLD.amount ELSE 0 END)
           IS DISTINCT FROM (CASE WHEN NEW.status IN {OWED} THEN NEW.amount ELSE 0 END))
    EXECUTE FUNCTION workflows_unit_costs_by_trade_in();
CREATE TRIGGER workflows_unit_costs_label AFTER INSERT OR DELETE ON workflows_shippinglabel
    FOR EACH ROW EXECUTE FUNCTION workflows_unit_costs_by_trade_in();
CREATE TRIGGER workflows_unit_costs_label_change AFTER UPDATE ON workflows_shippinglabel
    FOR EACH ROW WHEN (
        OLD.trade_in_id IS DISTINCT FROM NEW.trade_in_id
        OR OLD.cost IS DISTINCT FROM NEW.cost
        OR (OLD.voided_at IS NULL) <> (NEW.voided_at IS NULL))
    EXECUTE FUNCTION workflows_unit_costs_by_trade_in();
CREATE TRIGGER workflows_unit_costs_refurbishment
    AFTER INSERT OR DELETE ON workflows_refurbishmentcost
    FOR EACH ROW EXECUTE FUNCTION workflows_unit_costs_by_unit();
CREATE TRIGGER workflows_unit_costs_refurbishment_change
    AFTER UPDATE ON workflows_refurbishmentcost
    FOR EACH ROW WHEN (
        OLD.unit_id IS DISTINCT FROM NEW.unit_id OR OLD.amount IS DISTINCT FROM NEW.amount)
    EXECUTE FUNCTION workflows_unit_costs_by_unit();

-- The units already there (only those with a cost to carry).
UPDATE workflows_unit SET payout_cost = payout_cost
WHERE trade_in_id IS NOT NULL
   OR id IN (SELECT unit_id FROM workflows_refurbishmentcost);

-- The margin report: a period's sales with their costs, index-only.
CREATE INDEX unit_margin_idx ON workflows_unit (sold_on)
    INCLUDE (product_id, grade, sale_price, payout_cost, label_cost, refurbishment_cost)
    WHERE sale_price IS NOT NULL;
"""

BACKWARD = """
DROP INDEX unit_margin_idx;
DROP TRIGGER workflows_unit_costs_refurbishment_change ON workflows_refurbishmentcost;
DROP TRIGGER workflows_unit_costs_refurbishment ON workflows_refurbishmentcost;
DROP TRIGGER workflows_unit_costs_label_change ON workflows_shippinglabel;
DROP TRIGGER workflows_unit_costs_label ON workflows_shippinglabel;
DROP TRIGGER workflows_unit_costs_payout_change ON workflows_payout;
DROP TRIGGER workflows_unit_costs_payout ON workflows_payout;
DROP TRIGGER workflows_unit_costs ON workflows_unit;
DROP FUNCTION workflows_unit_costs_by_unit();
DROP FUNCTION workflows_unit_costs_by_trade_in();
DROP FUNCTION workflows_unit_costs();
ALTER TABLE workflows_unit
    DROP COLUMN payout_cost, DROP COLUMN label_cost, DROP COLUMN refurbishment_cost;
"""


def forward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0025_speed_reports")]

    operations = [migrations.RunPython(forward, backward)]
