"""The staff UI offers exactly the transitions this user may take, and never deletes money."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.helpers import refresh, staff_client, workflow
from workflows.models import EventKind, State


def detail(client, trade_in) -> str:
    return client.get(
        reverse("admin:workflows_tradein_change", args=[trade_in.pk])
    ).content.decode()


@pytest.mark.parametrize(
    ("state", "shown", "hidden"),
    [
        (State.SUBMITTED, ["Send Quote", "Decline…"], ["Cancel trade-in", "Receive at the intake"]),
        (State.QUOTED, ["Send a counter-quote", "Decline…"], ["Cancel trade-in"]),
        (
            State.ACCEPTED,
            ["Receive at the intake bench", "Cancel trade-in"],
            ["Send Quote", "Decline…"],
        ),
        (State.RECEIVED, ["Reroute and decline payout"], ["Send Quote", "Cancel trade-in"]),
        (State.DECLINED, ["Send Quote"], ["Decline…", "Cancel trade-in"]),
        (State.EXPIRED, ["Send a counter-quote"], ["Decline…", "Cancel trade-in"]),
        (State.CLOSED, ["Nothing for you to do here now"], ["Send Quote", "Reroute"]),
    ],
)
def test_the_detail_offers_only_the_transitions_allowed_now(
    make_trade_in, staff, state, shown, hidden
):
    page = detail(staff_client(staff), make_trade_in(state))
    for text in shown:
        assert text in page, text
    for text in hidden:
        assert text not in page, text


def test_the_queue_lists_open_work_first_with_the_red_flag_visible(make_trade_in, staff):
    closed = make_trade_in(State.CLOSED)
    flagged = make_trade_in(State.SUBMITTED, flagged=True)
    page = staff_client(staff).get("/dashboard/trade-ins/", {"view": "all"}).content.decode()
    assert "RED FLAG" in page
    assert page.index(flagged.reference) < page.index(closed.reference)


def test_the_queue_searches_by_reference_imei_email_and_name(make_trade_in, staff):
    one = make_trade_in(State.SUBMITTED, buyer_name="Zed Quinn", buyer_email="zed@q.example")
    other = make_trade_in(State.SUBMITTED)
    client = staff_client(staff)
    for term in (one.reference, one.imei, "zed@q.example", "Quinn"):
        page = client.get("/dashboard/trade-ins/", {"q": term}).content.decode()
        assert one.reference in page and other.reference not in page, term


def test_a_refused_transition_is_a_message_and_changes_nothing(make_trade_in, staff):
    trade_in = make_trade_in(State.CLOSED)
    response = workflow(staff_client(staff), trade_in, "decline", reason="late")
    assert "cannot do that" in response.content.decode()
    assert refresh(trade_in).state == State.CLOSED


def test_workflow_urls_act_only_on_post(make_trade_in, staff):
    trade_in = make_trade_in(State.SUBMITTED)
    url = reverse("admin:workflows_tradein_workflow", args=[trade_in.pk, "decline"])
    assert staff_client(staff).get(url).status_code == 405


def test_trade_ins_and_payouts_cannot_be_deleted(make_trade_in, admin_user):
    trade_in = make_trade_in(State.ACCEPTED)
    client = staff_client(admin_user)
    for url in (
        reverse("admin:workflows_tradein_delete", args=[trade_in.pk]),
        reverse("admin:workflows_payout_delete", args=[trade_in.payout.pk]),
    ):
        assert client.post(url, {"post": "yes"}).status_code == 403
    assert refresh(trade_in).state == State.ACCEPTED


def test_anonymous_users_are_sent_to_login(client, db):
    for url in ("/dashboard/trade-ins/", "/dashboard/intake/", "/dashboard/"):
        response = client.get(url)
        assert response.status_code == 302 and "/dashboard/login/" in response["Location"]


def test_every_admin_page_renders(make_trade_in, admin_user):
    trade_in = make_trade_in(State.REROUTED)
    client = staff_client(admin_user)
    urls = [
        "/dashboard/",
        "/dashboard/trade-ins/",
        "/dashboard/intake/",
        "/dashboard/payouts/",
        "/dashboard/returns/",
        "/dashboard/products/",
        "/dashboard/units/",
        reverse("admin:workflows_tradein_change", args=[trade_in.pk]),
        reverse("admin:workflows_payout_change", args=[trade_in.payout.pk]),
        reverse("admin:workflows_returncase_change", args=[trade_in.return_case.pk]),
        reverse("admin:workflows_product_change", args=[trade_in.product_id]),
        reverse("admin:workflows_unit_change", args=[trade_in.unit.pk]),
    ]
    for name in (
        "devicemodel",
        "make",
        "conditiondeduction",
        "blockedimei",
        "sideeffect",
        "shippinglabel",
        "imeicheck",
        "storecredit",
    ):
        urls.append(reverse(f"admin:workflows_{name}_changelist"))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url


def test_the_queue_filters_by_make_state_and_red_flag(make_trade_in, staff):
    from tests.factories import DeviceModelFactory, MakeFactory, ProductFactory

    apple = make_trade_in(State.SUBMITTED)
    pixel = ProductFactory(
        device_model=DeviceModelFactory(
            make=MakeFactory(name="Google", slug="google"), name="Pixel 9", slug="pixel-9"
        )
    )
    google = make_trade_in(State.QUOTED, product=pixel)
    flagged = make_trade_in(State.SUBMITTED, flagged=True)
    client = staff_client(staff)

    def listed(**params) -> set[str]:
        page = client.get("/dashboard/trade-ins/", params).content.decode()
        return {t.reference for t in (apple, google, flagged) if t.reference in page}

    assert listed(make="google") == {google.reference}
    assert listed(state__exact="submitted") == {apple.reference, flagged.reference}
    assert listed(imei="flagged") == {flagged.reference}


def test_the_offer_field_accepts_whole_and_cent_amounts(make_trade_in, staff):
    # A step of 1 from a minimum of 0.01 made the browser refuse "410" (found in Chromium).
    page = detail(staff_client(staff), make_trade_in(State.SUBMITTED))
    assert (
        'step="0.01"' in page.split('name="amount"')[1].split(">")[0]
        or 'step="0.01"' in page.split('name="amount"')[0].rsplit("<input", 1)[1]
    )


def test_a_received_trade_in_points_managers_to_the_payout(make_trade_in, staff, manager):
    trade_in = make_trade_in(State.RECEIVED)
    assert "Settle the payout" in detail(staff_client(manager), trade_in)
    staff_page = detail(staff_client(staff), trade_in)
    assert "Settle the payout" not in staff_page
    # Staff are told where the payout stands and whose job settling is, not shown nothing.
    assert f"Payout of ${trade_in.payout.amount}: Pending." in staff_page
    assert "Settling it is a manager's job: ask a manager." in staff_page


def test_the_queue_query_count_does_not_grow_with_the_rows(make_trade_in, staff):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = staff_client(staff)
    make_trade_in(State.SUBMITTED)
    with CaptureQueriesContext(connection) as few:
        client.get("/dashboard/trade-ins/")
    for state in (State.QUOTED, State.ACCEPTED, State.RECEIVED, State.CLOSED, State.DECLINED):
        make_trade_in(state)
    with CaptureQueriesContext(connection) as more:
        client.get("/dashboard/trade-ins/")
    assert len(more) == len(few) <= 12


def test_staff_edits_land_on_the_timeline_with_their_actor(make_trade_in, staff):
    from workflows.actions.corrections import EDITABLE_DETAILS
    from workflows.models import Event

    trade_in = make_trade_in(State.QUOTED)  # after acceptance: tests/test_payout_details.py
    client = staff_client(staff)
    url = reverse("admin:workflows_tradein_change", args=[trade_in.pk])
    data = {name: getattr(trade_in, name) for name in EDITABLE_DETAILS}
    data.update({"address_line1": "2 Second Ave", "postcode": "60602"})
    for prefix in ("quotes", "revised_offers", "events"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    response = client.post(url, data, follow=True)
    assert "Buyer details saved" in response.content.decode()
    trade_in = refresh(trade_in)
    assert (trade_in.address_line1, trade_in.postcode) == ("2 Second Ave", "60602")
    event = Event.objects.get(trade_in=trade_in, kind=EventKind.DETAILS_CHANGED)
    assert event.actor == staff
    assert "Address line 1: 1 Main St → 2 Second Ave" in event.note
    assert "Postcode: 60601 → 60602" in event.note


def test_a_regrade_lands_on_the_timeline(make_trade_in, staff):
    from workflows.models import Event

    trade_in = make_trade_in(State.RECEIVED)
    client = staff_client(staff)
    client.post(
        reverse("admin:workflows_unit_change", args=[trade_in.unit.pk]),
        {"grade": "C", "intake_notes": "Scuff on the frame"},
    )
    assert refresh(trade_in.unit).grade == "C"
    assert Event.objects.get(trade_in=trade_in, kind=EventKind.REGRADED).actor == staff


@pytest.mark.parametrize("term", ["\x00", "TI\x00", "%00"])
def test_the_queue_search_survives_nul_bytes(make_trade_in, staff, term):
    make_trade_in(State.SUBMITTED)
    response = staff_client(staff).get("/dashboard/trade-ins/", {"q": term})
    if "\x00" in term:  # refused for every URL with a message (backoffice.middleware)
        assert response.status_code == 400 and b"NUL character" in response.content
    else:
        assert response.status_code == 200


def test_the_queue_counts_exactly_when_filtered_or_small(make_trade_in, staff):
    from backoffice.paginator import EstimatedCountPaginator
    from workflows.models import TradeIn

    make_trade_in(State.SUBMITTED)
    make_trade_in(State.QUOTED)
    assert EstimatedCountPaginator(TradeIn.objects.order_by("pk"), 50).count == 2
    filtered = TradeIn.objects.filter(state=State.QUOTED).order_by("pk")
    assert EstimatedCountPaginator(filtered, 50).count == 1
    page = staff_client(staff).get("/dashboard/trade-ins/").content.decode()
    assert "2 results" in page or "2 trade-ins" in page


def test_the_sidebar_shows_each_role_only_its_pages(staff, manager, admin_user):
    users = reverse("admin:auth_user_changelist")
    outbox = reverse("admin:workflows_sideeffect_changelist")
    queue = reverse("admin:workflows_tradein_changelist")
    pages = {
        u.username: staff_client(u).get("/dashboard/").content.decode()
        for u in (staff, manager, admin_user)
    }
    assert all(f'href="{queue}"' in page for page in pages.values())
    assert f'href="{outbox}"' not in pages["staff"] and f'href="{outbox}"' in pages["manager"]
    assert f'href="{users}"' not in pages["manager"] and f'href="{users}"' in pages["admin"]


def test_the_cached_sidebar_follows_the_badge_the_page_and_the_permissions(make_trade_in, staff):
    """The sidebar is rendered once a minute per key: a hit must draw what a fresh render
    would (backoffice/templatetags/sidebar.py)."""
    from django.contrib.auth.models import Permission

    client = staff_client(staff)
    queue = reverse("admin:workflows_tradein_changelist")
    intake = reverse("admin:intake_bench")

    def link(url: str, href: str) -> str:
        """The sidebar's <a> tag for href, on the page at url ('' when it is not there)."""
        page = client.get(url).content.decode()
        sidebar = page.split('id="nav-sidebar-apps"')[1]
        return (
            sidebar.split(f'href="{href}"')[1].split(">")[0] if f'href="{href}"' in sidebar else ""
        )

    def badge() -> str:
        import re

        page = client.get(queue).content.decode()
        found = re.search(r'min-w-\[18px\] bg-red-100[^"]*">([^<]*)<', page)
        return found.group(1) if found else ""

    assert badge() == ""
    make_trade_in(State.SUBMITTED)
    assert badge() == "1"  # same user, same page: the new count shows at once
    assert "active" in link(queue, queue) and "active" not in link(intake, queue)
    assert "active" in link(intake, intake)
    group = staff.groups.get()
    group.permissions.remove(Permission.objects.get(codename="receive_tradein"))
    assert link(queue, intake) == ""  # the bench's link goes with the permission
