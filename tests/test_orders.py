"""Orders (issue 20): every trade-in belongs to an order; a one-device order is today's
trade-in (same reference); migration 0035 turns every existing trade-in into one."""

from __future__ import annotations

import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from tests import counter_helpers
from tests.helpers import staff_client, submission
from tests.test_reports import sql
from workflows import actions
from workflows.models import PERSON_FIELDS, Event, EventKind, Order, State, TradeIn
from workflows.rules.references import device_reference, order_reference


def test_it_numbers_devices_only_in_a_basket_of_several():
    assert order_reference(123) == "TI-000123"
    assert order_reference(1234567) == "TI-1234567"
    assert device_reference("TI-000123", position=1, count=1) == "TI-000123"
    assert device_reference("TI-000123", position=1, count=3) == "TI-000123-1"
    assert device_reference("TI-000123", position=3, count=3) == "TI-000123-3"


def test_it_opens_a_one_device_order_with_the_trade_ins_reference(db, product):
    trade_in = actions.trade_in_submit(submission=submission(product), submission_key="k-1")
    order = trade_in.order
    assert order.reference == trade_in.reference == order_reference(order.pk)
    assert order.submission_key == "k-1"
    assert trade_in.position == 1
    assert list(order.devices.all()) == [trade_in]


def test_it_keeps_one_order_for_a_double_tap(db, product):
    sub = submission(product)
    first = actions.trade_in_submit(submission=sub, submission_key="same")
    again = actions.trade_in_submit(submission=sub, submission_key="same")
    assert again.pk == first.pk
    assert Order.objects.count() == 1
    assert TradeIn.objects.count() == 1


def test_it_gives_every_submission_its_own_order(db, product):
    a = actions.trade_in_submit(submission=submission(product), submission_key="a")
    b = actions.trade_in_submit(submission=submission(product), submission_key="b")
    assert a.order_id != b.order_id
    assert a.reference != b.reference


def test_it_opens_an_order_at_the_counter(db, product, staff):
    buyback = counter_helpers.start(staff, product, key="counter-form-1")
    trade_in = buyback.trade_in
    assert trade_in.order.reference == trade_in.reference
    assert trade_in.order.submission_key == trade_in.submission_key
    assert trade_in.position == 1
    # The same start form posted twice: one buyback, one order.
    counter_helpers.start(staff, product, key="counter-form-1")
    assert Order.objects.count() == 1


def test_it_refuses_two_devices_in_one_place_of_an_order(db, product):
    trade_in = actions.trade_in_submit(submission=submission(product), submission_key="x")
    other = actions.trade_in_submit(submission=submission(product), submission_key="y")
    with pytest.raises(IntegrityError), transaction.atomic():
        TradeIn.objects.filter(pk=other.pk).update(order=trade_in.order)


def test_an_order_with_devices_cannot_be_deleted(db, product):
    from django.db.models import ProtectedError

    trade_in = actions.trade_in_submit(submission=submission(product), submission_key="z")
    with pytest.raises(ProtectedError):
        trade_in.order.delete()


# --- migration 0035 -----------------------------------------------------------------------------
BEFORE = ("workflows", "0034_econ_price_list_rates")
AFTER = ("workflows", "0035_basket_orders")


def migrate(target: tuple[str, str] | None) -> None:
    executor = MigrationExecutor(connection)
    targets = [target] if target else executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    executor.loader.build_graph()


def trade_in_rows() -> list[tuple]:
    """Every column a trade-in had before orders, as the database holds it: the person's
    fields read from the trade-in where it holds them (before 0038), else from its order."""
    present = {
        c.name
        for c in connection.introspection.get_table_description(
            connection.cursor(), "workflows_tradein"
        )
    }
    own = sorted(present - {"order_id", "position", *PERSON_FIELDS})
    if set(PERSON_FIELDS) <= present:
        person = [f"t.{name}" for name in PERSON_FIELDS]
        joined = ""
    else:
        person = [f"o.{name}" for name in PERSON_FIELDS]
        joined = " JOIN workflows_order o ON o.id = t.order_id"
    columns = ", ".join([*(f"t.{name}" for name in own), *person])
    return sql(f"SELECT {columns} FROM workflows_tradein t{joined} ORDER BY t.id")


