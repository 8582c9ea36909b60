"""Building counter buybacks by calling the real actions (tests and the bench share this)."""

from __future__ import annotations

import io
import uuid

from PIL import Image, ImageDraw

from tests.factories import valid_imei
from workflows.actions import counter_buyback as counter
from workflows.models import CounterBuyback
from workflows.rules.compliance import declaration_text
from workflows.tasks.counter import check_imei_now

CLEAN = {
    "powers_on": "yes",
    "activation_lock": "off",
    "screen": "flawless",
    "body": "like_new",
    "battery": "good",
    "accessories": "complete",
}


def signature_png(blank: bool = False) -> bytes:
    image = Image.new("RGBA", (300, 100), (255, 255, 255, 0))
    if not blank:
        ImageDraw.Draw(image).line(
            [(10, 80), (80, 20), (150, 70), (280, 30)], fill="black", width=3
        )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def signed() -> counter.DeclarationInput:
    return counter.DeclarationInput(confirmed=True, wording=declaration_text())


def start(actor, product, *, imei: str | None = None, email: str = "walk@in.example", **kw):
    buyback = counter.counter_buyback_start(
        actor=actor,
        customer=counter.Customer(name="Walk In", email=email, phone="555 0100"),
        product=product,
        imei=imei or valid_imei(),
        key=kw.pop("key", uuid.uuid4().hex),
    )
    check_imei_now(buyback.trade_in)
    return CounterBuyback.objects.select_related("trade_in").get(pk=buyback.pk)


def quoted(actor, product, *, method: str = "cash", amount: str = "300.00", **kw):
    buyback = start(actor, product, **kw)
    counter.counter_buyback_inspect(buyback=buyback, actor=actor, checklist=CLEAN, grade="A")
    counter.counter_buyback_offer(buyback=buyback, actor=actor, amount=amount, payout_method=method)
    return CounterBuyback.objects.select_related("trade_in").get(pk=buyback.pk)


def accepted(actor, product, **kw):
    buyback = quoted(actor, product, **kw)
    counter.counter_buyback_accept(
        buyback=buyback, actor=actor, declaration=signed(), signature_png=signature_png()
    )
    return CounterBuyback.objects.select_related("trade_in").get(pk=buyback.pk)
