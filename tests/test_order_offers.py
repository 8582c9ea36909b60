"""Quotes and the box for an order of several devices (issue 20): one offer email per order,
once every device is decided; one page to answer them all (workflows.actions.order_answer);
one label for the accepted devices. An order of one keeps today's email, page and label."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import ProductFactory
from tests.helpers import declaration_post, declared, refresh, submission
from workflows import actions
from workflows.errors import InvalidInput, LinkInvalid
from workflows.links import order_offer_from_token, order_offer_token
from workflows.models import (
    BlockedImei,
    Email,
    Payout,
    Quote,
    ShippingLabel,
    SideEffect,
    SideEffectKind,
    State,
    TradeIn,
)
from workflows.rules.orders import order_ready_to_offer


def _order_offer_effects():
    return list(
        SideEffect.objects.filter(
            kind=SideEffectKind.SEND_EMAIL, payload__template=Email.ORDER_OFFER
        ).order_by("pk")
    )


def _single_quote_effects():
    return SideEffect.objects.filter(
        kind=SideEffectKind.SEND_EMAIL,
        payload__template__in=[Email.QUOTE, Email.COUNTER_QUOTE],
    )


@pytest.fixture
def basket(db, product, drain):
    """Submit an order of `n` devices (each its own product and weight) and run the checks."""

    def build(n: int = 3, *, flagged: tuple[int, ...] = (), **overrides) -> list[TradeIn]:
        products = [product] + [
            ProductFactory(device_model__weight_grams=200 + 50 * i) for i in range(1, n)
        ]
        subs = [submission(p, **overrides) for p in products]
        for i in flagged:
            BlockedImei.objects.create(imei=subs[i].imei, reason=BlockedImei.Reason.BLACKLISTED)
        order = actions.order_submit(submissions=subs, submission_key=uuid.uuid4().hex)
        drain()
        return list(order.devices.order_by("position"))

    return build


def quote(device, staff, amount):
    return actions.trade_in_quote(trade_in=refresh(device), actor=staff, amount=amount)


# --- the predicate ---------------------------------------------------------------------------
def _devices(*states):
    return [TradeIn(state=s) for s in states]


@pytest.mark.parametrize(
    ("states", "ready"),
    [
        ((State.QUOTED, State.QUOTED), True),
        ((State.QUOTED, State.SUBMITTED), False),
        ((State.SUBMITTED, State.SUBMITTED), False),
        ((State.QUOTED, State.DECLINED), True),
        ((State.DECLINED, State.DECLINED), False),  # nothing to offer
        ((State.QUOTED, State.EXPIRED, State.DECLINED), True),
        ((State.ACCEPTED, State.QUOTED), True),  # a counter-quote after an answer
        ((State.ACCEPTED, State.DECLINED), False),
        ((), False),
    ],
)
def test_the_order_is_ready_to_offer_only_when_every_device_is_decided(states, ready):
    assert order_ready_to_offer(_devices(*states)) is ready


# --- one offer email per order ---------------------------------------------------------------
def test_quoting_a_device_of_an_order_emails_nothing_until_all_are_quoted(basket, staff, drain):
    a, b, c = basket(3)
    mail.outbox.clear()
    quote(a, staff, "100.00")
    quote(b, staff, "120.00")
    drain()
    assert mail.outbox == [] and _order_offer_effects() == []
    assert not _single_quote_effects().exists()
    quote(c, staff, "80.00")
    drain()
    assert len(_order_offer_effects()) == 1
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    for device, amount in ((a, "100.00"), (b, "120.00"), (c, "80.00")):
        assert device.reference in body and amount in body
    assert "300.00" in body  # the total
    assert "/trade-in/offers/" in body
    assert a.order.reference in mail.outbox[0].subject


def test_a_device_stopped_by_a_red_flag_and_declined_lets_the_others_go(basket, staff, drain):
    a, b, c = basket(3, flagged=(2,))
    quote(a, staff, "100.00")
    quote(b, staff, "120.00")
    assert _order_offer_effects() == []
    actions.trade_in_decline(trade_in=c, actor=staff, reason="Blacklisted IMEI")
    effects = _order_offer_effects()
    assert len(effects) == 1
    assert sorted(effects[0].payload["quote_ids"]) == sorted(
        [refresh(a).latest_quote().pk, refresh(b).latest_quote().pk]
    )


def test_a_re_quote_after_the_email_sends_it_again_and_the_old_link_dies(basket, staff, drain):
    a, b = basket(2)
    quote(a, staff, "100.00")
    quote(b, staff, "120.00")
    drain()
    first = _order_offer_effects()[0]
    old_token = order_offer_token(a.order, first.payload["quote_ids"])
    assert order_offer_from_token(old_token)[0] == a.order
    quote(b, staff, "125.00")  # staff correct an amount
    drain()
    effects = _order_offer_effects()
    assert len(effects) == 2 and effects[1].key != effects[0].key
    with pytest.raises(LinkInvalid) as exc:
        order_offer_from_token(old_token)
    assert exc.value.reason == "superseded"
    # The key is deterministic: scheduling the same offer again adds nothing.
    from django.db import transaction

    from workflows.actions._orders import _offer_order_if_ready

    with transaction.atomic():
        _offer_order_if_ready(refresh(a))
    assert len(_order_offer_effects()) == 2


def test_an_order_of_one_keeps_its_own_quote_email(make_trade_in, drain):
    trade_in = make_trade_in(State.QUOTED)
    assert _single_quote_effects().filter(trade_in=trade_in).count() == 1
    assert _order_offer_effects() == []


# --- answering -------------------------------------------------------------------------------
@pytest.fixture
def quoted(basket, staff, drain):
    def build(n=3, amounts=("100.00", "120.00", "80.00"), **overrides):
        devices = basket(n, **overrides)
        for device, amount in zip(devices, amounts, strict=False):
            quote(device, staff, amount)
        drain()
        effect = _order_offer_effects()[-1]
        order, quotes = order_offer_from_token(
            order_offer_token(devices[0].order, effect.payload["quote_ids"])
        )
        return order, quotes, [refresh(d) for d in devices]

    return build


def test_accept_two_decline_one_makes_one_label_weighed_for_the_two(quoted, drain):
    order, quotes, (a, b, c) = quoted()
    mail.outbox.clear()
    accepted = actions.order_answer(
        order=order,
        quotes=quotes,
        accept=[a, b],
        decline={c: "The offer is too low"},
        declaration=declared(),
    )
    assert [d.pk for d in accepted] == [a.pk, b.pk]
    drain()
    assert [refresh(d).state for d in (a, b, c)] == [State.ACCEPTED, State.ACCEPTED, State.DECLINED]
    assert refresh(c).decline_reason == "The offer is too low"
    assert sorted(Payout.objects.values_list("amount", flat=True)) == [
        Decimal("100.00"),
        Decimal("120.00"),
    ]
    labels = ShippingLabel.objects.all()
    assert labels.count() == 1 and labels.get().trade_in_id == a.pk
    create = SideEffect.objects.get(kind=SideEffectKind.CREATE_LABEL)
    assert create.key == f"label:order:{order.pk}"
    from workflows.selectors import order_box_weight

    assert order_box_weight(order.pk) == (
        a.product.device_model.weight_grams + b.product.device_model.weight_grams
    )
    label_mails = [m for m in mail.outbox if "shipping label" in m.subject]
    assert len(label_mails) == 1
    assert a.reference in label_mails[0].body and b.reference in label_mails[0].body
    assert c.reference not in label_mails[0].body
    # each device keeps its declaration; the buyer gets one receipt for the order
    assert a.declarations.count() == 1 and b.declarations.count() == 1
    assert c.declarations.count() == 0
    [receipt] = [m for m in mail.outbox if m.subject.startswith("Your purchase receipt")]
    assert receipt.subject == f"Your purchase receipt ({order.reference})"
    assert a.reference in receipt.body and b.reference in receipt.body
    assert c.reference not in receipt.body and "Total: $220.00" in receipt.body
    [(filename, pdf, kind)] = receipt.attachments
    assert kind == "application/pdf" and order.reference in filename
    assert pdf.startswith(b"%PDF")


def test_drop_off_gets_one_email_listing_the_accepted_devices(quoted, drain):
    order, quotes, (a, b) = quoted(
        2, fulfilment="pickup", address_line1="", city="", region="", postcode=""
    )
    mail.outbox.clear()
    actions.order_answer(
        order=order, quotes=quotes, accept=[a, b], decline={}, declaration=declared()
    )
    drain()
    drop = [m for m in mail.outbox if "drop off" in m.subject]
    assert len(drop) == 1 and a.reference in drop[0].body and b.reference in drop[0].body
    assert not ShippingLabel.objects.exists()


def test_answering_twice_changes_nothing_the_second_time(quoted, drain):
    order, quotes, (a, b, c) = quoted()
    kwargs = dict(order=order, quotes=quotes, accept=[a, b, c], decline={}, declaration=declared())
    actions.order_answer(**kwargs)
    with pytest.raises(LinkInvalid) as exc:
        actions.order_answer(**kwargs)
    assert exc.value.reason == "used"
    assert Payout.objects.count() == 3
    assert SideEffect.objects.filter(kind=SideEffectKind.CREATE_LABEL).count() == 1


def test_a_stale_quote_refuses_the_whole_answer(quoted, staff, drain):
    order, quotes, (a, b, c) = quoted()
    quote(b, staff, "130.00")  # re-quoted while the page was open
    with pytest.raises(LinkInvalid) as exc:
        actions.order_answer(
            order=order, quotes=quotes, accept=[a, b, c], decline={}, declaration=declared()
        )
    assert exc.value.reason == "superseded" and b.reference in exc.value.message
    assert not Payout.objects.exists()
    assert refresh(a).state == State.QUOTED


def test_every_device_needs_one_answer(quoted):
    order, quotes, (a, b, c) = quoted()
    with pytest.raises(InvalidInput):
        actions.order_answer(
            order=order, quotes=quotes, accept=[a], decline={}, declaration=declared()
        )
    with pytest.raises(InvalidInput):
        actions.order_answer(
            order=order, quotes=quotes, accept=[a, b, c], decline={c: "no"}, declaration=declared()
        )
    with pytest.raises(InvalidInput):  # a decline needs a reason
        actions.order_answer(
            order=order, quotes=quotes, accept=[a, b], decline={c: "  "}, declaration=declared()
        )
    assert not Payout.objects.exists()


def test_declining_all_needs_no_declaration_and_buys_no_label(quoted, drain):
    order, quotes, (a, b) = quoted(2)
    actions.order_answer(
        order=order, quotes=quotes, accept=[], decline={a: "I sold it somewhere else", b: "Other"}
    )
    drain()
    assert [refresh(d).state for d in (a, b)] == [State.DECLINED, State.DECLINED]
    assert not SideEffect.objects.filter(kind=SideEffectKind.CREATE_LABEL).exists()


def test_a_single_device_accept_still_buys_its_own_label(make_trade_in, drain):
    trade_in = make_trade_in(State.ACCEPTED)
    effect = SideEffect.objects.get(kind=SideEffectKind.CREATE_LABEL)
    assert effect.key == f"label:{trade_in.pk}" and "order_id" not in effect.payload
    assert trade_in.labels.count() == 1


# --- the page, through Django's client ---------------------------------------------------------
def _page_url(order, quotes, name="buyer_portal:order_offer"):
    return reverse(name, args=[order_offer_token(order, [q.pk for q in quotes])])


def test_get_shows_every_device_and_changes_nothing(quoted):
    order, quotes, devices = quoted()
    response = Client().get(_page_url(order, quotes))
    page = response.content.decode()
    assert response.status_code == 200
    for device in devices:
        assert device.reference in page
    assert "300.00" in page and "Accept all" in page
    assert all(refresh(d).state == State.QUOTED for d in devices)
    # Only the answer URL acts: posting to the page itself only shows it again.
    Client().post(_page_url(order, quotes), {"accept_all": "1", **declaration_post()})
    assert all(refresh(d).state == State.QUOTED for d in devices)


def test_post_accepts_some_and_declines_one(quoted, drain):
    order, quotes, (a, b, c) = quoted()
    response = Client().post(
        _page_url(order, quotes, "buyer_portal:order_offer_answer"),
        {
            f"answer-{a.pk}": "accept",
            f"answer-{b.pk}": "accept",
            f"answer-{c.pk}": "decline",
            f"reason-{c.pk}": "Other",
            f"detail-{c.pk}": "Keeping it for my kid",
            **declaration_post(),
        },
    )
    assert response.status_code == 302 and "/trade-in/status/" in response["Location"]
    assert [refresh(d).state for d in (a, b, c)] == [State.ACCEPTED, State.ACCEPTED, State.DECLINED]
    assert refresh(c).decline_reason == "Other: Keeping it for my kid"
    # the link is used now
    again = Client().get(_page_url(order, quotes))
    assert again.status_code == 410


def test_accept_all_button(quoted):
    order, quotes, devices = quoted(2)
    response = Client().post(
        _page_url(order, quotes, "buyer_portal:order_offer_answer"),
        {"accept_all": "1", **declaration_post()},
    )
    assert response.status_code == 302
    assert all(refresh(d).state == State.ACCEPTED for d in devices)


def test_a_decline_without_a_reason_shows_the_page_again(quoted):
    order, quotes, (a, b) = quoted(2)
    response = Client().post(
        _page_url(order, quotes, "buyer_portal:order_offer_answer"),
        {f"answer-{a.pk}": "accept", f"answer-{b.pk}": "decline", **declaration_post()},
    )
    assert response.status_code == 400
    assert "Please choose a reason." in response.content.decode()
    assert refresh(a).state == State.QUOTED


def test_accepting_without_the_declaration_is_refused(quoted, settings):
    settings.DECLARATION_REQUIRED = True
    order, quotes, (a, b) = quoted(2)
    response = Client().post(
        _page_url(order, quotes, "buyer_portal:order_offer_answer"), {"accept_all": "1"}
    )
    assert response.status_code == 400
    assert refresh(a).state == State.QUOTED


def test_a_bad_token_is_refused(db):
    response = Client().get(reverse("buyer_portal:order_offer", args=["nonsense"]))
    assert response.status_code == 404
    response = Client().post(reverse("buyer_portal:order_offer_answer", args=["nonsense"]))
    assert response.status_code == 404


def test_a_token_naming_another_orders_quote_is_refused(quoted, make_trade_in):
    order, quotes, _devices = quoted(2)
    stranger = make_trade_in(State.QUOTED)
    token = order_offer_token(order, [quotes[0].pk, stranger.latest_quote().pk])
    assert Client().get(reverse("buyer_portal:order_offer", args=[token])).status_code == 404
    assert Quote.objects.count() == 3


def test_the_auto_quote_policy_quotes_each_device_and_emails_the_order_once(basket, manager, drain):
    actions.quote_policy_update(
        actor=manager, changes={"auto_quote": True, "auto_quote_cap": Decimal("1000")}
    )
    mail.outbox.clear()
    devices = basket(1) + basket(2)  # an order of one, then an order of two
    drain()
    single, a, b = (refresh(d) for d in devices)
    assert {single.state, a.state, b.state} == {State.QUOTED}
    assert _single_quote_effects().filter(trade_in=single).count() == 1
    assert not _single_quote_effects().filter(trade_in__in=[a, b]).exists()
    [effect] = _order_offer_effects()
    assert effect.trade_in_id == a.pk
    assert sorted(effect.payload["quote_ids"]) == sorted([a.latest_quote().pk, b.latest_quote().pk])


def test_the_status_page_of_a_device_points_at_the_orders_page(basket, staff, drain):
    from workflows.links import status_token

    a, b = basket(2)
    quote(a, staff, "100.00")
    page = Client().get(reverse("buyer_portal:status", args=[status_token(a)])).content.decode()
    assert "/trade-in/offer/" not in page and "/trade-in/offers/" not in page
    assert "together" in page
    quote(b, staff, "120.00")
    page = Client().get(reverse("buyer_portal:status", args=[status_token(a)])).content.decode()
    assert "/trade-in/offers/" in page and "/trade-in/offer/" not in page


def test_every_accepted_device_of_the_box_shows_the_one_label(quoted, drain):
    from workflows.links import status_token

    order, quotes, (a, b) = quoted(2)
    actions.order_answer(
        order=order, quotes=quotes, accept=[a, b], decline={}, declaration=declared()
    )
    drain()
    label = ShippingLabel.objects.get()
    for device in (a, b):
        token = status_token(device)
        page = Client().get(reverse("buyer_portal:status", args=[token])).content.decode()
        assert "Download shipping label" in page
        pdf = Client().get(reverse("buyer_portal:label", args=[token]))
        assert pdf.status_code == 200 and bytes(pdf.content) == bytes(label.pdf)


def test_accept_all_never_accepts_a_device_the_buyer_chose_to_decline(quoted):
    order, quotes, (a, b) = quoted(2)
    response = Client().post(
        _page_url(order, quotes, "buyer_portal:order_offer_answer"),
        {"accept_all": "1", f"answer-{b.pk}": "decline", **declaration_post()},
    )
    assert response.status_code == 400
    assert f"You chose to decline {b.reference}" in response.content.decode()
    assert [refresh(d).state for d in (a, b)] == [State.QUOTED, State.QUOTED]


def test_the_box_label_is_voided_only_when_no_device_of_the_box_is_coming(quoted, staff, drain):
    order, quotes, (a, b) = quoted(2)
    actions.order_answer(
        order=order, quotes=quotes, accept=[a, b], decline={}, declaration=declared()
    )
    drain()
    label = ShippingLabel.objects.get()
    actions.trade_in_cancel(trade_in=refresh(a), actor=staff, reason="Not in the box")
    drain()
    assert not SideEffect.objects.filter(kind=SideEffectKind.VOID_LABEL).exists()
    assert refresh(label).voided_at is None  # b still travels on it
    actions.trade_in_cancel(trade_in=refresh(b), actor=staff, reason="Box never came")
    drain()
    assert SideEffect.objects.filter(kind=SideEffectKind.VOID_LABEL).count() == 1
    assert refresh(label).voided_at is not None