def tables() -> set[str]:
    return set(connection.introspection.table_names())


@pytest.mark.django_db(transaction=True)
def test_migration_0035_makes_every_trade_in_a_one_device_order_and_goes_back(make_trade_in, staff):
    made = [
        make_trade_in(State.SUBMITTED),
        make_trade_in(State.QUOTED),
        make_trade_in(State.DECLINED),
        make_trade_in(State.ACCEPTED),
        make_trade_in(State.RECEIVED),
        make_trade_in(State.CLOSED),
    ]
    made.append(counter_helpers.start(staff, made[0].product).trade_in)
    # References as the release before orders wrote them (TI-<id>), with the odd ones a data
    # set can hold: none at all (the column allows it), one that reads as another's id, one
    # ahead of every id (written after orders, then migrated back).
    top = max(t.pk for t in made)
    TradeIn.objects.update(reference=None)
    for trade_in in made:
        TradeIn.objects.filter(pk=trade_in.pk).update(reference=f"TI-{trade_in.pk:06d}")
    TradeIn.objects.filter(pk=made[1].pk).update(reference=None)
    TradeIn.objects.filter(pk=made[3].pk).update(reference=f"TI-{top + 50:06d}")
    TradeIn.objects.filter(pk=made[2].pk).update(reference=f"TI-{made[3].pk:06d}")
    TradeIn.objects.filter(pk=made[4].pk).update(reference=None)
    TradeIn.objects.filter(pk=made[5].pk).update(reference=f"TI-{made[4].pk:06d}")
    before = trade_in_rows()
    try:
        migrate(BEFORE)
        assert "workflows_order" not in tables()
        assert trade_in_rows() == before  # going back loses nothing
        migrate(AFTER)
        assert trade_in_rows() == before
        # The current model reads the same tables (without the person's fields: 0038 adds them).
        orders = {o.pk: o for o in Order.objects.only("reference", "submission_key", "created_at")}
        assert len(orders) == len(made)
        for trade_in in TradeIn.objects.order_by("pk"):
            order = orders[trade_in.pk]
            assert trade_in.order_id == order.pk == trade_in.pk
            assert trade_in.position == 1
            assert order.submission_key == trade_in.submission_key
            assert order.created_at == trade_in.created_at
            if trade_in.reference:
                assert order.reference == trade_in.reference
        assert orders[made[1].pk].reference == f"TI-{made[1].pk:06d}"
        # TI-<its id> already reads as another trade-in: a number past every one in use.
        assert orders[made[4].pk].reference == f"TI-{top + 51:06d}"
        # A new order never takes an id (so a reference) an existing trade-in has.
        migrate(None)
        newest = actions.trade_in_submit(
            submission=submission(made[0].product), submission_key=uuid.uuid4().hex
        )
        assert newest.order_id > top + 51
        assert Order.objects.filter(reference=newest.reference).count() == 1
    finally:
        migrate(None)
    assert trade_in_rows()[: len(before)] == before


@pytest.mark.django_db(transaction=True)
def test_migration_0035_on_the_seeded_demo_goes_back_and_forth_losing_nothing():
    from django.core.management import call_command

    from backoffice.roles import sync_roles

    sync_roles()  # an earlier transactional test flushed the groups the demo accounts join
    call_command("seed_demo")
    before = trade_in_rows()
    orders = set(Order.objects.values_list("reference", "submission_key", "created_at"))
    assert len(before) == len(orders) > 20
    try:
        migrate(BEFORE)
        assert trade_in_rows() == before
        migrate(AFTER)
        assert trade_in_rows() == before
        # One order per trade-in, with its id, and the same reference, key and time as before.
        assert set(Order.objects.values_list("reference", "submission_key", "created_at")) == (
            orders
        )
        assert all(t.order_id == t.pk for t in TradeIn.objects.all())
    finally:
        migrate(None)


