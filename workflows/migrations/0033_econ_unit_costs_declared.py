"""A unit's costs and arrival become declared fields, written by the actions (issue 22).

Migrations 0026_speed_unit_costs and 0028_speed_unit_received carried them on PostgreSQL in
undeclared columns kept by triggers, a second copy of the cost rule in SQL. Here, on
PostgreSQL, the triggers, their functions and those columns go; then on every database the
declared fields come (Unit.payout_cost, label_cost, refurbishment_cost, total_cost,
received_at), filled by the one cost rule itself (workflows.actions._costs._carry_costs, given
this migration's historical Unit) and by each unit's trade-in's receipt, and the reports'
indexes are made over them.

Backwards: the fields and indexes go, and on PostgreSQL 0026's and 0028's SQL runs again (the
columns, triggers and indexes as they were, filled by the triggers).
"""

from decimal import Decimal
from importlib import import_module

from django.db import migrations, models
from django.db.models import OuterRef, Subquery

DROP = """
DROP INDEX unit_shelf_received_idx;
DROP INDEX unit_margin_idx;
DROP TRIGGER workflows_unit_received ON workflows_tradein;
DROP TRIGGER workflows_unit_costs_refurbishment_change ON workflows_refurbishmentcost;
DROP TRIGGER workflows_unit_costs_refurbishment ON workflows_refurbishmentcost;
DROP TRIGGER workflows_unit_costs_label_change ON workflows_shippinglabel;
DROP TRIGGER workflows_unit_costs_label ON workflows_shippinglabel;
DROP TRIGGER workflows_unit_costs_payout_change ON workflows_payout;
DROP TRIGGER workflows_unit_costs_payout ON workflows_payout;
DROP TRIGGER workflows_unit_costs ON workflows_unit;
DROP FUNCTION workflows_unit_received();
DROP FUNCTION workflows_unit_costs_by_unit();
DROP FUNCTION workflows_unit_costs_by_trade_in();
DROP FUNCTION workflows_unit_costs();
ALTER TABLE workflows_unit
    DROP COLUMN payout_cost, DROP COLUMN label_cost, DROP COLUMN refurbishment_cost,
    DROP COLUMN trade_in_received_at;
"""


def drop_triggers(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


def restore_triggers(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        # 0026 and 0028 ran in two transactions; here one: the foreign keys are checked at
        # once, or 0028's index would wait on the checks of the rows 0026 just touched.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE", params=None)
        for name in ("0026_speed_unit_costs", "0028_speed_unit_received"):
            sql = import_module(f"workflows.migrations.{name}").FORWARD
            schema_editor.execute(sql, params=None)


def backfill(apps, schema_editor) -> None:
    from workflows.actions._costs import _carry_costs

    if schema_editor.connection.vendor == "postgresql":
        # Foreign keys checked at once, so the indexes below can be made in this transaction
        # after two updates of the same rows.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE", params=None)
    Unit = apps.get_model("workflows", "Unit")
    TradeIn = apps.get_model("workflows", "TradeIn")
    _carry_costs(Unit.objects.all())
    received = TradeIn.objects.filter(pk=OuterRef("trade_in_id")).values("received_at")[:1]
    Unit.objects.filter(trade_in__isnull=False).update(received_at=Subquery(received))


COST = {
    "db_default": Decimal("0.00"),
    "decimal_places": 2,
    "default": Decimal("0.00"),
    "editable": False,
    "max_digits": 12,
}


class Migration(migrations.Migration):
    dependencies = [("workflows", "0032_counter_abandon_schedule")]

    operations = [
        migrations.RunPython(drop_triggers, restore_triggers),
        migrations.AddField(
            model_name="unit",
            name="payout_cost",
            field=models.DecimalField(**COST, help_text="Owed or paid to the seller."),
        ),
        migrations.AddField(
            model_name="unit",
            name="label_cost",
            field=models.DecimalField(**COST, help_text="Inbound and return labels."),
        ),
        migrations.AddField(
            model_name="unit",
            name="refurbishment_cost",
            field=models.DecimalField(**COST, help_text="Parts and labour."),
        ),
        migrations.AddField(
            model_name="unit", name="total_cost", field=models.DecimalField(**COST)
        ),
        migrations.AddField(
            model_name="unit",
            name="received_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="unit",
            index=models.Index(
                condition=models.Q(("sale_price__isnull", False)),
                fields=["sold_on"],
                include=(
                    "product",
                    "grade",
                    "sale_price",
                    "payout_cost",
                    "label_cost",
                    "refurbishment_cost",
                    "total_cost",
                    "received_at",
                ),
                name="unit_margin_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="unit",
            index=models.Index(
                condition=models.Q(
                    ("received_at__isnull", False), ("status__in", ["received", "graded", "listed"])
                ),
                fields=["received_at"],
                name="unit_shelf_received_idx",
            ),
        ),
    ]
