"""Forms for the staff workflow. They parse input; the actions in workflows decide.

Over 400 lines: one form per panel button of the staff pages, kept together so the widgets and
field shapes stay alike."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from unfold.widgets import (
    UnfoldAdminDecimalFieldWidget,
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminRadioSelectWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminSingleDateWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
    UnfoldBooleanSwitchWidget,
)

from workflows.errors import InvalidInput
from workflows.models import Grade, PayoutMethod, Resolution
from workflows.rules.inspection import CHECKLIST, ITEMS, checklist_as_disclosed, compare


def _textarea(rows: int = 2) -> UnfoldAdminTextareaWidget:
    return UnfoldAdminTextareaWidget(attrs={"rows": rows})


def _money_field(label: str, **options) -> forms.DecimalField:
    """An amount of money, to the cent (the browser offers a decimal keypad)."""
    return forms.DecimalField(
        label=label,
        max_digits=10,
        decimal_places=2,
        widget=UnfoldAdminDecimalFieldWidget(attrs={"step": "0.01", "inputmode": "decimal"}),
        **options,
    )


class QuoteForm(forms.Form):
    amount = _money_field(label=_("Offer"), min_value=Decimal("0.01"))
    valid_days = forms.IntegerField(
        label=_("Valid for (days)"),
        min_value=1,
        max_value=90,
        initial=lambda: settings.QUOTE_VALID_DAYS,
        widget=UnfoldAdminIntegerFieldWidget,
    )
    note = forms.CharField(
        label=_("Note to the buyer"),
        required=False,
        max_length=1000,
        widget=_textarea(),
    )
    override_reason = forms.CharField(
        label=_("Manager override: why quote a red-flagged device?"),
        required=False,
        max_length=1000,
        widget=_textarea(),
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # The amount the "yes, send it" was asked for: a yes counts for that amount only (the
    # quote action compares), and the page hides the box once another amount is typed.
    confirmed_amount = forms.DecimalField(
        required=False, max_digits=10, decimal_places=2, widget=forms.HiddenInput
    )

    def __init__(self, *args, confirm_reason: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if confirm_reason:
            # The quote action asked for a second yes: the person ticks it, knowing why.
            self.fields["confirmed"] = forms.BooleanField(
                label=_("Yes, send it: %(reason)s") % {"reason": confirm_reason},
                required=False,
                widget=UnfoldBooleanSwitchWidget(attrs={"data-confirm-offer": ""}),
            )

    def confirmed_for(self) -> Decimal | None:
        """The amount the person said yes to, if they ticked the box."""
        data = self.cleaned_data
        return data.get("confirmed_amount") if data.get("confirmed") else None


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Internal note (staff only)"), max_length=2000, widget=_textarea(2)
    )


class ResendForm(forms.Form):
    email = forms.IntegerField(widget=forms.HiddenInput)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=1000, widget=_textarea())


class IntakeScanForm(forms.Form):
    imei = forms.CharField(
        label=_("Scan or type the IMEI"),
        max_length=40,
        widget=UnfoldAdminTextInputWidget(
            attrs={
                # Selected on focus by intake.js: the next scan replaces what is there.
                "autofocus": True,
                "inputmode": "numeric",
                "autocomplete": "off",
                "placeholder": "15 digits, then Enter",
            }
        ),
    )


class ReferenceSearchForm(forms.Form):
    ref = forms.RegexField(
        label=_("Search by reference instead"),
        regex=r"^\s*[A-Za-z]{2}-?\d{1,10}\s*$",
        max_length=20,
        error_messages={"invalid": _("A reference looks like TI-000123.")},
    )

    def reference(self) -> str:
        raw = self.cleaned_data["ref"].strip().upper().replace("-", "")
        return f"{raw[:2]}-{raw[2:]}"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Zero or more photos; workflows.rules.photos decides what a photo is."""

    widget = MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"})

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data, initial=None) -> list:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(PhotosField, self).clean(f, initial) for f in files]


OUTCOMES = [
    ("grade", _("As disclosed (or close enough): grade it at the accepted offer")),
    ("revise", _("Differs from the disclosure: send the buyer a revised offer")),
    ("reroute", _("Damaged beyond what was disclosed: reroute to Returns, decline the payout")),
]