# --- migration 0038: the person's fields move onto the order -----------------------------------
BEFORE_0038 = ("workflows", "0037_labelsplit_box_label_costs")
AFTER_0038 = ("workflows", "0038_ordermove_person_fields")


def order_person_rows() -> set[tuple]:
    return set(Order.objects.values_list("pk", *PERSON_FIELDS))


@pytest.mark.django_db(transaction=True)
def test_migration_0038_on_the_seeded_demo_goes_back_and_forth_losing_nothing():
    from django.core.management import call_command

    from backoffice.roles import sync_roles

    sync_roles()  # an earlier transactional test flushed the groups the demo accounts join
    call_command("seed_demo")
    before, people = trade_in_rows(), order_person_rows()
    events = Event.objects.count()
    assert len(before) > 20
    try:
        migrate(BEFORE_0038)
        assert "buyer_email" in {
            c.name
            for c in connection.introspection.get_table_description(
                connection.cursor(), "workflows_tradein"
            )
        }
        assert trade_in_rows() == before  # each device holds its order's values again
        migrate(AFTER_0038)
        assert trade_in_rows() == before
        assert order_person_rows() == people
        assert Event.objects.count() == events  # one-device orders: nothing differed
    finally:
        migrate(None)


@pytest.mark.django_db(transaction=True)
def test_migration_0038_keeps_what_another_device_of_the_order_held(make_trade_in):
    first, second = basket_of(make_trade_in, 2)
    alone = make_trade_in(State.QUOTED, buyer_email="alone@example.com")
    try:
        migrate(BEFORE_0038)
        # As the basket of the release before could leave it: device 2 held other values.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE workflows_tradein SET buyer_email = %s, city = %s, payout_method = %s "
                "WHERE id = %s",
                ["second@example.com", "Boston", "store_credit", second.pk],
            )
            cursor.execute(
                "UPDATE workflows_tradein SET buyer_name = %s WHERE id = %s",
                ["Ada First", first.pk],
            )
        migrate(AFTER_0038)
        order = Order.objects.get(pk=first.order_id)
        # The order keeps its first device's values ...
        assert (order.buyer_name, order.buyer_email, order.city, order.payout_method) == (
            "Ada First",
            "ada@example.com",
            "Chicago",
            "check",
        )
        assert Order.objects.get(pk=alone.order_id).buyer_email == "alone@example.com"
        # ... and the second device's timeline says what it held.
        (event,) = Event.objects.filter(trade_in=second, kind=EventKind.DETAILS_CHANGED)
        assert "Buyer email: second@example.com → ada@example.com" in event.note
        assert "City: Boston → Chicago" in event.note
        assert "Payout method: Store credit → Check" in event.note
        assert "Buyer name: Ada Buyer → Ada First" in event.note
        assert "Buyer phone" not in event.note  # the same on both
        assert not Event.objects.filter(trade_in=first, kind=EventKind.DETAILS_CHANGED)
        migrate(BEFORE_0038)
        # Back: every device holds its order's values; the timeline row stays.
        rows = sql(
            "SELECT id, buyer_name, buyer_email, city, payout_method FROM workflows_tradein "
            "WHERE id IN (%s, %s) ORDER BY id",
            [first.pk, second.pk],
        )
        assert [row[1:] for row in rows] == [
            ("Ada First", "ada@example.com", "Chicago", "check")
        ] * 2
        assert Event.objects.filter(trade_in=second, kind=EventKind.DETAILS_CHANGED).count() == 1
        migrate(AFTER_0038)  # again: nothing differs now, no second event
        assert Event.objects.filter(trade_in=second, kind=EventKind.DETAILS_CHANGED).count() == 1
    finally:
        migrate(None)


# --- every other writer of trade-ins ---------------------------------------------------------
def one_device_orders_consistent() -> None:
    """Every trade-in is the one device of its own order, under the order's reference."""
    rows = TradeIn.objects.values_list(
        "reference", "position", "order__reference", "created_at", "order__created_at"
    )
    assert rows
    for reference, position, order_reference_, created_at, order_created_at in rows:
        assert (reference, position) == (order_reference_, 1)
        assert order_created_at == created_at
    assert Order.objects.count() == TradeIn.objects.count()


