"""A device list between its upload and its order (issue 20, business sellers): what both the
buyer portal and the staff upload page keep while a person reviews it, and its estimate.

A read list (workflows.rules.device_list) is kept as plain data (in the session, between the
upload and the "Send" button): the good rows and the refused lines' messages. Reading it back
is one query for the products and one for the price list, however many devices.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from workflows.models import ConditionDeduction, Product
from workflows.rules.device_list import BadRow, DeviceList, DeviceRow
from workflows.rules.pricing import suggested_offer


def device_list_data(devices: DeviceList) -> dict:
    """The list as JSON-safe data (for the session)."""
    return {
        "devices": [
            [d.line, d.product.pk, d.imei, d.screen, d.body, d.battery, d.accessories]
            for d in devices.devices
        ],
        "bad_rows": [[b.line, list(b.problems), b.held_by] for b in devices.bad_rows],
    }


@dataclass(frozen=True)
class Reviewed:
    devices: list[DeviceRow]
    bad_rows: list[BadRow]
    estimates: list[Decimal | None]  # per good device, in its order
    total: Decimal  # of the devices with a price
    unpriced: int  # devices without a price-list entry


def device_list_review(data: dict) -> Reviewed:
    """The kept list with its products (gone from the catalog since: dropped) and the
    estimate of each device from the price list."""
    products = Product.objects.select_related("device_model__make").in_bulk(
        {row[1] for row in data["devices"]}
    )
    devices = [
        DeviceRow(line, products[pk], imei, *answers)
        for line, pk, imei, *answers in data["devices"]
        if pk in products
    ]
    deductions = list(ConditionDeduction.objects.all())
    estimates = [suggested_offer(d.product, d.answers(), deductions) for d in devices]
    return Reviewed(
        devices=devices,
        bad_rows=[BadRow(line, tuple(problems), held) for line, problems, held in data["bad_rows"]],
        estimates=estimates,
        total=sum((e for e in estimates if e is not None), Decimal("0")),
        unpriced=sum(1 for e in estimates if e is None),
    )