class IntakeForm(forms.Form):
    """The intake checklist (every item required), then one outcome."""

    trade_in = forms.IntegerField(widget=forms.HiddenInput)
    scanned_imei = forms.CharField(
        label=_("IMEI scanned from the device"),
        required=False,
        max_length=40,
        widget=UnfoldAdminTextInputWidget(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    imei_note = forms.CharField(
        label=_("Manager's note, if the IMEI cannot be read or differs"),
        required=False,
        max_length=1000,
        widget=UnfoldAdminTextInputWidget,
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=OUTCOMES, required=False, widget=UnfoldAdminRadioSelectWidget
    )
    # Sent by the "Receive as disclosed" button: every checklist item the person left open is
    # found as the buyer disclosed it (powers on, no activation lock), graded at the offer.
    as_disclosed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    grade = forms.ChoiceField(
        label=_("Grade"),
        choices=Grade.choices,
        required=False,
        widget=UnfoldAdminRadioSelectWidget,
    )
    amount = _money_field(label=_("Revised offer"), required=False)
    notes = forms.CharField(
        label=_("Intake notes (the buyer sees them with a revised offer)"),
        required=False,
        max_length=2000,
        widget=_textarea(),
    )
    photos = PhotosField(label=_("Photos (optional)"))
    # Refurbishment spent at the bench (optional): each a cost entry on the unit.
    parts_cost = _money_field(label=_("Parts"), required=False)
    labour_cost = _money_field(label=_("Labour"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for item in CHECKLIST:
            self.fields[f"check_{item.key}"] = forms.ChoiceField(
                label=item.label, choices=item.choices, required=False, widget=forms.RadioSelect
            )

    def checklist_rows(self, trade_in) -> list[tuple]:
        """(item label, what the buyer disclosed, the bound radio field) per checklist item."""
        return [
            (row.label, row.disclosed, self[f"check_{row.key}"], ITEMS[row.key])
            for row in compare(trade_in, {})
        ]

    def checklist(self, trade_in) -> dict[str, str]:
        """The person's answers; with "Receive as disclosed", the disclosure for the rest.

        An answer that differs from the disclosure contradicts that button: refused, so a
        crack ticked by hand is never filed as "as disclosed"."""
        answered = {item.key: self.cleaned_data[f"check_{item.key}"] for item in CHECKLIST}
        if not self.cleaned_data["as_disclosed"]:
            return answered
        disclosed = checklist_as_disclosed(trade_in)
        differs = [
            str(ITEMS[key].label)
            for key, value in answered.items()
            if value not in ("", disclosed[key])
        ]
        if differs:
            raise InvalidInput(
                _(
                    "You found %(items)s different from what the buyer disclosed, so the device "
                    "is not as disclosed: choose the outcome and press Receive device."
                )
                % {"items": ", ".join(differs)}
            )
        return disclosed

    def clean(self) -> dict:
        data = super().clean()
        if data.get("as_disclosed"):
            if data.get("outcome") not in ("", None, "grade"):
                self.add_error(
                    "outcome",
                    _(
                        "Receive as disclosed grades the device at the accepted offer. For a "
                        "revised offer or a return, answer the checklist and press Receive device."
                    ),
                )
            data["outcome"] = "grade"
        else:
            for item in CHECKLIST:
                if not data.get(f"check_{item.key}"):
                    self.add_error(f"check_{item.key}", _("Answer this checklist item."))
            if not data.get("outcome"):
                self.add_error("outcome", _("Choose an outcome."))
        if data.get("outcome") == "reroute" and not (data.get("notes") or "").strip():
            self.add_error("notes", _("Describe the damage that was not disclosed."))
        if data.get("outcome") in ("grade", "revise") and not data.get("grade"):
            self.add_error("grade", _("Choose a grade."))
        if data.get("outcome") == "revise" and data.get("amount") is None:
            self.add_error("amount", _("Enter the revised offer."))
        return data


class RevisedOfferForm(forms.Form):
    amount = _money_field(label=_("Revised offer"))
    grade = forms.ChoiceField(
        label=_("Grade if the buyer accepts"),
        choices=Grade.choices,
        widget=UnfoldAdminSelectWidget,
    )
    note = forms.CharField(
        label=_("Note to the buyer"), required=False, max_length=2000, widget=_textarea()
    )
    photos = PhotosField(label=_("Photos (optional)"))

    def __init__(self, *args, agreed=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if agreed is None:
            return
        # The buyer already accepted a revised amount: a manager revises it with a reason.
        self.fields["reason"] = forms.CharField(
            label=_("Why the accepted %(amount)s is revised again (kept on the timeline)")
            % {"amount": agreed.amount},
            max_length=1000,
            widget=_textarea(),
        )


class CheckSettleForm(forms.Form):
    check_number = forms.CharField(
        label=_("Check number"), max_length=40, widget=UnfoldAdminTextInputWidget
    )
    check_date = forms.DateField(
        label=_("Check date"), initial=timezone.localdate, widget=UnfoldAdminSingleDateWidget
    )


class ResolveReturnForm(forms.Form):
    # A revised offer is sent from its own form; the buyer's answer resolves the case.
    resolution = forms.ChoiceField(
        label=_("Resolution"),
        choices=[
            (Resolution.RETURNED, _("Send it back to the buyer (label or pickup)")),
            (Resolution.RECYCLED, _("Recycle it (the buyer agreed)")),
        ],
        widget=UnfoldAdminRadioSelectWidget,
    )
    note = forms.CharField(
        label=_("Note for the timeline"), required=False, max_length=1000, widget=_textarea()
    )

    def __init__(self, *args, refused: frozenset[str] = frozenset(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Resolutions the police hold refuses now (workflows.rules.compliance.hold_refusal).
        field = self.fields["resolution"]
        field.choices = [c for c in field.choices if c[0] not in refused]


class RejectReturnForm(forms.Form):
    grade = forms.ChoiceField(
        label=_("Grade it goes back into stock with"),
        choices=Grade.choices,
        widget=UnfoldAdminSelectWidget,
    )
    reason = forms.CharField(
        label=_("Why the device is as disclosed after all"), max_length=1000, widget=_textarea()
    )


class StoreCreditRedeemForm(forms.Form):
    code = forms.CharField(
        label=_("Store-credit code"),
        max_length=40,
        widget=UnfoldAdminTextInputWidget(
            attrs={"autofocus": True, "autocomplete": "off", "placeholder": "SC-XXXXXXXXXX"}
        ),
    )
    amount = _money_field(label=_("Amount to redeem"), min_value=Decimal("0.01"))
    note = forms.CharField(
        label=_("Till receipt or order number"),
        required=False,
        max_length=200,
        widget=UnfoldAdminTextInputWidget,
    )


class LabelAddressForm(forms.Form):
    """The buyer's address as the carrier needs it, to fix and retry a refused label."""

    address_line1 = forms.CharField(
        label=_("Street"), max_length=120, widget=UnfoldAdminTextInputWidget
    )
    address_line2 = forms.CharField(
        label=_("Apartment, suite"),
        max_length=120,
        required=False,
        widget=UnfoldAdminTextInputWidget,
    )
    city = forms.CharField(label=_("City"), max_length=80, widget=UnfoldAdminTextInputWidget)
    region = forms.CharField(
        label=_("State / region"), max_length=80, required=False, widget=UnfoldAdminTextInputWidget
    )
    postcode = forms.CharField(
        label=_("Postcode"), max_length=20, widget=UnfoldAdminTextInputWidget
    )
    country = forms.CharField(
        label=_("Country (2 letters)"),
        min_length=2,
        max_length=2,
        widget=UnfoldAdminTextInputWidget,
    )
    buyer_phone = forms.CharField(
        label=_("Buyer's phone"), max_length=30, required=False, widget=UnfoldAdminTextInputWidget
    )


class PayoutDetailsChangeForm(forms.Form):
    """After acceptance: ask a manager to change who is paid, how or where. The action
    validates every value; this form only carries them."""

    buyer_name = forms.CharField(label=_("Name"), max_length=120, widget=UnfoldAdminTextInputWidget)
    buyer_email = forms.EmailField(
        label=_("Email"), max_length=254, widget=UnfoldAdminTextInputWidget
    )
    payout_method = forms.ChoiceField(
        label=_("Payout method"), choices=PayoutMethod.choices, widget=UnfoldAdminSelectWidget
    )
    address_line1 = forms.CharField(
        label=_("Street"), max_length=120, required=False, widget=UnfoldAdminTextInputWidget
    )
    address_line2 = forms.CharField(
        label=_("Apartment, suite"),
        max_length=120,
        required=False,
        widget=UnfoldAdminTextInputWidget,
    )
    city = forms.CharField(
        label=_("City"), max_length=80, required=False, widget=UnfoldAdminTextInputWidget
    )
    region = forms.CharField(
        label=_("State / region"), max_length=80, required=False, widget=UnfoldAdminTextInputWidget
    )
    postcode = forms.CharField(
        label=_("Postcode"), max_length=20, required=False, widget=UnfoldAdminTextInputWidget
    )
    country = forms.CharField(
        label=_("Country (2 letters)"), max_length=2, widget=UnfoldAdminTextInputWidget
    )
    reason = forms.CharField(
        label=_("Why (who asked, and how did they prove it was them?)"),
        max_length=1000,
        widget=_textarea(),
    )

    def changes(self) -> dict[str, str]:
        return {k: v for k, v in self.cleaned_data.items() if k != "reason"}


class ChangeDecisionForm(forms.Form):
    change = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note"), max_length=1000, required=False, widget=_textarea())
