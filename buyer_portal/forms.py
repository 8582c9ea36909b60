from __future__ import annotations

import uuid

from django import forms
from django.conf import settings
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from workflows.actions import SellerDetails, Submission
from workflows.errors import InvalidInput
from workflows.formatting import money
from workflows.models import (
    Accessories,
    Battery,
    Body,
    DeviceModel,
    Fulfilment,
    Product,
    Screen,
)
from workflows.models.tradeins import ONLINE_PAYOUT_METHODS
from workflows.rules.addresses import (
    US_STATES,
    country_choices,
    normalize_postcode,
    normalize_region,
)
from workflows.rules.parsers import normalize_imei
from workflows.rules.predicates import near_shop

ADDRESS_NEEDED = _("Needed for the shipping label.")
CHOOSE_ONE = {
    "required": _("Please choose one."),
    "invalid_choice": _("Please choose one of the answers shown."),
}


def _text(
    label,
    max_length: int,
    *,
    required: bool = True,
    missing: str = "",
    help_text: str = "",
    input_type: str = "text",
    **attrs,
) -> forms.CharField:
    """A text field whose message for a missing value says what to enter."""
    widget = forms.TextInput(attrs=attrs)
    widget.input_type = input_type
    messages = {"max_length": _("Please keep this under %(limit_value)d characters.")}
    if missing:
        messages["required"] = missing
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        widget=widget,
        help_text=help_text,
        error_messages=messages,
    )


def _choice(label, choices, **kwargs) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label, choices=choices, widget=forms.RadioSelect, error_messages=CHOOSE_ONE, **kwargs
    )


def _storage_label(product: Product) -> str:
    if not product.base_price:
        return product.storage_label
    return format_html(
        "{} <small>{}</small>",
        product.storage_label,
        _("up to %(price)s") % {"price": money(product.base_price)},
    )


def _us_state_choices() -> list[tuple[str, str]]:
    return [("", _("Choose your state"))] + [(c, f"{name} ({c})") for c, name in US_STATES]


class TradeInForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("How much storage?"),
        queryset=Product.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": _("Choose the storage size."),
            "invalid_choice": _("Choose one of the storage sizes shown."),
        },
    )
    screen = _choice(_("How is the screen?"), Screen.choices)
    body = _choice(_("How are the back and sides?"), Body.choices)
    battery = _choice(_("How is the battery?"), Battery.choices)
    accessories = _choice(_("What comes with it?"), Accessories.choices)
    imei = _text(
        _("IMEI (15 digits)"),
        40,
        missing=_("Please enter the IMEI (15 digits)."),
        help_text=_(
            "Dial *#06# on the phone, or open Settings → About phone "
            "(iPhone: Settings → General → About). It is also on the box label."
        ),
        inputmode="numeric",
        autocomplete="off",
        spellcheck="false",
        enterkeyhint="next",
    )
    buyer_name = _text(
        _("Your name"),
        120,
        missing=_("Please enter your name."),
        autocomplete="name",
        autocapitalize="words",
        enterkeyhint="next",
    )
    buyer_email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_("Your offer arrives here."),
        error_messages={
            "required": _("Please enter your email."),
            "invalid": _("Please enter a valid email address, like name@example.com."),
            "max_length": _("Please keep this under %(limit_value)d characters."),
        },
        widget=forms.EmailInput(
            attrs={
                "autocomplete": "email",
                "autocapitalize": "off",
                "spellcheck": "false",
                "enterkeyhint": "next",
            }
        ),
    )
    buyer_phone = _text(
        _("Phone (optional)"),
        30,
        required=False,
        input_type="tel",
        autocomplete="tel",
        enterkeyhint="next",
    )
    fulfilment = _choice(_("How will you send it?"), Fulfilment.choices, initial=Fulfilment.SHIP)
    # ZIP first: it fills the city and the state (offline table), then the street.
    postcode = _text(
        _("ZIP code"),
        10,
        required=False,
        autocomplete="postal-code",
        inputmode="numeric",
        enterkeyhint="next",
    )
    ship_anyway = forms.BooleanField(label=_("Yes, ship it with a prepaid label"), required=False)
    address_line1 = _text(
        _("Street address"), 120, required=False, autocomplete="address-line1", enterkeyhint="next"
    )
    address_line2 = _text(
        _("Apartment, suite (optional)"),
        120,
        required=False,
        autocomplete="address-line2",
        enterkeyhint="next",
    )
    city = _text(_("City"), 80, required=False, autocomplete="address-level2")
    region = forms.ChoiceField(
        label=_("State"),
        required=False,
        # A callable: Django deep-copies a list of 52 choices for every form built (~0.15 ms
        # of each buyer submission), but only calls this when the select is drawn or checked.
        choices=_us_state_choices,
        widget=forms.Select(attrs={"autocomplete": "address-level1"}),
    )
    country = forms.ChoiceField(
        label=_("Country"),
        # The select always sends one; an older page (or a script) without it gets the default.
        required=False,
        choices=country_choices,
        initial=lambda: settings.DEFAULT_COUNTRY,
        widget=forms.Select(attrs={"autocomplete": "country"}),
        error_messages=CHOOSE_ONE,
    )
    payout_method = _choice(_("How do you want to be paid?"), ONLINE_PAYOUT_METHODS)
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    # Honeypot: hidden from people, filled in by bots.
    website = forms.CharField(
        required=False,
        label=_("Leave this empty"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    ADDRESS_FIELDS = ("address_line1", "city", "postcode")

    def __init__(
        self, *args, device_model: DeviceModel, storage: str | None = None, **kwargs
    ) -> None:
        kwargs.setdefault("initial", {}).setdefault("submission_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.device_model = device_model
        field = self.fields["product"]
        field.queryset = device_model.products.order_by("storage_gb")
        field.label_from_instance = _storage_label
        products = list(field.queryset)
        chosen = [p for p in products if str(p.storage_gb) == storage]
        if len(products) == 1 or chosen:
            # Nothing to choose, or chosen already on the model list: one tap fewer.
            field.initial = (chosen or products)[0].pk

    def clean_imei(self) -> str:
        try:
            return normalize_imei(self.cleaned_data["imei"])
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from None

    def clean(self) -> dict:
        data = super().clean()
        if data.get("fulfilment") != Fulfilment.SHIP:
            return data
        for name in self.ADDRESS_FIELDS:
            if not (data.get(name) or "").strip():
                self.add_error(name, ADDRESS_NEEDED)
        country = data.get("country") or settings.DEFAULT_COUNTRY
        # The same rules the submit action applies, said next to the field that breaks them.
        for name, normalize in (("postcode", normalize_postcode), ("region", normalize_region)):
            if name in data and (data[name] or name == "region"):
                try:
                    data[name] = normalize(country, data[name] or "")
                except InvalidInput as exc:
                    self.add_error(name, exc.message)
        if "postcode" in data and near_shop(data["postcode"]) and not data.get("ship_anyway"):
            # A local ZIP never turns "ship it" into drop-off by itself: the buyer decides.
            self.add_error(
                "ship_anyway",
                _(
                    "You are close to our shop: you can drop it off instead. Choose drop-off "
                    "above, or tick this to ship it with a prepaid label."
                ),
            )
        return data

    def is_bot(self) -> bool:
        return bool(self.data.get("website"))

    def submission(self) -> Submission:
        data = self.cleaned_data
        return Submission(**{name: data[name] for name in Submission.__dataclass_fields__})


def device_list_bytes(upload) -> bytes:
    """The uploaded device list's bytes, refused beside the field when it is too large."""
    limit = settings.DEVICE_LIST_MAX_BYTES
    if upload.size > limit:
        raise forms.ValidationError(
            _(
                "This file is %(size)s; a device list may be up to %(limit)s. Please split it "
                "or save it as CSV."
            )
            % {"size": _megabytes(upload.size), "limit": _megabytes(limit)}
        )
    return upload.read(limit + 1)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


class BusinessListForm(TradeInForm):
    """A business's device list with the seller's details asked once: the buyer form's own
    fields (and its address rules), without the one device's questions."""

    DEVICE_ONLY = ("product", "screen", "body", "battery", "accessories", "imei")

    device_list = forms.FileField(
        label=_("Your device list (CSV or XLSX)"),
        help_text=_("One device per line: make, model, storage, IMEI and condition."),
        error_messages={
            "required": _("Please choose your device list file."),
            "empty": _("This file is empty."),
        },
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument"
                ".spreadsheetml.sheet"
            }
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("initial", {}).setdefault("submission_key", uuid.uuid4().hex)
        forms.Form.__init__(self, *args, **kwargs)
        for name in self.DEVICE_ONLY:
            del self.fields[name]

    def clean_device_list(self) -> bytes:
        return device_list_bytes(self.cleaned_data["device_list"])

    def details(self) -> SellerDetails:
        data = self.cleaned_data
        return SellerDetails(
            **{name: data[name] or "" for name in SellerDetails.__dataclass_fields__}
        )


DECLINE_REASONS = [
    _("The offer is too low"),
    _("I decided to keep my device"),
    _("I sold it somewhere else"),
    _("Other"),
]


class DeclineForm(forms.Form):
    """The buyer declines an offer from its link: one of our reasons, and a few words."""

    reason = forms.ChoiceField(
        choices=[(str(r), r) for r in DECLINE_REASONS],
        error_messages={
            "required": _("Please choose a reason."),
            "invalid_choice": _("Please choose a reason."),
        },
    )
    detail = forms.CharField(
        required=False,
        max_length=1000,
        error_messages={"max_length": _("Please keep this under 1000 characters.")},
    )

    def first_error(self) -> str:
        return next(iter(self.errors.values()))[0]

    def reason_text(self) -> str:
        reason, detail = self.cleaned_data["reason"], self.cleaned_data["detail"].strip()
        return f"{reason}: {detail}" if detail else reason
