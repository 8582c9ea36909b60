"""A box's label is shared by its units (workflows.actions._costs): re-carry the units of every
order of several devices, whose label cost until now sat whole on the first device's unit.

Backwards: each unit carries its own device's labels again, as the code before this did."""

from decimal import Decimal

from django.db import migrations
from django.db.models import Count, DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

MONEY = DecimalField(max_digits=12, decimal_places=2)


def _boxed_units(apps):
    Unit = apps.get_model("workflows", "Unit")
    Order = apps.get_model("workflows", "Order")
    several = Order.objects.annotate(n=Count("devices")).filter(n__gt=1).values("pk")
    return Unit.objects.filter(trade_in__order__in=several)


def share_the_box_labels(apps, schema_editor):
    from workflows.actions._costs import _carry_costs

    _carry_costs(_boxed_units(apps))


def each_its_own_labels(apps, schema_editor):
    ShippingLabel = apps.get_model("workflows", "ShippingLabel")
    own = (
        ShippingLabel.objects.filter(trade_in_id=OuterRef("trade_in_id"), voided_at__isnull=True)
        .values("trade_in_id")
        .annotate(total=Sum("cost"))
        .values("total")
    )
    label = Coalesce(Subquery(own, output_field=MONEY), Value(Decimal("0.00"), output_field=MONEY))
    _boxed_units(apps).update(
        label_cost=label, total_cost=F("payout_cost") + label + F("refurbishment_cost")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0036_unit_received_idx"),
    ]

    operations = [
        migrations.RunPython(share_the_box_labels, each_its_own_labels, elidable=False),
    ]
