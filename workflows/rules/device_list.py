"""A business seller's device list: read a CSV or XLSX and check every row, writing nothing.

The file (`read_device_list`)
- CSV (UTF-8, with or without a byte-order mark; separated by commas, semicolons or tabs, as
  the first line uses) or XLSX (its first sheet). Told apart by their content, not their name.
- Line 1 names the columns, in any order and any case: Make ("Brand"), Model, Storage
  ("Storage (GB)", "Capacity"), IMEI ("IMEI number") and Condition. Other columns are ignored.
- One device per line after that; blank lines are skipped. Every message names the line as the
  person sees it in their spreadsheet (the header is line 1).
- At most settings.DEVICE_LIST_MAX_ROWS devices per file, and at most ten times as many lines
  (blank ones included, plus 1,000): a file of a million blank lines is refused once the cap
  is passed, not read to its end.

A file that cannot be read that way (another format, no devices, too many, a column missing)
raises InvalidInput with one message for the whole file. Otherwise every row is checked and
the answer lists the good rows and the refused ones (each with all its problems): make, model
and storage must be in the catalog (a model we no longer buy is refused as in the buyer form),
the IMEI must be valid (`normalize_imei`, as typed by buyers), appear once in the file and not
be held by an open trade-in or a stocked unit (`live_imei_holders`, the rule of "one device,
one live trade-in"), and the condition must be one of the words below.

Conditions: one word stands for the buyer form's four answers (screen, body, battery,
accessories). A business lot ships loose, so every word means "phone only"; a box or charger
that does come along is found at intake.

    excellent  flawless screen, body like new, battery good
    good       light scratches, light wear, battery good
    fair       light scratches, light wear, battery worn
    poor       cracked glass, dents or cracks, battery worn
    broken     display doesn't work, dents or cracks, battery needs service

Also understood: "like new" and "mint" (excellent), "very good" (good), "cracked" (poor),
"faulty" and "not working" (broken).

The file is read by workflows.rules.sheets (why not tablib is said there).

Speed: the catalog is one query and the IMEIs two, however long the file.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from workflows.errors import InvalidInput
from workflows.models import Accessories, Battery, Body, Product, Screen
from workflows.rules.parsers import normalize_imei
from workflows.rules.redflags import live_imei_holders
from workflows.rules.sheets import cell_text, sheet_rows

# What pages offer as a download: the header and one example line.
DEVICE_LIST_TEMPLATE_CSV = (
    "Make,Model,Storage (GB),IMEI,Condition\r\nApple,iPhone 13,128,352099001761481,good\r\n"
)


@dataclass(frozen=True)
class ConditionAnswers:
    screen: str
    body: str
    battery: str
    accessories: str


CONDITIONS: dict[str, ConditionAnswers] = {
    "excellent": ConditionAnswers(Screen.FLAWLESS, Body.LIKE_NEW, Battery.GOOD, Accessories.NONE),
    "good": ConditionAnswers(Screen.SCRATCHED, Body.WORN, Battery.GOOD, Accessories.NONE),
    "fair": ConditionAnswers(Screen.SCRATCHED, Body.WORN, Battery.WORN, Accessories.NONE),
    "poor": ConditionAnswers(Screen.CRACKED, Body.DAMAGED, Battery.WORN, Accessories.NONE),
    "broken": ConditionAnswers(Screen.BROKEN, Body.DAMAGED, Battery.SERVICE, Accessories.NONE),
}
CONDITION_ALIASES = {
    "like new": "excellent",
    "mint": "excellent",
    "very good": "good",
    "cracked": "poor",
    "faulty": "broken",
    "not working": "broken",
}

# The columns, by what people call them (compared after `_words`: lower case, no punctuation).
COLUMNS: dict[str, set[str]] = {
    "make": {"make", "brand", "manufacturer"},
    "model": {"model", "model name", "device", "device model"},
    "storage": {"storage", "storage gb", "storage size", "capacity", "capacity gb", "gb"},
    "imei": {"imei", "imei number", "imei no", "imei 1", "imei1"},
    "condition": {"condition", "device condition"},
}
COLUMN_TITLES = {
    "make": "Make",
    "model": "Model",
    "storage": "Storage (GB)",
    "imei": "IMEI",
    "condition": "Condition",
}


@dataclass(frozen=True)
class DeviceRow:
    """A line that can become one device of the order."""

    line: int
    product: Product
    imei: str
    screen: str
    body: str
    battery: str
    accessories: str

    def answers(self) -> dict[str, str]:
        return {
            "screen": self.screen,
            "body": self.body,
            "battery": self.battery,
            "accessories": self.accessories,
        }


@dataclass(frozen=True)
class BadRow:
    """A refused line and everything wrong with it. `held_by` is the trade-in reference (or
    "unit #N") already holding its IMEI, for staff; the message does not name it."""

    line: int
    problems: tuple[str, ...]
    held_by: str = ""

    @property
    def message(self) -> str:
        return _("Line %(line)d: %(problems)s.") % {
            "line": self.line,
            "problems": "; ".join(self.problems),
        }


@dataclass(frozen=True)
class DeviceList:
    devices: list[DeviceRow]
    bad_rows: list[BadRow]

    @property
    def ok(self) -> bool:
        """Every line can go into the order."""
        return not self.bad_rows

    @property
    def messages(self) -> list[str]:
        return [row.message for row in self.bad_rows]


@dataclass(frozen=True)
class _Line:
    number: int
    cells: dict[str, object]  # column -> what the cell holds (text, or a number from XLSX)


def read_device_list(data: bytes) -> DeviceList:
    """Every line of the file checked (see the module's docstring); InvalidInput if the file
    itself cannot be read as a device list."""
    lines = _lines(sheet_rows(data))
    catalog = _Catalog()
    devices: dict[int, tuple[Product, str, ConditionAnswers]] = {}
    problems: dict[int, list[str]] = defaultdict(list)
    imeis: dict[int, str] = {}
    for line in lines:
        product = catalog.product(line.cells, problems[line.number])
        imei = _imei(line.cells["imei"], problems[line.number])
        condition = _condition(line.cells["condition"], problems[line.number])
        if imei:
            imeis[line.number] = imei
        if product and imei and condition:
            devices[line.number] = (product, imei, condition)
    _refuse_repeated_imeis(imeis, problems)
    holders = live_imei_holders(set(imeis.values()))
    held_by: dict[int, str] = {}
    for number, imei in imeis.items():
        if imei in holders:
            held_by[number] = holders[imei]
            problems[number].append(
                _("IMEI %s is already with us (in an open trade-in or in stock)") % imei
            )
    good = [
        DeviceRow(number, product, imei, *_answers(condition))
        for number, (product, imei, condition) in devices.items()
        if not problems[number]
    ]
    bad = [
        BadRow(number, tuple(found), held_by.get(number, ""))
        for number, found in sorted(problems.items())
        if found
    ]
    return DeviceList(devices=good, bad_rows=bad)


def _answers(condition: ConditionAnswers) -> tuple[str, str, str, str]:
    return (condition.screen, condition.body, condition.battery, condition.accessories)


# --- the file -----------------------------------------------------------------------------------
def _lines(rows: Iterator[list[object]]) -> list[_Line]:
    """The device lines: header matched, blank lines skipped, the row cap enforced."""
    header = next(rows, None)
    if header is None:
        raise InvalidInput(_("The file is empty."))
    columns = _columns(header)
    limit = settings.DEVICE_LIST_MAX_ROWS
    last_line = 10 * limit + 1000  # blank lines count too: reading each costs the same
    lines: list[_Line] = []
    for number, row in enumerate(rows, start=2):
        if number > last_line:
            raise InvalidInput(
                _(
                    "The file has more than %(n)d lines (blank ones included); a device list "
                    "of up to %(limit)d devices needs far fewer. Please remove the empty lines."
                )
                % {"n": last_line, "limit": limit}
            )
        cells = {name: row[index] if index < len(row) else "" for name, index in columns.items()}
        if all(cell_text(value) == "" for value in cells.values()):
            continue
        if len(lines) == limit:
            raise InvalidInput(
                _(
                    "The file lists more than %(limit)d devices; one upload takes up to "
                    "%(limit)d. Please split it into several files."
                )
                % {"limit": limit}
            )
        lines.append(_Line(number, cells))
    if not lines:
        raise InvalidInput(_("The file lists no devices: one device per line after the header."))
    return lines


def _columns(header: list[object]) -> dict[str, int]:
    """Column name -> index; the first matching header cell wins."""
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        for name, spellings in COLUMNS.items():
            if _words(cell_text(cell)) in spellings and name not in found:
                found[name] = index
    missing = [COLUMN_TITLES[name] for name in COLUMNS if name not in found]
    if missing:
        raise InvalidInput(
            _(
                "Line 1 must name the columns %(all)s; this file has no %(missing)s column. "
                "(The template shows the layout.)"
            )
            % {"all": ", ".join(COLUMN_TITLES.values()), "missing": ", ".join(missing)}
        )
    return found


def _words(text: str) -> str:
    """Lower case, punctuation and repeated spaces out: "Storage (GB)" -> "storage gb"."""
    return " ".join(re.sub(r"[^\w+]+", " ", text.casefold()).replace("_", " ").split())


def _shown(text: str) -> str:
    """What the person wrote, quoted back in a message: a long cell is cut short."""
    return text if len(text) <= 40 else text[:39] + "…"


def _key(text: str) -> str:
    """A catalog name without case, spaces or punctuation: "iphone-15 Pro" -> "iphone15pro"
    ("+" stays: the Galaxy S24+ is not the S24)."""
    return re.sub(r"[^\w+]|_", "", text.casefold())


# --- the cells ----------------------------------------------------------------------------------
class _Catalog:
    """Every product with its model and make, in one query."""

    def __init__(self) -> None:
        self.makes: dict[str, str] = {}  # key of its name or slug -> make name
        # (make name, key of the model's name, slug or make + name) -> its products by size
        self.models: dict[tuple[str, str], list[Product]] = defaultdict(list)
        products = Product.objects.select_related("device_model__make").order_by("storage_gb")
        for product in products:
            model = product.device_model
            make = model.make
            self.makes[_key(make.name)] = self.makes[_key(make.slug)] = make.name
            for model_key in {_key(model.name), _key(model.slug), _key(f"{make} {model.name}")}:
                self.models[(make.name, model_key)].append(product)

    def product(self, cells: dict[str, object], problems: list[str]) -> Product | None:
        make, model, storage = (cell_text(cells[name]) for name in ("make", "model", "storage"))
        if not make:
            problems.append(_("the make is missing"))
            return None
        if _key(make) not in self.makes:
            problems.append(
                _("the make “%(make)s” is not one we buy (we buy %(makes)s)")
                % {"make": _shown(make), "makes": ", ".join(sorted(set(self.makes.values())))}
            )
            return None
        make = self.makes[_key(make)]
        if not model:
            problems.append(_("the model is missing"))
            return None
        products = self.models.get((make, _key(model)))
        if not products:
            problems.append(
                _("the model “%(model)s” is not one we buy from %(make)s")
                % {"model": _shown(model), "make": make}
            )
            return None
        if not products[0].device_model.is_active:
            problems.append(_("we are not buying the %s at the moment") % products[0].device_model)
            return None
        size = _storage_gb(storage)
        if size is None:
            problems.append(
                _("the storage “%s” is not a size: write it in GB, like 128") % _shown(storage)
                if storage
                else _("the storage is missing")
            )
            return None
        for product in products:
            if product.storage_gb == size:
                return product
        problems.append(
            _("we do not buy the %(model)s with %(size)s GB (we buy %(sizes)s)")
            % {
                "model": products[0].device_model,
                "size": size,
                "sizes": ", ".join(p.storage_label for p in products),
            }
        )
        return None


def _storage_gb(text: str) -> int | None:
    """128, "128 GB", "128GB", "1 TB" -> GB; None if it is not a size."""
    match = re.fullmatch(r"(\d+)\s*(gb|g|tb|t)?", text.casefold())
    if not match:
        return None
    number = int(match.group(1))
    return number * 1024 if match.group(2) in ("tb", "t") else number


def _imei(value: object, problems: list[str]) -> str:
    """The 15 digits, or "" with the problem added."""
    text = cell_text(value)
    if isinstance(value, (int, float)) and text.isdigit() and len(text) < 15:
        # A number cell drops leading zeros, and many IMEIs start with 0 (Apple's 01...).
        text = text.zfill(15)
    if not text:
        problems.append(_("the IMEI is missing"))
        return ""
    if re.fullmatch(r"\d+([.,]\d+)?e\+?\d+", text.casefold()):
        problems.append(
            _(
                "the IMEI “%s” was turned into a number by the spreadsheet: format the IMEI "
                "column as text and type the 15 digits again"
            )
            % text
        )
        return ""
    try:
        return normalize_imei(text)
    except InvalidInput as error:
        # The buyer form's sentence, as a clause of the line's message.
        why = error.message.rstrip(".")
        problems.append(
            _("IMEI “%(imei)s”: %(why)s") % {"imei": _shown(text), "why": why[:1].lower() + why[1:]}
        )
        return ""


def _condition(value: object, problems: list[str]) -> ConditionAnswers | None:
    word = _words(cell_text(value))
    word = CONDITION_ALIASES.get(word, word)
    if word in CONDITIONS:
        return CONDITIONS[word]
    problems.append(
        _("the condition “%(given)s” is not one of %(words)s")
        % {"given": _shown(cell_text(value)), "words": ", ".join(CONDITIONS)}
        if word
        else _("the condition is missing (%s)") % ", ".join(CONDITIONS)
    )
    return None


def _refuse_repeated_imeis(imeis: dict[int, str], problems: dict[int, list[str]]) -> None:
    """An IMEI on several lines: each of them is refused (which one is right is unknown)."""
    lines_of: dict[str, list[int]] = defaultdict(list)
    for number, imei in imeis.items():
        lines_of[imei].append(number)
    for imei, numbers in lines_of.items():
        for number in numbers if len(numbers) > 1 else []:
            others = ", ".join(str(n) for n in numbers if n != number)
            problems[number].append(
                _("IMEI %(imei)s is also on line %(others)s") % {"imei": imei, "others": others}
            )
