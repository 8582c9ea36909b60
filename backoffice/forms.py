"""Forms for the staff workflow. They parse input; the actions in workflows decide."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_ratelimit.core import is_ratelimited
from unfold.forms import AuthenticationForm
from unfold.widgets import (
    UnfoldAdminCheckboxSelectMultipleWidget,
    UnfoldAdminDecimalFieldWidget,
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminRadioSelectWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminSingleDateWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
    UnfoldBooleanSwitchWidget,
)

from workflows.models import Grade, Resolution


def _textarea(rows: int = 2) -> UnfoldAdminTextareaWidget:
    return UnfoldAdminTextareaWidget(attrs={"rows": rows})


class QuoteForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Offer"),
        min_value=Decimal("0.01"),
        max_digits=10,
        decimal_places=2,
        widget=UnfoldAdminDecimalFieldWidget(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
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

    def __init__(self, *args, confirm_reason: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if confirm_reason:
            # The quote action asked for a second yes: the person ticks it, knowing why.
            self.fields["confirmed"] = forms.BooleanField(
                label=_("Yes, send it: %(reason)s") % {"reason": confirm_reason},
                required=True,
                widget=UnfoldBooleanSwitchWidget,
            )


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
                # The next scan replaces whatever is in the field.
                "autofocus": True,
                "onfocus": "this.select()",
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


AS_FOUND = [
    ("powers_on", _("Powers on")),
    ("activation_lock_off", _("Activation lock / Google account off")),
    ("screen_as_disclosed", _("Screen as disclosed")),
    ("body_as_disclosed", _("Body as disclosed")),
    ("battery_as_disclosed", _("Battery as disclosed")),
]


class ReceiveForm(forms.Form):
    trade_in = forms.IntegerField(widget=forms.HiddenInput)
    as_found = forms.MultipleChoiceField(
        label=_("As found"),
        choices=AS_FOUND,
        required=False,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
    )
    grade = forms.ChoiceField(
        label=_("Grade"),
        choices=Grade.choices,
        widget=UnfoldAdminRadioSelectWidget,
    )
    notes = forms.CharField(
        label=_("Intake notes"), required=False, max_length=2000, widget=_textarea()
    )
    damaged = forms.BooleanField(
        label=_("Damaged beyond what was disclosed: reroute to Returns, decline the payout"),
        required=False,
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("damaged") and not (data.get("notes") or "").strip():
            self.add_error("notes", _("Describe the damage that was not disclosed."))
        return data

    def as_found_dict(self) -> dict[str, bool]:
        checked = set(self.cleaned_data["as_found"])
        return {key: key in checked for key, _label in AS_FOUND}


class CheckSettleForm(forms.Form):
    check_number = forms.CharField(
        label=_("Check number"), max_length=40, widget=UnfoldAdminTextInputWidget
    )
    check_date = forms.DateField(
        label=_("Check date"), initial=timezone.localdate, widget=UnfoldAdminSingleDateWidget
    )


class ResolveReturnForm(forms.Form):
    resolution = forms.ChoiceField(
        label=_("Resolution"), choices=Resolution.choices, widget=UnfoldAdminSelectWidget
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=1000, widget=_textarea())


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


class ThrottledLoginForm(AuthenticationForm):
    """The dashboard login, refused for a while after repeated failures.

    Failures are counted per client address and per username (so guessing one account from
    many addresses is slowed too). A refused attempt never reaches the password check.
    """

    LIMITS = [
        ("login-ip", "ip", lambda: settings.LOGIN_FAILURES_PER_IP),
        (
            "login-user",
            lambda group, request: request.POST.get("username", "").strip().lower(),
            lambda: settings.LOGIN_FAILURES_PER_USER,
        ),
    ]

    def _limited(self, *, increment: bool) -> bool:
        return any(
            [
                is_ratelimited(
                    self.request,
                    group=group,
                    key=key,
                    rate=rate(),
                    method="POST",
                    increment=increment,
                )
                for group, key, rate in self.LIMITS
            ]
        )

    def clean(self) -> dict:
        if self.request is not None and self._limited(increment=False):
            raise forms.ValidationError(
                _("Too many failed sign-ins. Wait a few minutes, then try again."),
                code="throttled",
            )
        try:
            return super().clean()
        except forms.ValidationError:
            if self.request is not None:
                self._limited(increment=True)
            raise
