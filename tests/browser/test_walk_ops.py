"""From the walk through every page: the queue's row selection and the over-limit confirmation,
in a real browser."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.browser.conftest import login
from tests.factories import ProductFactory
from tests.helpers import links_in_last_mail, refresh, submission
from workflows import actions
from workflows.models import DeviceModel, Quote, State

pytestmark = pytest.mark.django_db(transaction=True)


def errors_of(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"{error}\n{error.stack}"))
    return errors


@pytest.mark.parametrize("archive", [False, True], ids=["queue", "archive"])
def test_ticking_a_row_says_1_of_n_selected(desktop, make_trade_in, staff, archive):
    states = [State.DECLINED, State.CANCELLED] if archive else [State.SUBMITTED, State.SUBMITTED]
    for state in states:
        make_trade_in(state)
    errors = errors_of(desktop)
    login(desktop, "staff")
    queue = reverse("admin:workflows_tradein_changelist")
    desktop.goto(queue + ("?view=archive" if archive else ""))
    rows = desktop.locator("#result_list tbody input.action-select")
    assert rows.count() == 2
    rows.first.check()
    counter = desktop.locator("span.action-counter")
    counter.wait_for()
    assert counter.inner_text().strip() == "1 of 2 selected"
    assert errors == []


def test_the_over_limit_confirmation_follows_the_amount(desktop, make_trade_in, staff):
    trade_in = make_trade_in(State.SUBMITTED)  # suggested 435.00
    errors = errors_of(desktop)
    login(desktop, "staff")
    desktop.goto(reverse("admin:workflows_tradein_change", args=[trade_in.pk]))
    desktop.fill("input[name=amount]", "800")
    desktop.click("button:has-text('Send Quote')")
    yes = desktop.locator("input[name=confirmed]")
    yes.wait_for()
    label = desktop.locator(f"label[for={yes.get_attribute('id')}]")
    assert "800.00 is 1.8×" in label.inner_text()
    yes.check()
    # Changed my mind: an ordinary amount needs no yes, and the one given to 800 is gone.
    desktop.fill("input[name=amount]", "440")
    assert not yes.is_visible()
    desktop.click("button:has-text('Send Quote')")
    desktop.wait_for_selector("text=Quote sent to the buyer.")
    assert refresh(trade_in).latest_quote().amount == Decimal("440.00")
    assert errors == []


def test_a_yes_given_to_one_amount_does_not_send_another(desktop, make_trade_in, staff):
    trade_in = make_trade_in(State.SUBMITTED)
    login(desktop, "staff")
    desktop.goto(reverse("admin:workflows_tradein_change", args=[trade_in.pk]))
    desktop.fill("input[name=amount]", "700")
    desktop.click("button:has-text('Send Quote')")
    yes = desktop.locator("input[name=confirmed]")
    yes.wait_for()
    yes.check()
    desktop.fill("input[name=amount]", "800")  # still over the line, but not what was confirmed
    desktop.click("button:has-text('Send Quote')")
    desktop.wait_for_selector("text=Please confirm this offer: 800.00 is 1.8×")
    assert not Quote.objects.filter(trade_in=trade_in).exists()
    yes = desktop.locator("input[name=confirmed]")
    assert yes.is_visible() and not yes.is_checked()
    yes.check()
    desktop.click("button:has-text('Send Quote')")
    desktop.wait_for_selector("text=Quote sent to the buyer.")
    assert refresh(trade_in).latest_quote().amount == Decimal("800.00")


def test_yes_no_badges_show_their_icon_and_say_a_word(desktop, product, manager):
    DeviceModel.objects.filter(pk=product.device_model.pk).update(is_active=False)
    login(desktop, "manager")
    desktop.goto(reverse("admin:workflows_devicemodel_changelist"))
    icon = desktop.locator(".bo-icon[data-icon=close_small]").first
    drawn = icon.evaluate(
        "el => [getComputedStyle(el, '::before').content, getComputedStyle(el).fontFamily]"
    )
    assert drawn[0] == '"close_small"' and "Material Symbols" in drawn[1]
    assert icon.bounding_box()["width"] > 10  # drawn as an icon, not an empty box
    body = desktop.inner_text("#result_list")
    assert "close_small" not in body and "check_small" not in body


def test_a_plain_link_in_a_card_looks_like_a_link(desktop, make_trade_in, staff):
    """The intake bench's "Print the labels of the 1 unit received today" was grey text, not
    underlined: nothing said it could be clicked."""
    make_trade_in(State.RECEIVED)
    login(desktop, "staff")
    desktop.goto(reverse("admin:intake_bench"))
    link = desktop.locator("#intake-today-labels a")
    colour, around, line = link.evaluate(
        "a => [getComputedStyle(a).color, getComputedStyle(a.parentElement).color,"
        " getComputedStyle(a).textDecorationLine]"
    )
    assert colour != around
    assert "underline" in line


def test_choosing_decline_opens_the_reason_it_needs(phone, product, staff, drain):
    """An order's offers: a decline needs a reason, but "Declining? Tell us why" stayed closed
    when the buyer chose Decline; they learnt it from the error after sending."""
    order = actions.order_submit(
        submissions=[submission(product), submission(ProductFactory())],
        submission_key=uuid.uuid4().hex,
    )
    drain()
    first, second = order.devices.order_by("position")
    for device in (first, second):
        actions.trade_in_quote(trade_in=refresh(device), actor=staff, amount="100.00")
    drain()
    [link] = [u for u in links_in_last_mail() if "/trade-in/offers/" in u]
    phone.goto(link)
    why = phone.locator(f"#device-{second.pk} details.decline")
    assert why.get_attribute("open") is None
    phone.click(f"#device-{second.pk} label.choice:has-text('Decline')")
    assert why.get_attribute("open") is not None
    reason = f"#device-{second.pk} label.choice:has-text('The offer is too low')"
    assert phone.locator(reason).is_visible()
    phone.click(f"#device-{first.pk} label.choice:has-text('Accept')")
    assert phone.locator(f"#device-{first.pk} details.decline").get_attribute("open") is None
