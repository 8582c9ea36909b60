"""The condition questionnaire: four questions with short, plain-language answers."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Screen(models.TextChoices):
    FLAWLESS = "flawless", _("Flawless, no scratches")
    SCRATCHED = "scratched", _("Light scratches")
    CRACKED = "cracked", _("Cracked glass")
    BROKEN = "broken", _("Display doesn't work")


class Body(models.TextChoices):
    LIKE_NEW = "like_new", _("Like new")
    WORN = "worn", _("Light wear")
    DAMAGED = "damaged", _("Dents, cracks or bent")


class Battery(models.TextChoices):
    GOOD = "good", _("Good (85% or more)")
    WORN = "worn", _("Worn (below 85%)")
    SERVICE = "service", _("Needs service / won't hold charge")


class Accessories(models.TextChoices):
    COMPLETE = "complete", _("Original box and charger")
    BOX = "box", _("Box only")
    NONE = "none", _("Phone only")


QUESTIONS: dict[str, type[models.TextChoices]] = {
    "screen": Screen,
    "body": Body,
    "battery": Battery,
    "accessories": Accessories,
}
