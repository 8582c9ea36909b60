from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from workflows.actions import Submission, normalize_imei
from workflows.errors import InvalidInput
from workflows.models import (
    Accessories,
    Battery,
    Body,
    DeviceModel,
    Fulfilment,
    PayoutMethod,
    Product,
    Screen,
)


class TradeInForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("Storage"), queryset=Product.objects.none(), widget=forms.RadioSelect,
        empty_label=None, error_messages={"required": _("Choose the storage size."),
                                          "invalid_choice": _("Choose one of the storage sizes shown.")},
    )
    screen = forms.ChoiceField(label=_("Screen"), choices=Screen.choices, widget=forms.RadioSelect)
    body = forms.ChoiceField(label=_("Body"), choices=Body.choices, widget=forms.RadioSelect)
    battery = forms.ChoiceField(label=_("Battery"), choices=Battery.choices,
                                widget=forms.RadioSelect)
    accessories = forms.ChoiceField(label=_("Accessories"), choices=Accessories.choices,
                                    widget=forms.RadioSelect)
    imei = forms.CharField(
        label=_("IMEI"), max_length=40,
        help_text=_("Dial *#06# on the phone, or look in Settings → About (General → About on iPhone)."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off",
                                      "pattern": "[0-9 ]*", "placeholder": "15 digits"}),
    )
    buyer_name = forms.CharField(label=_("Your name"), max_length=120,
                                 widget=forms.TextInput(attrs={"autocomplete": "name"}))
    buyer_email = forms.EmailField(label=_("Email"), max_length=254,
                                   widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    buyer_phone = forms.CharField(label=_("Phone (optional)"), max_length=30, required=False,
                                  widget=forms.TextInput(attrs={"autocomplete": "tel",
                                                                "inputmode": "tel"}))
    fulfilment = forms.ChoiceField(label=_("How will you send it?"), choices=Fulfilment.choices,
                                   widget=forms.RadioSelect, initial=Fulfilment.SHIP)
    address_line1 = forms.CharField(label=_("Street address"), max_length=120, required=False,
                                    widget=forms.TextInput(attrs={"autocomplete": "address-line1"}))
    address_line2 = forms.CharField(label=_("Apartment, suite (optional)"), max_length=120,
                                    required=False,
                                    widget=forms.TextInput(attrs={"autocomplete": "address-line2"}))
    city = forms.CharField(label=_("City"), max_length=80, required=False,
                           widget=forms.TextInput(attrs={"autocomplete": "address-level2"}))
    region = forms.CharField(label=_("State"), max_length=80, required=False,
                             widget=forms.TextInput(attrs={"autocomplete": "address-level1"}))
    postcode = forms.CharField(label=_("ZIP code"), max_length=20, required=False,
                               widget=forms.TextInput(attrs={"autocomplete": "postal-code"}))
    payout_method = forms.ChoiceField(label=_("How do you want to be paid?"),
                                      choices=PayoutMethod.choices, widget=forms.RadioSelect)
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    # Honeypot: hidden from people, filled in by bots.
    website = forms.CharField(required=False, label=_("Leave this empty"), max_length=200)

    def __init__(self, *args, device_model: DeviceModel, **kwargs) -> None:
        kwargs.setdefault("initial", {}).setdefault("submission_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.device_model = device_model
        field = self.fields["product"]
        field.queryset = device_model.products.order_by("storage_gb")
        field.label_from_instance = lambda product: product.storage_label

    def clean_imei(self) -> str:
        try:
            return normalize_imei(self.cleaned_data["imei"])
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from None

    def clean(self) -> dict:
        data = super().clean()
        if data.get("fulfilment") == Fulfilment.SHIP:
            for name in ("address_line1", "city", "postcode"):
                if not (data.get(name) or "").strip():
                    self.add_error(name, _("Needed for the shipping label."))
        return data

    def is_bot(self) -> bool:
        return bool(self.data.get("website"))

    def submission(self) -> Submission:
        data = self.cleaned_data
        return Submission(**{name: data[name] for name in Submission.__dataclass_fields__})
