"""Staff's steps at the counter in Chromium, shared by the counter's browser tests."""

from __future__ import annotations


def open_drawer(page, amount: str = "500.00") -> None:
    page.goto("/dashboard/counter/")
    page.fill("#opening_float", amount)
    page.get_by_role("button", name="Open the drawer").click()
    page.wait_for_selector("#drawer-expected")


def start(page, product, imei: str, name: str = "Dana Walker") -> None:
    page.goto("/dashboard/counter/")
    page.click("#start-buyback")
    # The name field has the focus: staff type straight away (Tab to the next field).
    page.wait_for_url("**/counter/start/")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'id_name'")
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type("dana@example.com")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type(str(product))
    page.keyboard.press("Tab")
    # The USB scanner types the digits and Enter: the form goes, the IMEI is checked.
    page.keyboard.type(imei)
    page.keyboard.press("Enter")
    page.wait_for_selector("#counter-buyback")


def sign(page) -> None:
    box = page.locator("#signature-pad").bounding_box()
    x, y = box["x"], box["y"]
    page.mouse.move(x + 40, y + 120)
    page.mouse.down()
    for dx, dy in [(80, 60), (140, 130), (220, 50), (300, 120), (380, 70)]:
        page.mouse.move(x + dx, y + dy, steps=4)
    page.mouse.up()


def to_offer_for_customer(page) -> None:
    """From the inspection to the offer waiting for the customer (the suggested price)."""
    page.click("#all-clear")
    page.wait_for_selector("#offer-form")
    page.click("#show-customer")


def to_customer(page) -> None:
    to_offer_for_customer(page)
    page.wait_for_selector("#customer-page")