def test_the_demo_seeds_one_order_per_trade_in(db):
    from django.core.management import call_command

    call_command("seed_demo")
    one_device_orders_consistent()


def test_the_bench_rows_have_their_orders(db, product):
    from bench.data import seed_trade_ins

    # One real submission first whose order number runs ahead of its trade-in id.
    Order.objects.create(reference="TI-999990", submission_key="ahead")
    actions.trade_in_submit(submission=submission(product), submission_key="first")
    seed_trade_ins(25, batch=10)
    assert TradeIn.objects.count() == 25
    Order.objects.filter(submission_key="ahead").delete()
    one_device_orders_consistent()
    later = actions.trade_in_submit(submission=submission(product), submission_key="later")
    assert later.order_id > Order.objects.exclude(pk=later.order_id).latest("pk").pk


# --- staff pages ---------------------------------------------------------------------------------
def basket_of(make_trade_in, n: int, **overrides) -> list[TradeIn]:
    """n trade-ins made by the real action, then put in the first one's order as devices 1..n
    (what the basket's submission writes), references numbered."""
    devices = [make_trade_in(State.SUBMITTED, **overrides) for _ in range(n)]
    order = devices[0].order
    for position, device in enumerate(devices, start=1):
        TradeIn.objects.filter(pk=device.pk).update(
            order=order,
            position=position,
            reference=device_reference(order.reference, position=position, count=n),
        )
    Order.objects.exclude(pk=order.pk).filter(devices__isnull=True).delete()
    return [TradeIn.objects.get(pk=d.pk) for d in devices]


def test_the_queue_and_the_trade_in_page_show_the_order(make_trade_in, staff):
    first, second = basket_of(make_trade_in, 2)
    assert second.reference == f"{first.order.reference}-2"
    client = staff_client(staff)
    page = client.get("/dashboard/trade-ins/").content.decode()
    order_url = reverse("admin:workflows_order_change", args=[first.order_id])
    assert page.count(order_url) == 2
    page = client.get(reverse("admin:workflows_tradein_change", args=[second.pk])).content.decode()
    assert order_url in page and first.order.reference in page


