"""A realistic month for `make run` (issue 22): ~100 submissions over the last 30 days, quoted,
accepted or declined, received and graded, paid, and many units sold across channels at
resale prices that leave a margin, so the charts and the learning price list say something.

Each trade-in is walked through the real actions, as staff and the buyer would, and then its
rows are moved back in time (`_set_back`): the actions stamp "now", and a trade-in submitted
20 days ago must say so everywhere (its quotes, timeline, payout, unit), each stage a realistic
while after the one before (a quote within hours, the box a few days after acceptance). For two
of the weeks the manager tried the auto-quote policy.
Deterministic (a seeded random), so two runs tell the same story; seed_demo runs it once.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.apps import apps
from django.contrib.auth.models import User
from django.db import models, transaction
from django.utils import timezone

from workflows import actions
from workflows.models import (
    Event,
    EventKind,
    Order,
    Payout,
    PayoutMethod,
    Product,
    Quote,
    QuotePolicy,
    TradeIn,
    Unit,
)
from workflows.rules.compliance import declaration_text
from workflows.rules.inspection import checklist_as_disclosed
from workflows.tasks import run_due_side_effects

KEY = "demo-month-"
SIZE = 100
# The devices a shop actually sees most: (model slug, storage).
POPULAR = [
    ("iphone-13", 128),
    ("iphone-14", 128),
    ("iphone-12", 64),
    ("iphone-14-pro", 256),
    ("iphone-15", 128),
    ("galaxy-s23", 256),
    ("pixel-7", 128),
]
# Answers a seller gives for a device that grades A, B or C at the bench.
PROFILES = {
    "A": [("flawless", "like_new", "good", "complete"), ("flawless", "like_new", "good", "box")],
    "B": [("scratched", "worn", "good", "none"), ("scratched", "like_new", "worn", "box")],
    "C": [("cracked", "worn", "worn", "none"), ("scratched", "damaged", "service", "none")],
}
# What a unit of each grade resells for, as a multiple of the product's base (buy) price.
RESALE = {"A": Decimal("1.45"), "B": Decimal("1.30"), "C": Decimal("0.95")}
CHANNELS = ["storefront"] * 5 + ["marketplace"] * 4 + ["wholesale"] * 2
FIRST = ["Alex", "Bea", "Chris", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivan", "Jade", "Kai", "Lena"]
LAST = ["Adams", "Brooks", "Cruz", "Diaz", "Evans", "Foster", "Grant", "Hughes", "Ito", "Jensen"]


def luhn_imei(body: str) -> str:
    total = 0
    for i, ch in enumerate(body):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return body + str((10 - total % 10) % 10)


def demo_month(manager: User) -> int:
    """Build the month once (the first record's key says it is there). Returns how many."""
    if TradeIn.objects.filter(submission_key=f"{KEY}0").exists():
        return 0
    rng = random.Random(22)
    products = [
        p
        for slug, gb in POPULAR
        if (p := Product.objects.filter(device_model__slug=slug, storage_gb=gb).first())
    ]
    # Some models resell better than the list assumes, some worse: the suggestions differ.
    demand = {p.pk: Decimal(str(rng.choice([0.88, 0.95, 1.0, 1.06, 1.15]))) for p in products}
    plan = []
    for i in range(SIZE):
        # A fifth arrived in the last days (still in the pipeline); the rest over the month.
        plan.append((rng.randint(0, 4) if i % 5 == 0 else rng.randint(0, 29), i))
    # Oldest first, as they came in. For two weeks the manager tried the auto-quote policy.
    trial = before = QuotePolicy.current().auto_quote
    for days_ago, i in sorted(plan, reverse=True):
        if trial != (8 <= days_ago <= 21):
            trial = not trial
            actions.quote_policy_update(actor=manager, changes={"auto_quote": trial})
        _one(i, rng, rng.choice(products), days_ago, demand, manager)
    if trial != before:  # the shop's own setting, as it was
        actions.quote_policy_update(actor=manager, changes={"auto_quote": before})
    _market_prices(manager)
    return SIZE


class _Timeline:
    """When each stage of one trade-in happened in the demo's past. Each mark pairs the real
    time a stage began with the demo time it stands for; a timestamp written during a stage
    moves by that stage's offset. Never later than a few minutes ago."""

    def __init__(self, start: datetime) -> None:
        self.marks = [(timezone.now(), start)]

    def step(self, after: timedelta) -> None:
        """The next stage happens `after` the previous one (sooner if that would be the future)."""
        now = timezone.now()
        previous = self.marks[-1][1]
        latest = max(previous + timedelta(seconds=30), now - timedelta(minutes=5))
        self.marks.append((now, min(previous + after, latest)))

    def at(self, real: datetime) -> datetime:
        real_start, demo_start = self.marks[0]
        for mark_real, mark_demo in self.marks:
            if mark_real <= real:
                real_start, demo_start = mark_real, mark_demo
        return demo_start + (real - real_start)


def demo_identity(
    trade_in: TradeIn, manager: User, *, id_number: str, birth_date: date, valid_years: int
) -> None:
    """A made-up driver's license, recorded as staff would at the counter (stored encrypted)
    through the real action; it expires `valid_years` from today. seed_demo uses it too."""
    actions.seller_identity_record(
        trade_in=trade_in,
        actor=manager,
        data=actions.IdentityInput(
            id_type="drivers_license",
            id_number=id_number,
            issuer="IL",
            birth_date=birth_date,
            expires_on=timezone.localdate().replace(year=timezone.localdate().year + valid_years),
        ),
    )


def _hours(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(hours=rng.uniform(low, high))


def _one(i: int, rng: random.Random, product, days_ago: int, demand, manager) -> None:
    grade = rng.choice("AAABBBBC")
    screen, body, battery, accessories = rng.choice(PROFILES[grade])
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    method = rng.choice([PayoutMethod.CHECK] * 3 + [PayoutMethod.STORE_CREDIT])
    pickup = rng.random() < 0.25
    start = timezone.now() - timedelta(days=days_ago) - _hours(rng, 0.5, 10)
    clock = _Timeline(max(start, timezone.now() - timedelta(days=30)))
    trade_in = actions.trade_in_submit(
        submission=actions.Submission(
            product=product,
            screen=screen,
            body=body,
            battery=battery,
            accessories=accessories,
            imei=luhn_imei(f"35{i:04d}0{rng.randint(10_000_000, 99_999_999):08d}"[:14]),
            buyer_name=name,
            buyer_email=f"{name.lower().replace(' ', '.')}{i}@example.com",
            fulfilment="pickup" if pickup else "ship",
            payout_method=method,
            address_line1="" if pickup else f"{10 + i} Oak Avenue",
            city="" if pickup else "Chicago",
            region="" if pickup else "IL",
            postcode="" if pickup else "60601",
        ),
        submission_key=f"{KEY}{i}",
    )
    run_due_side_effects()  # the IMEI check
    trade_in.refresh_from_db()
    roll = rng.random()
    # The youngest wait for a quote or an answer; a fifth of the rest decline.
    quote = trade_in.quotes.first()  # the auto-quote policy's, while it was on
    if quote is None:
        if days_ago <= 1 and roll < 0.4:
            return _set_back(trade_in, clock)
        clock.step(_hours(rng, 0.3, 20))  # staff quote within the day, mostly
        offer = trade_in.suggested_offer or Decimal("100")
        offer -= Decimal(rng.choice([0, 0, 0, 5, 10]))
        quote = actions.trade_in_quote(trade_in=trade_in, actor=manager, amount=offer)
    if days_ago <= 4 and roll < 0.35:
        return _set_back(trade_in, clock)
    clock.step(_hours(rng, 0.5, 36))  # the buyer answers
    if roll > 0.72:
        actions.trade_in_decline(
            trade_in=trade_in,
            actor=actions.BUYER,
            quote=quote,
            reason=rng.choice(["The offer is too low", "Sold it elsewhere", "Kept the phone"]),
        )
        return _set_back(trade_in, clock)
    actions.trade_in_accept(
        quote=quote,
        declaration=actions.DeclarationInput(
            confirmed=True, wording=declaration_text(), ip="127.0.0.1", birth_date=date(1988, 6, 2)
        ),
    )
    run_due_side_effects()  # the label or the drop-off email
    if days_ago <= 4:  # on its way to the shop
        return _set_back(trade_in, clock)
    clock.step(timedelta(days=rng.randint(2, 4)) + _hours(rng, 0, 6))  # the box arrives
    demo_identity(
        trade_in,
        manager,
        id_number=f"D{trade_in.pk:04d}-7731-{i:04d}",
        birth_date=date(1988, 6, 2),
        valid_years=4,
    )
    actions.trade_in_intake(
        trade_in=trade_in,
        actor=manager,
        checklist=checklist_as_disclosed(trade_in),
        outcome="grade",
        grade=grade,
        scanned_imei=trade_in.imei,
    )
    payout = Payout.objects.get(trade_in=trade_in)
    clock.step(_hours(rng, 2, 30))  # a manager pays
    if days_ago >= 5 or rng.random() < 0.5:
        if payout.method == PayoutMethod.CHECK:
            actions.payout_settle_check(
                payout=payout,
                actor=manager,
                check_number=f"{100300 + i}",
                check_date=timezone.localdate(clock.marks[-1][1]),
            )
        else:
            actions.payout_issue_store_credit(payout=payout, actor=manager)
    run_due_side_effects()
    _set_back(trade_in, clock)
    if days_ago < 7 or rng.random() >= 0.88:
        return  # still graded on the shelf
    # Listed the day after it arrived; most sold since, at a date of their own.
    trade_in.refresh_from_db()
    unit = Unit.objects.get(trade_in=trade_in)
    listed_at = trade_in.received_at + timedelta(days=1)
    actions.unit_change_status(unit=unit, actor=manager, operation="list")
    Event.objects.filter(trade_in=trade_in, kind=EventKind.UNIT_LISTED).update(created_at=listed_at)
    Unit.objects.filter(pk=unit.pk).update(status_changed_at=listed_at)
    if rng.random() < 0.9:
        sold_at = listed_at + timedelta(days=rng.randint(0, days_ago - 6), hours=rng.randint(1, 8))
        sold_at = min(sold_at, timezone.now())
        price, channel = _sale(product, grade, demand[product.pk], rng)
        actions.unit_change_status(
            unit=unit,
            actor=manager,
            operation="sell",
            price=price,
            channel=channel,
            sold_on=timezone.localdate(sold_at),
        )
        Event.objects.filter(trade_in=trade_in, kind=EventKind.UNIT_SOLD).update(created_at=sold_at)
        Unit.objects.filter(pk=unit.pk).update(status_changed_at=sold_at)


def _sale(product, grade: str, demand: Decimal, rng) -> tuple[Decimal, str]:
    """A resale price and channel near the model's market (a wholesale lot sells below retail)."""
    noise = Decimal(str(rng.uniform(0.93, 1.07)))
    channel = rng.choice(CHANNELS)
    price = product.base_price * RESALE[grade] * demand * noise
    if channel == "wholesale":
        price *= Decimal("0.88")
    return price.quantize(Decimal("1"), rounding=ROUND_DOWN), channel


def _related_models() -> list[tuple[type[models.Model], str]]:
    """Every model that points at a trade-in, and the name of that foreign key."""
    found = []
    for model in apps.get_app_config("workflows").get_models():
        for field in model._meta.fields:
            if field.is_relation and field.related_model is TradeIn:
                found.append((model, field.name))
    return found


@transaction.atomic
def _set_back(trade_in: TradeIn, clock: _Timeline) -> None:
    """Move every timestamp of this trade-in and of the rows that hang on it to the demo time
    of the stage it was written in (a unit is listed and sold after this)."""
    for model, fk in [(TradeIn, "pk"), *_related_models()]:
        names = [
            f.name
            for f in model._meta.fields
            if isinstance(f, models.DateTimeField) and not getattr(f, "auto_now", False)
        ]
        rows = list(model.objects.filter(**{fk: trade_in.pk})) if names else []
        for row in rows:
            before = {name: getattr(row, name) for name in names}
            for name, value in before.items():
                if value is not None:
                    setattr(row, name, clock.at(value))
            if model is Quote:  # valid for as long as it was, from when it was sent
                row.valid_until = row.created_at + (before["valid_until"] - before["created_at"])
        if rows:
            model.objects.bulk_update(rows, names)
    # Its order (one device each in the demo) was opened when it was submitted.
    order = Order.objects.get(pk=trade_in.order_id)
    order.created_at = TradeIn.objects.values_list("created_at", flat=True).get(pk=trade_in.pk)
    order.save(update_fields=["created_at"])


def _market_prices(manager: User) -> None:
    """A manager's import of market resale prices, for models the shop has sold few of."""
    today = timezone.localdate()
    lines = ["model,storage,grade,price,source,date"]
    for slug, gb, grade, prices in [
        ("iphone-15-pro", 256, "A", (845, 880, 829)),
        ("iphone-15-pro", 256, "B", (760, 742)),
        ("galaxy-s24-ultra", 512, "B", (810, 835, 790)),
        ("pixel-8-pro", 128, "B", (455, 470)),
    ]:
        product = Product.objects.filter(device_model__slug=slug, storage_gb=gb).first()
        if product is None:
            continue
        for n, price in enumerate(prices):
            source = ["Swappa", "Back Market", "eBay sold"][n % 3]
            lines.append(f"{slug},{gb},{grade},{price},{source},{today - timedelta(days=3 + n)}")
    if len(lines) > 1:
        actions.market_prices_import(actor=manager, text="\n".join(lines) + "\n")
