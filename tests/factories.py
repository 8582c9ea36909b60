from __future__ import annotations

from decimal import Decimal

import factory
from stdnum import luhn

from workflows.models import ConditionDeduction, DeviceModel, Make, Product

_imei_counter = iter(range(10**6))


def valid_imei(prefix: str = "35693803") -> str:
    """A fresh IMEI with a correct check digit."""
    body = f"{prefix}{next(_imei_counter):06d}"[:14]
    return body + luhn.calc_check_digit(body)


class MakeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Make
        django_get_or_create = ["slug"]

    name = "Apple"
    slug = "apple"


class DeviceModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeviceModel

    make = factory.SubFactory(MakeFactory)
    name = factory.Sequence(lambda n: f"iPhone {15 + n}")
    slug = factory.Sequence(lambda n: f"iphone-{15 + n}")
    release_year = 2024


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    device_model = factory.SubFactory(DeviceModelFactory)
    storage_gb = 128
    sku = factory.Sequence(lambda n: f"SKU-{n}")
    base_price = Decimal("500.00")


def load_deductions() -> None:
    table = {
        "screen": {"flawless": 0, "scratched": 10, "cracked": 35, "broken": 60},
        "body": {"like_new": 0, "worn": 8, "damaged": 30},
        "battery": {"good": 0, "worn": 10, "service": 20},
        "accessories": {"complete": 0, "box": 3, "none": 5},
    }
    for question, answers in table.items():
        for answer, percent in answers.items():
            ConditionDeduction.objects.update_or_create(
                question=question, answer=answer, defaults={"percent": Decimal(percent)}
            )
