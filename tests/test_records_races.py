"""Issue 18 on PostgreSQL: the seller's ID typed by the buyer and by staff at the same instant
is recorded once (the other is refused, nothing overwritten); two managers correcting at once
make two versions, none lost. The same across the devices of one order, whose ID is one."""

from __future__ import annotations

from tests.helpers import RACE
from tests.test_compliance import an_id
from tests.test_races import outcomes, race
from workflows import actions, crypto
from workflows.actions import BUYER
from workflows.models import SellerIdentity, State
from workflows.rules import compliance

pytestmark = RACE


def test_a_buyer_and_staff_recording_the_id_at_once_record_it_once(make_trade_in, staff):
    trade_in = make_trade_in(State.ACCEPTED)
    results = race(
        lambda: actions.seller_identity_record(
            trade_in=trade_in, actor=BUYER, data=an_id(id_number="P1111 2222")
        ),
        lambda: actions.seller_identity_record(
            trade_in=trade_in, actor=staff, data=an_id(id_number="X0000")
        ),
    )
    assert outcomes(results) == (1, 1)
    (identity,) = SellerIdentity.objects.filter(trade_in=trade_in)
    winner = next(r for r in results if isinstance(r, SellerIdentity))
    assert identity.pk == winner.pk and identity.version == 1
    assert crypto.decrypt(identity.id_number_encrypted) in ("P1111 2222", "X0000")


def test_two_managers_correcting_at_once_make_two_versions(make_trade_in, staff, manager):
    trade_in = make_trade_in(State.ACCEPTED)
    actions.seller_identity_record(trade_in=trade_in, actor=staff, data=an_id())
    results = race(
        *[
            (
                lambda n=n: actions.seller_identity_correct(
                    trade_in=trade_in,
                    actor=manager,
                    data=an_id(id_number=f"S530-4412-000{n}"),
                    reason=f"correction {n}",
                )
            )
            for n in (1, 2)
        ]
    )
    assert outcomes(results) == (2, 0)
    versions = list(
        SellerIdentity.objects.filter(trade_in=trade_in).values_list("version", flat=True)
    )
    assert sorted(versions) == [1, 2, 3]


def test_the_id_given_from_two_devices_of_an_order_at_once_is_recorded_once(product, drain, staff):
    from tests.test_order_payout import answered_box

    first, second = answered_box(product, drain, staff, ["300.00", "250.00"])
    results = race(
        lambda: actions.seller_identity_record(
            trade_in=first, actor=BUYER, data=an_id(id_number="P1111 2222")
        ),
        lambda: actions.seller_identity_record(
            trade_in=second, actor=BUYER, data=an_id(id_number="P3333 4444")
        ),
    )
    assert outcomes(results) == (1, 1)
    (identity,) = SellerIdentity.objects.filter(trade_in__order=first.order)
    assert identity.version == 1
    assert compliance.identity_of(first) == compliance.identity_of(second) == identity


def test_two_managers_correcting_from_two_devices_at_once_make_two_versions(
    product, drain, staff, manager
):
    from tests.test_order_payout import answered_box

    first, second = answered_box(product, drain, staff, ["300.00", "250.00"])
    actions.seller_identity_record(trade_in=first, actor=staff, data=an_id())
    results = race(
        *[
            (
                lambda device=device, n=n: actions.seller_identity_correct(
                    trade_in=device,
                    actor=manager,
                    data=an_id(id_number=f"S530-4412-000{n}"),
                    reason=f"correction {n}",
                )
            )
            for n, device in ((1, first), (2, second))
        ]
    )
    assert outcomes(results) == (2, 0)
    versions = SellerIdentity.objects.filter(trade_in__order=first.order)
    assert sorted(versions.values_list("version", flat=True)) == [1, 2, 3]
    assert compliance.current_identity(second).version == 3