def test_the_orders_list_counts_devices_without_a_query_per_row(
    make_trade_in, staff, django_assert_max_num_queries
):
    basket = basket_of(make_trade_in, 3)
    single = make_trade_in(State.SUBMITTED)
    client = staff_client(staff)
    client.get("/dashboard/workflows/order/")  # warm the session and caches
    with django_assert_max_num_queries(12) as few:
        page = client.get("/dashboard/workflows/order/").content.decode()
    for _ in range(3):
        basket_of(make_trade_in, 2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        more = client.get("/dashboard/workflows/order/").content.decode()
    devices = reverse("admin:workflows_tradein_changelist")
    assert more.count(devices) == page.count(devices) + 6
    for device in [*basket, single]:
        assert reverse("admin:workflows_tradein_change", args=[device.pk]) in page
    assert basket[0].order.reference in page and single.order.reference in page


@pytest.mark.parametrize("by", ["reference", "imei", "email"])
def test_the_orders_list_finds_an_order_by_any_device(make_trade_in, staff, by):
    basket = basket_of(make_trade_in, 3, buyer_email="family@example.com")
    other = make_trade_in(State.SUBMITTED, buyer_email="else@example.com")
    term = {
        "reference": basket[0].order.reference,
        "imei": basket[2].imei,
        "email": "family@example.com",
    }[by]
    page = staff_client(staff).get("/dashboard/workflows/order/", {"q": term}).content.decode()
    assert basket[0].order.reference in page
    assert other.order.reference not in page
    # One row for the order, however many of its devices matched.
    assert page.count(reverse("admin:workflows_order_change", args=[basket[0].order_id])) == 1


def test_the_order_page_lists_its_devices_and_cannot_be_edited(make_trade_in, staff, manager):
    basket = basket_of(make_trade_in, 2)
    order_url = reverse("admin:workflows_order_change", args=[basket[0].order_id])
    page = staff_client(staff).get(order_url).content.decode()
    for device in basket:
        assert device.reference in page
        assert device.imei in page
    client = staff_client(manager)
    assert client.post(order_url, {}).status_code == 403
    assert client.get(reverse("admin:workflows_order_add")).status_code == 403
    delete = reverse("admin:workflows_order_delete", args=[basket[0].order_id])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Order.objects.filter(pk=basket[0].order_id).exists()


# --- the basket's submission: one order, N devices ----------------------------------------------
def basket_submissions(product, n: int, **overrides) -> list[actions.Submission]:
    return [submission(product, **overrides) for _ in range(n)]


def test_it_submits_a_basket_as_one_order_of_numbered_devices(db, product, drain):
    subs = basket_submissions(product, 3)
    subs[1] = submission(product, screen="cracked", imei=subs[1].imei)
    order = actions.order_submit(submissions=subs, submission_key="basket-1")
    devices = list(order.devices.order_by("position"))
    assert [d.position for d in devices] == [1, 2, 3]
    assert [d.reference for d in devices] == [f"{order.reference}-{n}" for n in (1, 2, 3)]
    assert [d.imei for d in devices] == [s.imei for s in subs]
    assert {d.buyer_email for d in devices} == {"ada@example.com"}
    # Each device priced by its own answers, exactly as alone.
    assert devices[1].suggested_offer < devices[0].suggested_offer
    assert all(d.state == State.SUBMITTED for d in devices)
    drain()
    # Each device gets its own IMEI check, as a single submission does.
    assert all(d.imei_checks.count() == 1 for d in devices)


def test_a_double_tap_on_a_basket_keeps_one_order(db, product):
    subs = basket_submissions(product, 2)
    first = actions.order_submit(submissions=subs, submission_key="tap")
    again = actions.order_submit(submissions=subs, submission_key="tap")
    assert again.pk == first.pk
    assert Order.objects.count() == 1 and TradeIn.objects.count() == 2


def test_the_same_imei_twice_in_a_basket_is_refused_and_nothing_written(db, product):
    from workflows.errors import InvalidInput

    subs = basket_submissions(product, 3)
    subs[2] = submission(product, imei=subs[0].imei)
    with pytest.raises(InvalidInput, match="Devices 1 and 3 have the same IMEI"):
        actions.order_submit(submissions=subs, submission_key="dup")
    assert not Order.objects.exists() and not TradeIn.objects.exists()


def test_a_bad_imei_in_a_basket_names_the_device_and_writes_nothing(db, product):
    from workflows.errors import InvalidInput

    subs = basket_submissions(product, 2)
    good = subs[1].imei
    subs[1] = submission(product, imei=good[:14] + str((int(good[14]) + 1) % 10))
    with pytest.raises(InvalidInput, match="^Device 2: "):
        actions.order_submit(submissions=subs, submission_key="bad")
    assert not Order.objects.exists() and not TradeIn.objects.exists()


def test_a_basket_holds_at_most_the_setting(db, product, settings):
    from workflows.errors import InvalidInput

    settings.BASKET_MAX_DEVICES = 2
    with pytest.raises(InvalidInput, match="at most 2 devices"):
        actions.order_submit(submissions=basket_submissions(product, 3), submission_key="big")
    assert not TradeIn.objects.exists()
    order = actions.order_submit(submissions=basket_submissions(product, 2), submission_key="ok")
    assert order.devices.count() == 2


def test_every_device_of_a_basket_has_the_same_buyer(db, product):
    from workflows.errors import InvalidInput

    subs = [submission(product), submission(product, buyer_email="other@example.com")]
    with pytest.raises(InvalidInput):
        actions.order_submit(submissions=subs, submission_key="two-people")
    with pytest.raises(InvalidInput):
        actions.order_submit(submissions=[], submission_key="empty")
    assert not Order.objects.exists()
