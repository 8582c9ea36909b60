"""The price list learns, but only by a manager's hand: applying a suggested offer (one, or all
beyond a threshold) and importing market resale prices. Each applied change is a PriceChange
row (who, when, old → new, basis)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workflows.actions._common import Operation, authorize
from workflows.errors import InvalidInput
from workflows.models import DeviceModel, MarketPrice, PriceChange, Product
from workflows.selectors.learning import PRICED_GRADES, PriceRow, pick_for_product, price_rows

MARKET_COLUMNS = ["model", "storage", "grade", "price", "source", "date"]
MAX_MARKET_ROWS = 5000


def _apply(row: PriceRow, actor: AbstractBaseUser) -> PriceChange:
    """Set the product's base price from one row's suggestion (product row locked)."""
    product = row.product
    new = row.new_base_price
    change = PriceChange.objects.create(
        product=product,
        grade=row.grade,
        old_price=product.base_price,
        new_price=new,
        basis=(
            f"grade {row.grade}: {row.basis}; offer {row.offer} → {row.suggestion}"
            if row.offer is not None
            else f"grade {row.grade}: {row.basis}; offer → {row.suggestion}"
        )[:200],
        actor=actor,
    )
    Product.objects.filter(pk=product.pk).update(base_price=new)
    return change


@transaction.atomic(durable=True)
def price_suggestion_apply(
    *,
    actor: AbstractBaseUser,
    product: Product,
    grade: str,
    seen_offer: Decimal | None = None,
) -> PriceChange:
    """A manager applies one suggestion. `seen_offer` is the offer the manager saw: if the
    list changed since (someone else applied), nothing changes and they are told."""
    authorize(actor, Operation.APPLY_PRICE_SUGGESTION)
    if grade not in PRICED_GRADES:
        raise InvalidInput(_("The price list has offers for grades A, B and C only."))
    # Two managers applying at once: the second waits, then sees the first one's price.
    locked = Product.objects.select_for_update().filter(pk=product.pk)
    row = next(r for r in price_rows(locked) if r.grade == grade)
    if seen_offer is not None and row.offer != seen_offer:
        raise InvalidInput(
            _("The offer for %(product)s grade %(grade)s changed meanwhile: nothing was applied.")
            % {"product": row.product, "grade": grade}
        )
    if row.suggestion is None:
        raise InvalidInput(
            _("No suggestion for %(product)s grade %(grade)s: %(basis)s.")
            % {"product": row.product, "grade": grade, "basis": row.basis}
        )
    if row.new_base_price == row.product.base_price:
        raise InvalidInput(_("%s already has this price.") % row.product)
    return _apply(row, actor)


@transaction.atomic(durable=True)
def price_suggestions_apply_all(
    *, actor: AbstractBaseUser, threshold: Decimal
) -> list[PriceChange]:
    """A manager applies every suggestion more than `threshold` percent from today's offer:
    one change per product (its best-founded grade; see learning.pick_for_product)."""
    authorize(actor, Operation.APPLY_PRICE_SUGGESTION)
    if threshold < 0:
        raise InvalidInput(_("The threshold is a percentage of 0 or more."))
    products = Product.objects.select_for_update().order_by("pk")
    changes = []
    for row in pick_for_product(price_rows(products), threshold):
        if row.new_base_price != row.product.base_price:
            changes.append(_apply(row, actor))
    return changes


@dataclass(frozen=True)
class _MarketRow:
    product: Product
    grade: str
    price: Decimal
    source: str
    observed_on: date


def _storage_gb(text: str) -> int | None:
    text = text.strip().upper().replace(" ", "")
    factor = 1
    if text.endswith("TB"):
        text, factor = text[:-2], 1024
    elif text.endswith("GB"):
        text = text[:-2]
    return int(text) * factor if text.isdigit() else None


def _find_model(name: str, models: list[DeviceModel]) -> DeviceModel | None:
    wanted = " ".join(name.split()).casefold()
    for model in models:
        if wanted in {model.slug.casefold(), model.name.casefold(), str(model).casefold()}:
            return model
    return None


def parse_market_prices(text: str) -> tuple[list[_MarketRow], list[str]]:
    """Read a market-price CSV: the rows, and one plain message per bad row."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in MARKET_COLUMNS if c not in header]
    if missing:
        return [], [
            _("The file needs the columns %(need)s; missing: %(missing)s.")
            % {"need": ", ".join(MARKET_COLUMNS), "missing": ", ".join(missing)}
        ]
    reader.fieldnames = header
    models = list(DeviceModel.objects.select_related("make"))
    products = {(p.device_model_id, p.storage_gb): p for p in Product.objects.all()}
    today = timezone.localdate()
    rows, errors = [], []
    for number, raw in enumerate(reader, start=2):  # line 1 is the header
        if number - 1 > MAX_MARKET_ROWS:
            errors.append(_("More than %d rows: split the file.") % MAX_MARKET_ROWS)
            break
        cell = {c: (raw.get(c) or "").strip() for c in MARKET_COLUMNS}
        if not any(cell.values()):
            continue
        problems = []
        model = _find_model(cell["model"], models)
        storage = _storage_gb(cell["storage"])
        product = products.get((model.pk, storage)) if model and storage else None
        if model is None:
            problems.append(_("unknown model “%s”") % cell["model"])
        elif storage is None:
            problems.append(_("storage “%s” is not a size like 128 or 1 TB") % cell["storage"])
        elif product is None:
            problems.append(
                _("%(model)s has no %(storage)s GB version in the catalog")
                % {"model": model, "storage": storage}
            )
        grade = cell["grade"].upper()
        if grade not in PRICED_GRADES:
            problems.append(_("grade “%s” is not A, B or C") % cell["grade"])
        try:
            price = Decimal(cell["price"].replace("$", "").replace(",", ""))
            if not price.is_finite() or price <= 0 or price >= Decimal("100000"):
                raise InvalidOperation
            price = price.quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            price = None
            problems.append(_("price “%s” is not an amount above 0") % cell["price"])
        if not cell["source"]:
            problems.append(_("the source is empty"))
        elif len(cell["source"]) > 80:
            problems.append(_("the source is longer than 80 characters"))
        try:
            observed_on = date.fromisoformat(cell["date"])
            if observed_on > today:
                problems.append(_("the date %s is in the future") % cell["date"])
        except ValueError:
            observed_on = None
            problems.append(_("date “%s” is not YYYY-MM-DD") % cell["date"])
        if problems:
            errors.append(_("Row %(n)d: %(what)s.") % {"n": number, "what": "; ".join(problems)})
        else:
            rows.append(_MarketRow(product, grade, price, cell["source"], observed_on))
    if not rows and not errors:
        errors.append(_("The file has no rows."))
    return rows, errors


@transaction.atomic(durable=True)
def market_prices_import(*, actor: AbstractBaseUser, text: str) -> int:
    """A manager imports market resale prices (model, storage, grade, price, source, date).
    All rows or none: any bad row refuses the whole file, naming every bad row."""
    authorize(actor, Operation.IMPORT_MARKET_PRICES)
    rows, errors = parse_market_prices(text)
    if errors:
        raise InvalidInput(_("Nothing was imported. ") + " ".join(errors[:20]))
    MarketPrice.objects.bulk_create(
        MarketPrice(
            product=row.product,
            grade=row.grade,
            price=row.price,
            source=row.source,
            observed_on=row.observed_on,
            imported_by=actor,
        )
        for row in rows
    )
    return len(rows)
