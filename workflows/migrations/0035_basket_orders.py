"""Orders (issue 20): every existing trade-in becomes a one-device order with the same id,
its reference (or TI-<id> when it had none), its submission key and its creation time. The
trade-in rows keep every field, so going back drops the orders and loses nothing."""

import django.db.models.deletion
import django.utils.timezone
from django.core.management.color import no_style
from django.db import migrations, models
from django.db.models import F

BATCH = 5000


def _number(reference: str) -> int:
    """The order number in a reference: 123 in TI-000123 and in TI-000123-2."""
    digits = reference.removeprefix("TI-").split("-")[0]
    return int(digits) if digits.isdigit() else 0


def one_order_per_trade_in(apps, schema_editor):
    TradeIn = apps.get_model("workflows", "TradeIn")
    Order = apps.get_model("workflows", "Order")
    connection = schema_editor.connection
    db = connection.alias
    last = 0
    high = 0  # the highest order number any reference or id already stands for
    unnamed = []
    while True:
        rows = list(
            TradeIn.objects.using(db)
            .filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "reference", "submission_key", "created_at")[:BATCH]
        )
        if not rows:
            break
        unnamed += [row for row in rows if not row[1]]
        Order.objects.using(db).bulk_create(
            Order(id=pk, reference=reference, submission_key=key, created_at=created_at)
            for pk, reference, key, created_at in rows
            if reference
        )
        last = rows[-1][0]
        high = max([high, last, *(_number(row[1]) for row in rows if row[1])])
    # A trade-in without a reference (none is written so, but the column allows it): its
    # order is TI-<id>, or a fresh number when a reference already reads so.
    for pk, _reference, key, created_at in unnamed:
        reference = "TI-%06d" % pk
        if Order.objects.using(db).filter(reference=reference).exists():
            high += 1
            reference = "TI-%06d" % high
        Order.objects.using(db).create(
            id=pk, reference=reference, submission_key=key, created_at=created_at
        )
    # Same id: one UPDATE links every trade-in to its order.
    TradeIn.objects.using(db).update(order_id=F("pk"), position=1)
    with connection.cursor() as cursor:
        # The orders were written with explicit ids: move the id sequence past them and past
        # every number a reference already reads (a new order's reference is TI-<its id>).
        for sql in connection.ops.sequence_reset_sql(no_style(), [Order]):
            cursor.execute(sql)
        if high > last and connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('workflows_order', 'id'), %s)", [high]
            )
        elif high > last and connection.vendor == "sqlite":
            cursor.execute(
                "UPDATE sqlite_sequence SET seq = %s WHERE name = 'workflows_order'", [high]
            )
        if connection.vendor == "postgresql":
            # The foreign key is checked at commit: check it now, or PostgreSQL refuses the
            # ALTER TABLE below ("pending trigger events").
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0034_econ_price_list_rates"),
    ]

    operations = [
        migrations.CreateModel(
            name="Order",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reference", models.CharField(editable=False, max_length=20, unique=True)),
                ("submission_key", models.CharField(editable=False, max_length=64, unique=True)),
                (
                    "created_at",
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, editable=False
                    ),
                ),
            ],
            options={
                "verbose_name": "order",
                "verbose_name_plural": "orders",
                "ordering": ["created_at"],
            },
        ),
        migrations.AddField(
            model_name="tradein",
            name="order",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="devices",
                to="workflows.order",
            ),
        ),
        migrations.AddField(
            model_name="tradein",
            name="position",
            field=models.PositiveSmallIntegerField(null=True),
        ),
        migrations.RunPython(one_order_per_trade_in, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="tradein",
            name="order",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="devices",
                to="workflows.order",
            ),
        ),
        migrations.AlterField(
            model_name="tradein",
            name="position",
            field=models.PositiveSmallIntegerField(),
        ),
        migrations.AddConstraint(
            model_name="tradein",
            constraint=models.UniqueConstraint(
                fields=("order", "position"), name="tradein_order_position"
            ),
        ),
    ]
