"""Addresses a carrier accepts: USPS state codes, ZIP shapes, and the offline ZIP table.

The ZIP table comes from the `zipcodes` package (pinned in pyproject.toml): the data ships
inside the package, so looking a ZIP up never leaves the machine.
"""

from __future__ import annotations

import re
import threading

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workflows.errors import InvalidInput

# USPS two-letter codes (USPS Publication 28, Appendix B): the states, DC, the territories,
# the military "states" and the freely associated states a label can be addressed to. The one
# list: the buyer form offers it and the label client (workflows.integrations.shipping) checks
# an address against it before calling ShipEngine.
US_STATES: list[tuple[str, str]] = [
    ("AL", "Alabama"), ("AK", "Alaska"), ("AZ", "Arizona"), ("AR", "Arkansas"),
    ("CA", "California"), ("CO", "Colorado"), ("CT", "Connecticut"), ("DE", "Delaware"),
    ("DC", "District of Columbia"), ("FL", "Florida"), ("GA", "Georgia"), ("HI", "Hawaii"),
    ("ID", "Idaho"), ("IL", "Illinois"), ("IN", "Indiana"), ("IA", "Iowa"), ("KS", "Kansas"),
    ("KY", "Kentucky"), ("LA", "Louisiana"), ("ME", "Maine"), ("MD", "Maryland"),
    ("MA", "Massachusetts"), ("MI", "Michigan"), ("MN", "Minnesota"), ("MS", "Mississippi"),
    ("MO", "Missouri"), ("MT", "Montana"), ("NE", "Nebraska"), ("NV", "Nevada"),
    ("NH", "New Hampshire"), ("NJ", "New Jersey"), ("NM", "New Mexico"), ("NY", "New York"),
    ("NC", "North Carolina"), ("ND", "North Dakota"), ("OH", "Ohio"), ("OK", "Oklahoma"),
    ("OR", "Oregon"), ("PA", "Pennsylvania"), ("RI", "Rhode Island"), ("SC", "South Carolina"),
    ("SD", "South Dakota"), ("TN", "Tennessee"), ("TX", "Texas"), ("UT", "Utah"),
    ("VT", "Vermont"), ("VA", "Virginia"), ("WA", "Washington"), ("WV", "West Virginia"),
    ("WI", "Wisconsin"), ("WY", "Wyoming"), ("AS", "American Samoa"), ("GU", "Guam"),
    ("MP", "Northern Mariana Islands"), ("PR", "Puerto Rico"), ("VI", "U.S. Virgin Islands"),
    ("AA", "Armed Forces Americas"), ("AE", "Armed Forces Europe"),
    ("AP", "Armed Forces Pacific"), ("FM", "Federated States of Micronesia"),
    ("MH", "Marshall Islands"), ("PW", "Palau"),
]  # fmt: skip
US_STATE_CODES = frozenset(code for code, _name in US_STATES)

COUNTRY_NAMES = {"US": gettext_lazy("United States"), "CA": gettext_lazy("Canada")}

# A US ZIP as ShipEngine takes it: 5 digits or ZIP+4. Shared with the label client too.
US_ZIP = re.compile(r"^\d{5}(-\d{4})?$")
_OTHER_POSTCODE = re.compile(r"^[A-Z0-9][A-Z0-9 -]{1,9}$")


def country_choices() -> list[tuple[str, str]]:
    return [(code, str(COUNTRY_NAMES.get(code, code))) for code in settings.SHIP_COUNTRIES]


def normalize_postcode(country: str, postcode: str) -> str:
    """The postcode as the carrier wants it; InvalidInput when it has the wrong shape."""
    text = " ".join(postcode.upper().split())
    if country == "US":
        digits = text.replace(" ", "")
        if re.fullmatch(r"\d{9}", digits):
            digits = f"{digits[:5]}-{digits[5:]}"
        if not US_ZIP.match(digits):
            raise InvalidInput(_("A ZIP code has 5 digits, like 62704 (or ZIP+4: 62704-1234)."))
        return digits
    if not _OTHER_POSTCODE.match(text):
        raise InvalidInput(_("Please enter the postcode as it appears on your mail."))
    return text


def normalize_region(country: str, region: str) -> str:
    """A US state must be one of the USPS codes; elsewhere the region is free text."""
    text = region.strip()
    if country == "US":
        code = text.upper()
        if code not in US_STATE_CODES:
            raise InvalidInput(_("Please choose your state."))
        return code
    return text


def lookup_zip(postcode: str) -> tuple[str, str] | None:
    """City and USPS state code for a US ZIP (5 digits or ZIP+4), from the offline table."""
    import zipcodes

    five = postcode.strip()[:5]
    if not re.fullmatch(r"\d{5}", five):
        return None
    # The package answers from its compiled table; building all 42k rows as Python dicts
    # instead (list_all) took seconds on a busy machine.
    for row in zipcodes.matching(five):
        if row.get("active", True):
            return row["city"], row["state"]
    return None


_warming: threading.Thread | None = None


def warm_zip_table() -> None:
    """Load the ZIP table in the background (its first lookup parses the whole table, a few
    hundred ms, seconds on a busy machine): the form page calls this, so the table is ready
    by the time the buyer reaches the address."""
    global _warming
    if _warming is None:
        _warming = threading.Thread(target=lookup_zip, args=("00501",), daemon=True)
        _warming.start()
