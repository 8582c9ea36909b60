"""Staff pages by keyboard alone (issue 24): quote a trade-in and receive a device at the
bench with Tab, arrows, typing and Enter; at 200% zoom, reach the intake bench from the queue.
Results are read out: each lands in a live region."""

from __future__ import annotations

import pytest

from tests.browser.checks import scrolls_sideways
from tests.browser.conftest import login, screenshot
from tests.helpers import declared, refresh
from workflows import actions
from workflows.models import State

pytestmark = pytest.mark.django_db(transaction=True)

# What has focus, as a screen reader names it: its aria-label, or its text without the
# hidden icon ligatures.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return '';
  if (el.getAttribute('aria-label')) return el.getAttribute('aria-label');
  const copy = el.cloneNode(true);
  copy.querySelectorAll('[aria-hidden=true]').forEach(n => n.remove());
  return copy.textContent.trim().replace(/\\s+/g, ' ');
}"""


def tab_to(page, matches, *, most: int = 80, back: bool = False) -> None:
    """Press Tab (or Shift+Tab) until what has focus matches; fail if it never does."""
    for _ in range(most):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if matches(page):
            return
    pytest.fail(f"never reached by Tab on {page.url}")


def named(text: str):
    """What has focus is named so (a badge's count may follow)."""
    return lambda page: page.evaluate(FOCUSED).startswith(text)


def focused(selector: str):
    return lambda page: page.evaluate(f"document.activeElement.matches({selector!r})")


def live_text(page) -> str:
    page.wait_for_function(
        "() => (document.getElementById('bo-live-status')?.textContent || '')"
        " + (document.getElementById('bo-live-alert')?.textContent || '')"
    )
    return page.evaluate(
        "document.getElementById('bo-live-status').textContent + ' '"
        " + document.getElementById('bo-live-alert').textContent"
    )


def focus_is_clear(page) -> bool:
    """Nothing sticky covers what has focus (2.4.11)."""
    return page.evaluate("""() => {
      const focus = document.activeElement;
      if (!focus || focus === document.body) return true;  // Tab went past the last stop
      const r = focus.getBoundingClientRect();
      const bars = '#changelist-actions-wrapper, #submit-row, .submit-row, [class*=sticky]';
      for (const el of document.querySelectorAll(bars)) {
        const s = getComputedStyle(el);
        if (s.position !== 'sticky' && s.position !== 'fixed') continue;
        if (el.contains(document.activeElement)) continue;
        const b = el.getBoundingClientRect();
        const over = r.bottom > b.top && r.top < b.bottom && r.right > b.left && r.left < b.right;
        if (b.height && over) return false;
      }
      return true;
    }""")


def test_by_keyboard_alone_staff_quote_a_trade_in_and_receive_the_device(
    desktop, make_trade_in, staff, drain
):
    trade_in = make_trade_in(State.SUBMITTED)
    login(desktop, "staff")
    desktop.keyboard.press("Tab")
    assert desktop.evaluate(FOCUSED) == "Skip to main content"  # first stop on every page
    tab_to(desktop, named("Trade-ins queue"))
    desktop.keyboard.press("Enter")
    desktop.wait_for_url("**/trade-ins/")
    tab_to(desktop, named(trade_in.reference))
    assert focus_is_clear(desktop)
    desktop.keyboard.press("Enter")
    desktop.wait_for_url(f"**/trade-ins/{trade_in.pk}/change/")

    # The offer field, named by its own label (the two notes no longer share an id).
    tab_to(desktop, focused("input[name=amount]"))
    assert focus_is_clear(desktop)
    desktop.keyboard.press("Control+A")
    desktop.keyboard.type("410")
    tab_to(desktop, focused("textarea[name=note]"))
    label = desktop.evaluate("document.activeElement.labels[0].textContent.trim()")
    assert label == "Note to the buyer"
    assert focus_is_clear(desktop)
    desktop.keyboard.type("Thanks for choosing us")
    tab_to(desktop, named("Send Quote"))
    desktop.keyboard.press("Enter")
    desktop.wait_for_load_state()
    assert "Quote sent to the buyer." in live_text(desktop)
    trade_in = refresh(trade_in)
    assert trade_in.state == State.QUOTED and trade_in.latest_quote().amount == 410

    actions.trade_in_accept(quote=trade_in.latest_quote(), declaration=declared())
    drain()
    tab_to(desktop, named("Intake bench"))
    desktop.keyboard.press("Enter")
    desktop.wait_for_url("**/intake/")
    assert desktop.evaluate("document.activeElement.name") == "imei"  # ready for the scanner
    desktop.keyboard.type(trade_in.imei)
    desktop.keyboard.press("Enter")
    desktop.wait_for_selector("#intake-match")
    # The match puts focus on its first control, not 23 Tabs away.
    assert desktop.evaluate("document.activeElement.closest('#checklist') !== null")
    tab_to(desktop, focused("input[name=grade]"))
    while desktop.evaluate("document.activeElement.value") != "B":
        desktop.keyboard.press("ArrowDown")
    tab_to(desktop, named("Receive as disclosed"))
    desktop.keyboard.press("Enter")
    desktop.wait_for_load_state()
    assert "received, grade B" in live_text(desktop)
    trade_in = refresh(trade_in)
    assert trade_in.state == State.RECEIVED and trade_in.unit.grade == "B"


def test_a_refused_send_quote_marks_the_offer_links_its_message_and_keeps_the_typing(
    desktop, make_trade_in, staff
):
    trade_in = make_trade_in(State.SUBMITTED)
    login(desktop, "staff")
    desktop.goto(f"/dashboard/trade-ins/{trade_in.pk}/change/")
    desktop.evaluate("document.querySelector('form[data-quote-form]').noValidate = true")
    desktop.fill("input[name=amount]", "")
    desktop.fill("textarea[name=note]", "See you at the counter")
    desktop.click("button:has-text('Send Quote')")
    desktop.wait_for_load_state()
    offer = desktop.locator("form[data-quote-form] input[name=amount]")
    assert offer.get_attribute("aria-invalid") == "true"
    message_id = offer.get_attribute("aria-describedby").split()[-1]
    assert "required" in desktop.inner_text(f"#{message_id}")
    assert offer.evaluate("el => el === document.activeElement")
    assert offer.input_value() == ""  # not replaced by the suggested offer
    note = desktop.locator("form[data-quote-form] textarea[name=note]")
    assert note.input_value() == "See you at the counter"
    assert "required" in live_text(desktop)
    assert refresh(trade_in).state == State.SUBMITTED


TOO_WIDE = """() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .slice(0, 8).map(el => el.tagName + '#' + el.id + '.' + el.className)"""


@pytest.fixture
def zoomed(chromium, site):
    """A 1440×900 screen at 200%: 720×450 CSS pixels."""
    context = chromium.new_context(
        viewport={"width": 720, "height": 450}, device_scale_factor=2, base_url=site
    )
    page = context.new_page()
    yield page
    context.close()


def test_at_200_percent_the_intake_bench_is_reached_from_the_queue_by_keyboard(
    zoomed, make_trade_in, staff
):
    quoted = make_trade_in(State.QUOTED)
    login(zoomed, "staff")
    zoomed.goto(f"/dashboard/trade-ins/{quoted.pk}/change/")
    assert not scrolls_sideways(zoomed), zoomed.evaluate(TOO_WIDE)
    zoomed.goto("/dashboard/trade-ins/")
    assert not scrolls_sideways(zoomed)
    tab_to(zoomed, named("Filters"))  # a button now, not an <a> without href
    assert zoomed.evaluate("document.activeElement.getAttribute('aria-expanded')") == "false"
    tab_to(zoomed, named("Navigation"), back=True)
    button = zoomed.evaluate("document.activeElement.tagName")
    assert button == "BUTTON"
    assert zoomed.evaluate("document.activeElement.getAttribute('aria-expanded')") == "false"
    zoomed.keyboard.press("Enter")
    zoomed.wait_for_function("document.activeElement.closest('#nav-sidebar') !== null")
    # Escape closes it again, focus back on its button; Enter opens it once more.
    zoomed.keyboard.press("Escape")
    zoomed.wait_for_function("document.activeElement.getAttribute('aria-expanded') === 'false'")
    assert zoomed.evaluate(FOCUSED) == "Navigation"
    zoomed.keyboard.press("Enter")
    zoomed.wait_for_function("document.activeElement.closest('#nav-sidebar') !== null")
    tab_to(zoomed, named("Intake bench"))
    screenshot(zoomed, "staff-zoomed-navigation")
    zoomed.keyboard.press("Enter")
    zoomed.wait_for_url("**/intake/")
    assert zoomed.evaluate("document.activeElement.name") == "imei"
    assert not scrolls_sideways(zoomed)


def test_focus_is_never_hidden_under_the_sticky_bars(desktop, make_trade_in, staff):
    for _ in range(20):
        make_trade_in(State.SUBMITTED)
    trade_in = make_trade_in(State.ACCEPTED)
    login(desktop, "staff")
    for url in ("/dashboard/trade-ins/", f"/dashboard/trade-ins/{trade_in.pk}/change/"):
        desktop.goto(url)
        hidden = []
        for _ in range(60):
            desktop.keyboard.press("Tab")
            if not focus_is_clear(desktop):
                hidden.append(
                    desktop.evaluate(FOCUSED) or desktop.evaluate("document.activeElement.name")
                )
        assert hidden == [], url


def test_an_intake_refusal_is_read_out(desktop, make_trade_in, staff):
    submitted = make_trade_in(State.SUBMITTED)
    login(desktop, "staff")
    desktop.goto("/dashboard/intake/")
    desktop.keyboard.type(submitted.imei)
    desktop.keyboard.press("Enter")
    desktop.wait_for_selector("#intake-message")
    assert desktop.inner_text("#intake-message").strip() in live_text(desktop)


def test_a_collapsed_sidebar_group_opens_by_keyboard(desktop, admin_user):
    login(desktop, "admin")
    tab_to(desktop, named("Compliance"))
    assert desktop.evaluate("document.activeElement.tagName") == "BUTTON"
    assert desktop.evaluate("document.activeElement.getAttribute('aria-expanded')") == "false"
    desktop.keyboard.press("Enter")
    desktop.wait_for_function("document.activeElement.getAttribute('aria-expanded') === 'true'")
    tab_to(desktop, named("Police reports"))
    desktop.keyboard.press("Enter")
    desktop.wait_for_url("**/policereport/")
