"""Issue 18: the records a dealer's licence rests on. The seller's ID and declaration are
append-only (a correction is a new version, by a manager, with a reason); retention keeps what
is still owed or unreported; the police report lists what the shop bought and corrects it."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from tests.helpers import declared, refresh, staff_client
from tests.test_compliance import an_id, events, intake
from workflows import actions, crypto
from workflows.actions import BUYER
from workflows.errors import InvalidInput, TransitionRefused
from workflows.models import (
    Declaration,
    EventKind,
    IdNumberAccess,
    PoliceReport,
    PoliceReportRow,
    PoliceReportStatus,
    SellerIdentity,
    State,
    TradeIn,
)
from workflows.rules import compliance
from workflows.tasks.compliance import anonymise_expired_records, send_police_reports

PASSPORT = "P1234 5678"


def _in_two_years() -> str:
    today = timezone.localdate()
    return today.replace(year=today.year + 2).isoformat()


def _posted_id(**overrides) -> dict:
    return {
        "id_type": "state_id",
        "id_number": "X0000",
        "issuer": "Nowhere",
        "birth_date": "1990-04-23",
        "expires_on": _in_two_years(),
        **overrides,
    }


def _buyer_recorded_and_received(make_trade_in, staff) -> TradeIn:
    trade_in = make_trade_in(State.ACCEPTED)
    actions.seller_identity_record(
        trade_in=trade_in,
        actor=BUYER,
        data=an_id(id_type="passport", id_number=PASSPORT, issuer="Canada"),
        ip="198.51.100.7",
    )
    intake(trade_in, staff, "B")
    trade_in = refresh(trade_in)
    assert trade_in.state == State.RECEIVED
    return trade_in


# --- 1. the seller's ID and the declaration are append-only ------------------------------------
def test_staff_cannot_overwrite_a_recorded_id_and_a_managers_correction_keeps_both_versions(
    make_trade_in, staff, manager
):
    trade_in = _buyer_recorded_and_received(make_trade_in, staff)
    url = reverse("admin:tradein_compliance", args=[trade_in.pk, "identity"])

    # The attack: staff POST another ID over the passport the buyer recorded.
    page = staff_client(staff).post(url, _posted_id(), follow=True).content.decode()
    assert "only a manager can correct it" in page
    (original,) = SellerIdentity.objects.filter(trade_in=trade_in)
    assert crypto.decrypt(original.id_number_encrypted) == PASSPORT
    assert original.issuer == "Canada" and original.captured_via == "buyer"
    assert not events(trade_in, EventKind.IDENTITY_CORRECTED)
    # Nor called directly: recording again, or correcting without a manager's permission.
    with pytest.raises(TransitionRefused, match="only a manager"):
        actions.seller_identity_record(trade_in=trade_in, actor=staff, data=an_id())
    with pytest.raises(TransitionRefused, match="only a manager"):
        actions.seller_identity_correct(trade_in=trade_in, actor=staff, data=an_id(), reason="typo")
    assert SellerIdentity.objects.filter(trade_in=trade_in).count() == 1

    # A manager corrects it, only with a written reason: a new version.
    office = staff_client(manager)
    fixed = _posted_id(id_type="passport", id_number="P1234 5679", issuer="Canada")
    no_reason = office.post(url, fixed)
    assert no_reason.status_code == 400
    assert SellerIdentity.objects.filter(trade_in=trade_in).count() == 1
    office.post(url, {**fixed, "reason": "Last digit mistyped; checked the passport"})
    old, new = SellerIdentity.objects.filter(trade_in=trade_in).order_by("version")
    assert (old.version, new.version) == (1, 2)
    assert crypto.decrypt(old.id_number_encrypted) == PASSPORT
    assert crypto.decrypt(new.id_number_encrypted) == "P1234 5679"
    assert new.captured_by == manager and "mistyped" in new.correction_reason
    assert compliance.identity_of(trade_in) == new

    # Both on the timeline: who, the reason, masked old → new.
    (recorded,) = events(trade_in, EventKind.IDENTITY_RECORDED)
    assert recorded.actor_label == "buyer" and "•••• 5678" in recorded.note
    (corrected,) = events(trade_in, EventKind.IDENTITY_CORRECTED)
    assert corrected.actor == manager
    assert "•••• 5678" in corrected.note and "•••• 5679" in corrected.note
    assert "mistyped" in corrected.note and PASSPORT not in corrected.note

    # The earlier version stays revealable, with an audit row.
    page = office.get(reverse("admin:workflows_tradein_change", args=[trade_in.pk]))
    assert "Earlier versions" in page.content.decode()
    reveal = office.post(
        reverse("admin:tradein_compliance", args=[trade_in.pk, "reveal"]),
        {"purpose": "Police asked for the original entry", "version": "1"},
    )
    assert PASSPORT in reveal.content.decode()
    access = IdNumberAccess.objects.get(identity=old)
    assert access.actor == manager and "original entry" in access.purpose


def test_the_current_version_is_the_one_reported_and_erasure_covers_every_version(
    make_trade_in, staff, manager, drain, settings, tmp_path
):
    settings.POLICE_REPORT, settings.POLICE_REPORT_DIR = "folder", tmp_path
    settings.POLICE_REPORT_EVERY_HOURS, settings.HOLD_DAYS = 0, 0
    trade_in = _buyer_recorded_and_received(make_trade_in, staff)
    actions.seller_identity_correct(
        trade_in=trade_in,
        actor=manager,
        data=an_id(id_type="passport", id_number="P1234 5679", issuer="Canada"),
        reason="Last digit mistyped",
    )
    assert compliance.identity_missing(trade_in, "payout") == ""
    send_police_reports()
    drain()
    (row,) = csv.DictReader(io.StringIO(next(tmp_path.glob("*.csv")).read_text()))
    assert row["id_number"] == "P1234 5679"
    actions.payout_settle_check(
        payout=refresh(trade_in).payout, actor=manager, check_number="5", check_date=date.today()
    )
    settings.RETENTION_DAYS = 30
    past = timezone.now() - timedelta(days=31)
    TradeIn.objects.filter(pk=trade_in.pk).update(received_at=past, updated_at=past)
    assert anonymise_expired_records() == 1
    for version in SellerIdentity.objects.filter(trade_in=trade_in):
        assert version.id_number_encrypted == "" and version.anonymised_at is not None


def test_a_declaration_or_an_id_row_is_never_changed_or_deleted(make_trade_in, staff):
    trade_in = make_trade_in(State.ACCEPTED)
    declaration = Declaration.objects.get(trade_in=trade_in)
    declaration.wording = "Something else"
    with pytest.raises(ValueError, match="append-only"):
        declaration.save()
    with pytest.raises(ValueError, match="append-only"):
        declaration.delete()
    with pytest.raises(ValueError, match="append-only"):
        Declaration.objects.filter(trade_in=trade_in).delete()
    assert refresh(declaration).wording != "Something else"
    identity = actions.seller_identity_record(trade_in=trade_in, actor=staff, data=an_id())
    identity.issuer = "Nowhere"
    with pytest.raises(ValueError, match="append-only"):
        identity.save()
    with pytest.raises(ValueError, match="append-only"):
        identity.delete()
    # No admin page edits or deletes either.
    assert Declaration not in admin.site._registry
    assert SellerIdentity not in admin.site._registry
    # A new acceptance (a revised offer accepted) adds a declaration; none is replaced.
    assert Declaration.objects.filter(trade_in=trade_in).count() == 1


def test_a_refused_id_at_the_counter_comes_back_with_everything_typed(make_trade_in, staff):
    trade_in = make_trade_in(State.ACCEPTED)
    typed = _posted_id(
        id_type="passport", id_number="K9988-7766", issuer="Ontario", expires_on="2021-06-30"
    )
    response = staff_client(staff).post(
        reverse("admin:tradein_compliance", args=[trade_in.pk, "identity"]), typed
    )
    assert response.status_code == 400
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "This ID expired on 2021-06-30" in html
    for value in ("K9988-7766", "Ontario", "1990-04-23", "2021-06-30"):
        assert f'value="{value}"' in html, value
    assert 'value="passport" selected' in html or '"passport" selected' in html
    assert not SellerIdentity.objects.exists()


# --- 2. retention keeps what is owed or unreported ---------------------------------------------
def test_retention_keeps_a_purchase_still_owed_or_unreported_and_it_stays_in_the_report(
    make_trade_in, staff, manager, drain, settings, tmp_path
):
    settings.POLICE_REPORT, settings.POLICE_REPORT_DIR = "folder", tmp_path
    settings.POLICE_REPORT_EVERY_HOURS, settings.HOLD_DAYS = 0, 0
    settings.RETENTION_DAYS = 365
    owed = make_trade_in(State.ACCEPTED)  # a check payout, still pending
    actions.seller_identity_record(trade_in=owed, actor=staff, data=an_id())
    intake(owed, staff, "B")
    paid = make_trade_in(State.CLOSED)  # paid, but its police report not delivered yet
    past = timezone.now() - timedelta(days=400)
    TradeIn.objects.filter(pk__in=[owed.pk, paid.pk]).update(received_at=past, updated_at=past)

    assert anonymise_expired_records() == 0
    owed, paid = refresh(owed), refresh(paid)
    assert owed.anonymised_at is None and owed.buyer_name == "Ada Buyer"
    assert owed.payout.status == "pending" and owed.address_line1
    assert crypto.decrypt(compliance.identity_of(owed).id_number_encrypted)
    assert paid.anonymised_at is None
    assert compliance.erasure_blocker(owed).kind == compliance.KeptBecause.PAYOUT_OWED
    assert compliance.erasure_blocker(paid).kind == compliance.KeptBecause.POLICE_REPORT
    with pytest.raises(TransitionRefused, match="still owed money"):
        actions.trade_in_anonymise_expired(trade_in=owed)
    refused = staff_client(manager).post(
        reverse("admin:tradein_compliance", args=[owed.pk, "erase"]),
        {"reason": "Email of 3 May"},
        follow=True,
    )
    assert "still owed money" in refused.content.decode()
    assert refresh(owed).anonymised_at is None

    # The dashboard says how many wait, and why.
    home = staff_client(manager).get(reverse("admin:index")).content.decode()
    assert "Past retention, kept: 1 payout owed, 1 police report not delivered" in home

    # Both still go to the police, with the seller's name and ID.
    assert send_police_reports() == 2
    drain()
    rows = list(csv.DictReader(io.StringIO(next(tmp_path.glob("*.csv")).read_text())))
    assert {r["reference"] for r in rows} == {owed.reference, paid.reference}
    assert all(r["seller_name"] == "Ada Buyer" for r in rows)

    # Once paid and reported, the next sweep erases both.
    actions.payout_settle_check(
        payout=owed.payout, actor=manager, check_number="9", check_date=date.today()
    )
    TradeIn.objects.filter(pk=owed.pk).update(updated_at=past)
    assert anonymise_expired_records() == 2
    assert compliance.past_retention_kept() == {}


def test_an_open_return_case_keeps_the_record(make_trade_in, settings):
    settings.RETENTION_DAYS, settings.HOLD_DAYS = 30, 0
    rerouted = make_trade_in(State.REROUTED)
    past = timezone.now() - timedelta(days=40)
    TradeIn.objects.filter(pk=rerouted.pk).update(received_at=past, updated_at=past)
    blocker = compliance.erasure_blocker(refresh(rerouted))
    assert blocker is not None and blocker.kind == compliance.KeptBecause.RETURN_OPEN
    assert anonymise_expired_records() == 0


# --- 3. the police report lists what the shop bought --------------------------------------------
def _csv(report: PoliceReport, folder) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((folder / report.filename).read_text())))


def test_a_device_returned_after_a_revised_offer_is_not_in_the_batch_nor_the_daily_csv(
    make_trade_in, staff, manager, drain, settings, tmp_path
):
    settings.POLICE_REPORT, settings.POLICE_REPORT_DIR = "folder", tmp_path
    settings.POLICE_REPORT_EVERY_HOURS = 0
    returned = make_trade_in(State.RETURNED)  # the buyer chose "send my device back"
    bought = make_trade_in(State.RECEIVED)
    assert send_police_reports() == 1
    drain()
    report = PoliceReport.objects.get()
    assert [r["reference"] for r in _csv(report, tmp_path)] == [bought.reference]
    assert refresh(returned).police_report is None
    assert not compliance.purchases_due_for_report().exists()
    daily = staff_client(manager).get(
        reverse("admin:police_daily_export"), {"day": timezone.localdate().isoformat()}
    )
    rows = list(csv.DictReader(io.StringIO(daily.content.decode())))
    assert [(r["reference"], r["row_type"], r["grade"]) for r in rows] == [
        (bought.reference, "purchase", "B")
    ]
    assert send_police_reports() == 0


def test_a_device_that_leaves_or_changes_price_after_its_report_gets_a_correction_row(
    make_trade_in, staff, drain, settings, tmp_path
):
    settings.POLICE_REPORT, settings.POLICE_REPORT_DIR = "folder", tmp_path
    settings.POLICE_REPORT_EVERY_HOURS = 0
    waiting = make_trade_in(State.REOFFERED)  # the shop holds it; the buyer has not answered
    repriced = make_trade_in(State.RECEIVED)
    assert send_police_reports() == 2
    drain()
    first = PoliceReport.objects.get()
    assert first.status == PoliceReportStatus.SENT
    assert {(r["reference"], r["price"]) for r in _csv(first, tmp_path)} == {
        (waiting.reference, "300.00"),
        (repriced.reference, "300.00"),
    }

    # After delivery: one goes back to its seller, the other is bought for less.
    actions.revised_offer_decline(offer=waiting.revised_offers.get())
    offer = actions.revised_offer_send(
        trade_in=repriced, actor=staff, amount="120.00", grade="C", note="Battery fails"
    )
    actions.revised_offer_accept(offer=offer, declaration=declared())
    drain()
    later = make_trade_in(State.RECEIVED)

    assert send_police_reports() == 3
    drain()
    second = PoliceReport.objects.exclude(pk=first.pk).get()
    rows = {r["reference"]: r for r in _csv(second, tmp_path)}
    assert rows[later.reference]["row_type"] == "purchase"
    assert rows[waiting.reference]["row_type"] == "correction"
    assert rows[waiting.reference]["price"] == ""
    assert "no longer bought: returned to buyer" in rows[waiting.reference]["change"]
    assert rows[repriced.reference]["row_type"] == "correction"
    assert rows[repriced.reference]["price"] == "120.00"
    assert rows[repriced.reference]["grade"] == "C"
    assert "amount 300.00 → 120.00" in rows[repriced.reference]["change"]
    assert events(waiting, EventKind.POLICE_CORRECTION)
    # The first batch's rows are as they were; nothing more to correct.
    assert PoliceReportRow.objects.filter(report=first).count() == 2
    assert all(r.kind == "purchase" for r in PoliceReportRow.objects.filter(report=first))
    assert send_police_reports() == 0
    with pytest.raises(ValueError, match="append-only"):
        PoliceReportRow.objects.first().save()


def test_the_reason_is_required_for_a_correction(make_trade_in, staff, manager):
    trade_in = make_trade_in(State.ACCEPTED)
    actions.seller_identity_record(trade_in=trade_in, actor=staff, data=an_id())
    with pytest.raises(InvalidInput, match="Say why"):
        actions.seller_identity_correct(trade_in=trade_in, actor=manager, data=an_id(), reason=" ")


def test_an_id_corrected_after_the_report_goes_to_the_police_as_a_correction(
    make_trade_in, staff, manager, drain, settings, tmp_path
):
    settings.POLICE_REPORT, settings.POLICE_REPORT_DIR = "folder", tmp_path
    settings.POLICE_REPORT_EVERY_HOURS = 0
    trade_in = _buyer_recorded_and_received(make_trade_in, staff)
    send_police_reports()
    drain()
    first = PoliceReport.objects.get()
    assert _csv(first, tmp_path)[0]["id_number"] == PASSPORT
    assert send_police_reports() == 0
    actions.seller_identity_correct(
        trade_in=trade_in,
        actor=manager,
        data=an_id(id_type="passport", id_number="P1234 5679", issuer="Canada"),
        reason="Last digit mistyped",
    )
    assert send_police_reports() == 1
    drain()
    (row,) = _csv(PoliceReport.objects.exclude(pk=first.pk).get(), tmp_path)
    assert row["row_type"] == "correction" and row["id_number"] == "P1234 5679"
    assert "seller's ID corrected" in row["change"] and row["price"] == "300.00"
    assert send_police_reports() == 0
