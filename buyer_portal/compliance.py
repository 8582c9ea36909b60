"""The buyer's forms for the second-hand dealer rules: the declaration on the offer page and the
signed photo-ID page (buyer_portal.views.identity)."""

from __future__ import annotations

from datetime import date

from django import forms
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workflows import actions
from workflows.models import IdType
from workflows.rules import compliance


class _DateInput(forms.DateInput):
    input_type = "date"


def _date_field(label, help_text: str = "", required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        widget=_DateInput(format="%Y-%m-%d"),
        error_messages={
            "required": _("Enter the date."),
            "invalid": _("Enter a date like 1990-04-23."),
        },
    )


# --- the declaration, on the offer page ---------------------------------------------------------
class DeclarationForm(forms.Form):
    declare = forms.BooleanField(
        required=False, error_messages={"required": gettext_lazy("Please tick to confirm.")}
    )
    wording = forms.CharField(widget=forms.HiddenInput, required=False)
    birth_date = _date_field(gettext_lazy("Your date of birth"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["declare"].label = compliance.declaration_text()
        self.fields["declare"].required = settings.DECLARATION_REQUIRED
        if not settings.DECLARATION_ASKS_BIRTH_DATE:
            del self.fields["birth_date"]
        else:
            self.fields["birth_date"].required = True
        self.fields["wording"].initial = compliance.declaration_fingerprint()

    def clean_wording(self) -> str:
        # The page showed the wording whose fingerprint it sent back; if the shop changed the
        # setting meanwhile, the buyer has not seen what we would store.
        sent = self.cleaned_data["wording"]
        if not sent and not settings.DECLARATION_REQUIRED:
            return ""  # the page showed no declaration
        if sent != compliance.declaration_fingerprint():
            raise forms.ValidationError(
                _("The declaration's wording has changed since the page opened: read it again.")
            )
        return compliance.declaration_text()

    def clean_birth_date(self) -> date | None:
        value = self.cleaned_data.get("birth_date")
        problem = compliance.birth_date_problem(value, required=True)
        if problem:
            raise forms.ValidationError(_(problem))
        return value

    def declaration(self, request: HttpRequest) -> actions.DeclarationInput:
        data = self.cleaned_data
        return actions.DeclarationInput(
            confirmed=bool(data.get("declare")),
            wording=data.get("wording") or compliance.declaration_text(),
            birth_date=data.get("birth_date"),
            ip=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )


def declaration_context(form: DeclarationForm | None = None) -> dict:
    """What the offer page needs to show the declaration (nothing when it is switched off)."""
    if not (settings.DECLARATION_REQUIRED or settings.DECLARATION_ASKS_BIRTH_DATE):
        return {"declaration_form": None}
    return {"declaration_form": form or DeclarationForm()}


# --- the signed photo-ID page -------------------------------------------------------------------
class IdentityForm(forms.Form):
    id_type = forms.ChoiceField(
        label=gettext_lazy("Type of photo ID"),
        choices=IdType.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Please choose one.")},
    )
    id_number = forms.CharField(
        label=gettext_lazy("ID number"),
        max_length=40,
        help_text=gettext_lazy("As printed on the ID. Stored encrypted."),
        error_messages={"required": gettext_lazy("Enter the ID number.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    issuer = forms.CharField(
        label=gettext_lazy("Issued by (state or country)"),
        max_length=80,
        error_messages={"required": gettext_lazy("Enter the state or country that issued it.")},
    )
    birth_date = _date_field(gettext_lazy("Date of birth"))
    expires_on = _date_field(gettext_lazy("Expiry date"))
    signature = forms.CharField(
        label=gettext_lazy("Sign: type your full name"),
        max_length=120,
        help_text=gettext_lazy("By signing you confirm these details are true and yours."),
        error_messages={"required": gettext_lazy("Type your full name to sign.")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def identity(self) -> actions.IdentityInput:
        return actions.IdentityInput(**self.cleaned_data)
