"""The person's fields move from each device onto its order (issue 20): buyer name, email and
phone, ship or drop-off, address, country and payout method are stored once per order.

Forward: each order takes its first device's values (lowest position). A device of the same
order that held other values (only a basket order made since the last release can) gets a
"Details changed" timeline event with what it held, so nothing is lost; then the columns
leave the trade-in table. Back: the columns come back and every device gets its order's
values. Both directions are one UPDATE with correlated subqueries (SQLite and PostgreSQL).
"""

from django.db import migrations, models
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

PERSON_FIELDS = (
    "buyer_name",
    "buyer_email",
    "buyer_phone",
    "fulfilment",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postcode",
    "country",
    "payout_method",
)
LABELS = {
    "buyer_name": "Buyer name",
    "buyer_email": "Buyer email",
    "buyer_phone": "Buyer phone",
    "fulfilment": "Fulfilment",
    "address_line1": "Address line 1",
    "address_line2": "Address line 2",
    "city": "City",
    "region": "State / region",
    "postcode": "Postcode",
    "country": "Country",
    "payout_method": "Payout method",
}
BATCH = 2000

FULFILMENT_CHOICES = [
    ("ship", "Ship it with a prepaid label"),
    ("pickup", "Drop off / local pickup"),
]
PAYOUT_METHOD_CHOICES = [
    ("stripe", "Bank transfer (Stripe)"),
    ("check", "Check"),
    ("store_credit", "Store credit"),
    ("cash", "Cash at the counter"),
]


def fields() -> list[tuple[str, models.Field]]:
    """The 11 fields as the models define them. Added with a default of "" (the copy writes
    every row before anyone reads them); the default is not kept, as in the model."""
    return [
        ("buyer_name", models.CharField(max_length=120, default="")),
        ("buyer_email", models.EmailField(max_length=254, default="")),
        ("buyer_phone", models.CharField(max_length=30, blank=True)),
        ("fulfilment", models.CharField(max_length=10, choices=FULFILMENT_CHOICES, default="")),
        ("address_line1", models.CharField(max_length=120, blank=True)),
        ("address_line2", models.CharField(max_length=120, blank=True)),
        ("city", models.CharField(max_length=80, blank=True)),
        ("region", models.CharField("State / region", max_length=80, blank=True)),
        ("postcode", models.CharField(max_length=20, blank=True)),
        ("country", models.CharField(max_length=2, default="US")),
        (
            "payout_method",
            models.CharField(max_length=20, choices=PAYOUT_METHOD_CHOICES, default=""),
        ),
    ]


def _no_default(name: str) -> bool:
    return name in ("buyer_name", "buyer_email", "fulfilment", "payout_method")


def add(model_name: str) -> list[migrations.AddField]:
    return [
        migrations.AddField(
            model_name=model_name, name=name, field=field, preserve_default=not _no_default(name)
        )
        for name, field in fields()
    ]


def remove(model_name: str) -> list[migrations.RemoveField]:
    return [migrations.RemoveField(model_name=model_name, name=name) for name in PERSON_FIELDS]


def _word(name: str, value: str) -> str:
    return dict(PAYOUT_METHOD_CHOICES).get(value, value) if name == "payout_method" else value


# SQLite adds a NOT NULL column by rebuilding the table, which resets its id sequence to the
# highest id: the sequence 0035 moved past every number a reference reads would go back, and
# a new order could take a reference already in use. Kept here between the two steps.
_sequence: dict[str, int] = {}


def remember_sequence(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = 'workflows_order'")
            row = cursor.fetchone()
        _sequence[connection.alias] = row[0] if row else 0


def restore_sequence(connection) -> None:
    seq = _sequence.pop(connection.alias, None)
    if connection.vendor == "sqlite" and seq:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE sqlite_sequence SET seq = MAX(seq, %s) WHERE name = 'workflows_order'",
                [seq],
            )


def onto_orders(apps, schema_editor):
    TradeIn = apps.get_model("workflows", "TradeIn")
    Order = apps.get_model("workflows", "Order")
    Event = apps.get_model("workflows", "Event")
    db = schema_editor.connection.alias
    restore_sequence(schema_editor.connection)
    first = TradeIn.objects.using(db).filter(order_id=OuterRef("pk")).order_by("position")
    Order.objects.using(db).update(
        **{name: Coalesce(Subquery(first.values(name)[:1]), F(name)) for name in PERSON_FIELDS}
    )
    # A later device that held other values than its order now keeps: its timeline says what
    # it held. Exclude "all equal" = keep "any differs" (the columns are NOT NULL).
    differing = (
        TradeIn.objects.using(db)
        .filter(position__gt=1)
        .exclude(Q(**{name: F(f"order__{name}") for name in PERSON_FIELDS}))
        .order_by("pk")
        .values("pk", *PERSON_FIELDS, *(f"order__{name}" for name in PERSON_FIELDS))
    )
    events = []
    for row in differing.iterator(chunk_size=BATCH):
        changes = [
            f"{LABELS[name]}: {_word(name, row[name]) or '—'} → "
            f"{_word(name, row[f'order__{name}']) or '—'}"
            for name in PERSON_FIELDS
            if row[name] != row[f"order__{name}"]
        ]
        events.append(
            Event(
                trade_in_id=row["pk"],
                actor_label="system",
                kind="details_changed",
                note="The buyer's details are now stored once for the order (its first "
                "device's); this device held others: " + "; ".join(changes),
            )
        )
        if len(events) >= BATCH:
            Event.objects.using(db).bulk_create(events)
            events = []
    Event.objects.using(db).bulk_create(events)
    if schema_editor.connection.vendor == "postgresql":
        # The events' foreign key is checked at commit: check it now, or PostgreSQL refuses
        # the ALTER TABLE below ("pending trigger events").
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def onto_devices(apps, schema_editor):
    TradeIn = apps.get_model("workflows", "TradeIn")
    Order = apps.get_model("workflows", "Order")
    db = schema_editor.connection.alias
    order = Order.objects.using(db).filter(pk=OuterRef("order_id"))
    TradeIn.objects.using(db).update(
        **{name: Subquery(order.values(name)[:1]) for name in PERSON_FIELDS}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0037_labelsplit_box_label_costs"),
    ]

    operations = [
        # Forward: add to Order, copy, remove from TradeIn. Going back runs these in reverse:
        # the columns come back on TradeIn, onto_devices copies, the order's go.
        migrations.RunPython(remember_sequence, migrations.RunPython.noop, elidable=False),
        *add("order"),
        migrations.RunPython(onto_orders, onto_devices, elidable=False),
        # Going back adds the columns to filled tables: the four without a default get "" for
        # that (their values are copied right after). State only: no table is rebuilt for it.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(model_name="tradein", name=name, field=field)
                for name, field in fields()
                if _no_default(name)
            ]
        ),
        *remove("tradein"),
    ]
