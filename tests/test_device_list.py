"""A business seller's device list (workflows.rules.device_list): every line checked, every
message naming the line as the spreadsheet shows it, nothing written."""

from __future__ import annotations

import io

import openpyxl
import pytest

from tests.factories import DeviceModelFactory, MakeFactory, ProductFactory, valid_imei
from workflows.errors import InvalidInput
from workflows.models import (
    Accessories,
    Battery,
    Body,
    Screen,
    State,
    TradeIn,
    Unit,
    UnitStatus,
)
from workflows.rules.device_list import (
    CONDITIONS,
    DEVICE_LIST_TEMPLATE_CSV,
    read_device_list,
)

HEADER = ["Make", "Model", "Storage (GB)", "IMEI", "Condition"]


@pytest.fixture
def catalog(db):
    """Apple iPhone 13 (128, 256 GB), Samsung Galaxy S24 and S24+ (256 GB), and an iPhone 8
    we no longer buy."""
    apple = MakeFactory(name="Apple", slug="apple")
    samsung = MakeFactory(name="Samsung", slug="samsung")
    iphone = DeviceModelFactory(make=apple, name="iPhone 13", slug="iphone-13")
    s24 = DeviceModelFactory(make=samsung, name="Galaxy S24", slug="galaxy-s24")
    s24_plus = DeviceModelFactory(make=samsung, name="Galaxy S24+", slug="galaxy-s24-plus")
    old = DeviceModelFactory(make=apple, name="iPhone 8", slug="iphone-8", is_active=False)
    return {
        "iphone_128": ProductFactory(device_model=iphone, storage_gb=128),
        "iphone_256": ProductFactory(device_model=iphone, storage_gb=256),
        "s24": ProductFactory(device_model=s24, storage_gb=256),
        "s24_plus": ProductFactory(device_model=s24_plus, storage_gb=256),
        "old": ProductFactory(device_model=old, storage_gb=64),
    }


def csv_bytes(rows, *, header=HEADER, delimiter=",", bom=False) -> bytes:
    text = "\r\n".join(delimiter.join(str(cell) for cell in row) for row in [header, *rows])
    return (("\ufeff" if bom else "") + text + "\r\n").encode()


def xlsx_bytes(rows, *, header=HEADER) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [header, *rows]:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def good_row(imei=None, *, model="iPhone 13", storage="128", condition="good"):
    return ["Apple", model, storage, imei or valid_imei(), condition]


def hundred_rows_two_bad() -> tuple[list[list[object]], list[str]]:
    """100 devices; line 11 has a model we do not buy, line 58 an IMEI with a typo."""
    rows = [good_row() for _ in range(100)]
    rows[9][1] = "iPhone 99"  # line 11: the header is line 1
    imei = rows[56][3]
    rows[56][3] = imei[:-1] + str((int(imei[-1]) + 1) % 10)  # line 58
    return rows, [rows[n][3] for n in range(100) if n not in (9, 56)]


def the_error(data: bytes) -> str:
    with pytest.raises(InvalidInput) as refused:
        read_device_list(data)
    return refused.value.message


# --- the acceptance case: 100 lines, two refused by line number, 98 kept --------------------------
def test_it_keeps_98_of_100_csv_lines_and_refuses_two_by_line_number(catalog):
    rows, kept_imeis = hundred_rows_two_bad()
    result = read_device_list(csv_bytes(rows))

    assert [row.line for row in result.bad_rows] == [11, 58]
    assert result.messages[0].startswith(
        "Line 11: the model “iPhone 99” is not one we buy from Apple"
    )
    assert result.messages[1].startswith("Line 58: IMEI")
    assert "last digit does not match" in result.messages[1]
    assert not result.ok
    assert len(result.devices) == 98
    assert [d.imei for d in result.devices] == kept_imeis
    assert {d.product for d in result.devices} == {catalog["iphone_128"]}
    assert [d.line for d in result.devices][:10] == [2, 3, 4, 5, 6, 7, 8, 9, 10, 12]
    assert not TradeIn.objects.exists()  # reading writes nothing


def test_it_reads_the_same_list_from_xlsx(catalog):
    rows, kept_imeis = hundred_rows_two_bad()
    # Spreadsheets keep IMEIs and sizes as numbers unless told otherwise.
    numeric = [[m, model, int(size), int(imei), c] for m, model, size, imei, c in rows]
    result = read_device_list(xlsx_bytes(numeric))

    assert [row.line for row in result.bad_rows] == [11, 58]
    assert [d.imei for d in result.devices] == kept_imeis


def test_it_checks_100_lines_in_three_queries(catalog, make_trade_in, django_assert_num_queries):
    rows, _ = hundred_rows_two_bad()
    live = make_trade_in(imei=valid_imei())
    rows[20][3] = live.imei
    data = csv_bytes(rows)
    # The catalog once, the IMEIs in one query for trade-ins and one for units.
    with django_assert_num_queries(3):
        result = read_device_list(data)
    assert [row.line for row in result.bad_rows] == [11, 22, 58]


# --- the file -----------------------------------------------------------------------------------
def test_it_reads_a_semicolon_csv_with_a_byte_order_mark(catalog):
    result = read_device_list(csv_bytes([good_row(), good_row()], delimiter=";", bom=True))
    assert result.ok and len(result.devices) == 2


def test_it_reads_a_tab_separated_file(catalog):
    result = read_device_list(csv_bytes([good_row()], delimiter="\t"))
    assert result.ok and len(result.devices) == 1


@pytest.mark.parametrize(
    "header",
    [
        ["make", "model", "storage", "imei", "condition"],
        ["MAKE", "MODEL", "STORAGE (GB)", "IMEI", "CONDITION"],
        ["Brand", "Model name", "Capacity (GB)", "IMEI number", "Device condition"],
        ["  Make ", "Model", "Storage GB", "imei_number", "Condition"],
    ],
)
def test_it_accepts_the_usual_header_spellings(catalog, header):
    result = read_device_list(csv_bytes([good_row()], header=header))
    assert result.ok and len(result.devices) == 1


def test_it_finds_the_columns_in_any_order_and_ignores_others(catalog):
    imei = valid_imei()
    header = ["Notes", "IMEI", "Condition", "Storage (GB)", "Model", "Make"]
    row = ["from the Leeds office", imei, "fair", "256", "iPhone 13", "Apple"]
    result = read_device_list(csv_bytes([row], header=header))
    (device,) = result.devices
    assert (device.imei, device.product) == (imei, catalog["iphone_256"])


def test_it_skips_blank_lines_and_keeps_the_spreadsheets_numbers(catalog):
    data = (
        "Make,Model,Storage,IMEI,Condition\r\n"
        f'Apple,"iPhone 13",128,{valid_imei()},"good\r\n(a note on two lines)"\r\n'
        "\r\n"
        ",,,,\r\n"
        f"Apple,iPhone 13,128,{valid_imei()},so-so\r\n"
    ).encode()
    result = read_device_list(data)
    # Line 2 is one spreadsheet row even with a line break inside a cell; 3 and 4 are blank.
    assert [row.line for row in result.bad_rows] == [2, 5]


def test_it_keeps_the_numbers_of_blank_xlsx_rows(catalog):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(good_row())
    sheet.append(good_row(condition="meh"))  # line 3
    sheet["A7"], sheet["B7"], sheet["C7"] = "Apple", "iPhone 13", 128  # line 7: no IMEI
    sheet["E7"] = "good"
    out = io.BytesIO()
    book.save(out)
    result = read_device_list(out.getvalue())
    assert [(row.line, row.problems) for row in result.bad_rows] == [
        (3, ("the condition “meh” is not one of excellent, good, fair, poor, broken",)),
        (7, ("the IMEI is missing",)),
    ]


@pytest.mark.parametrize(
    "data, says",
    [
        (b"", "The file is empty."),
        (csv_bytes([]), "The file lists no devices"),
        (csv_bytes([["", "", "", "", ""]]), "The file lists no devices"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV in UTF-8 or an XLSX"),
        (b"%PDF-1.7\n\x00\x01binary", "not a CSV or an XLSX"),
        ("Make,Model\r\nSamsung,Galaxy S24 Ultra – grade A\r\n".encode("cp1252"), "CSV UTF-8"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old Excel file (.xls)"),
        (b"PK\x03\x04not really a zip", "could not be read as XLSX"),
    ],
)
def test_it_refuses_a_file_it_cannot_read_with_one_message(catalog, data, says):
    assert says in the_error(data)


def test_it_names_the_missing_columns(catalog):
    message = the_error(csv_bytes([["Apple", "iPhone 13", "128"]], header=HEADER[:3]))
    assert "this file has no IMEI, Condition column" in message
    assert "Make, Model, Storage (GB), IMEI, Condition" in message


def test_it_refuses_a_file_over_the_row_cap(catalog, settings):
    settings.DEVICE_LIST_MAX_ROWS = 3
    assert len(read_device_list(csv_bytes([good_row() for _ in range(3)])).devices) == 3
    message = the_error(csv_bytes([good_row() for _ in range(4)]))
    assert "more than 3 devices" in message and "split it into several files" in message


def test_the_row_cap_is_500_unless_set(catalog):
    from django.conf import settings

    assert settings.DEVICE_LIST_MAX_ROWS == 500


# --- each line ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "row, says",
    [
        (["", "iPhone 13", "128", "IMEI", "good"], "the make is missing"),
        (["Nokia", "3310", "128", "IMEI", "good"], "the make “Nokia” is not one we buy"),
        (["Apple", "", "128", "IMEI", "good"], "the model is missing"),
        (
            ["Apple", "Galaxy S24", "256", "IMEI", "good"],
            "“Galaxy S24” is not one we buy from Apple",
        ),
        (["Apple", "iPhone 8", "64", "IMEI", "good"], "not buying the Apple iPhone 8"),
        (["Apple", "iPhone 13", "", "IMEI", "good"], "the storage is missing"),
        (["Apple", "iPhone 13", "lots", "IMEI", "good"], "the storage “lots” is not a size"),
        (
            ["Apple", "iPhone 13", "512", "IMEI", "good"],
            "we do not buy the Apple iPhone 13 with 512 GB (we buy 128 GB, 256 GB)",
        ),
        (["Apple", "iPhone 13", "128", "", "good"], "the IMEI is missing"),
        (["Apple", "iPhone 13", "128", "12345", "good"], "an IMEI has exactly 15 digits"),
        (["Apple", "iPhone 13", "128", "3.52099E+14", "good"], "turned into a number"),
        (["Apple", "iPhone 13", "128", "A1000012345678", "good"], "MEID"),
        (["Apple", "iPhone 13", "128", "IMEI", "okay"], "the condition “okay” is not one of"),
        (["Apple", "iPhone 13", "128", "IMEI", ""], "the condition is missing"),
    ],
)
def test_it_refuses_a_bad_line_saying_why(catalog, row, says):
    row = [valid_imei() if cell == "IMEI" else cell for cell in row]
    result = read_device_list(csv_bytes([good_row(), row]))
    (bad,) = result.bad_rows
    assert bad.line == 3 and says in bad.message and bad.message.startswith("Line 3: ")
    assert [d.line for d in result.devices] == [2]


def test_it_quotes_a_long_cell_cut_short(catalog):
    result = read_device_list(csv_bytes([good_row(model="x" * 5000)]))
    (bad,) = result.bad_rows
    assert f"the model “{'x' * 39}…” is not one we buy" in bad.message
    assert len(bad.message) < 100


def test_it_lists_every_problem_of_a_line(catalog):
    result = read_device_list(csv_bytes([["Apple", "iPhone 99", "128", "123", "meh"]]))
    (bad,) = result.bad_rows
    assert len(bad.problems) == 3
    assert bad.message == (
        "Line 2: the model “iPhone 99” is not one we buy from Apple; "
        "IMEI “123”: an IMEI has exactly 15 digits; "
        "the condition “meh” is not one of excellent, good, fair, poor, broken."
    )


@pytest.mark.parametrize(
    "make, model, storage, product",
    [
        ("Apple", "iPhone 13", "128", "iphone_128"),
        ("apple", "IPHONE 13", "128 GB", "iphone_128"),
        ("APPLE", "iphone-13", "128GB", "iphone_128"),
        ("Apple", "Apple iPhone 13", "256 gb", "iphone_256"),
        ("Samsung", "Galaxy S24", "256", "s24"),
        ("samsung", "galaxy s24+", "256", "s24_plus"),
        ("Samsung", "Galaxy-S24-Plus", "256", "s24_plus"),
    ],
)
def test_it_matches_the_catalog_however_it_is_written(catalog, make, model, storage, product):
    result = read_device_list(csv_bytes([[make, model, storage, valid_imei(), "good"]]))
    (device,) = result.devices
    assert device.product == catalog[product]


def test_it_reads_terabytes(catalog, db):
    iphone = catalog["iphone_128"].device_model
    one_tb = ProductFactory(device_model=iphone, storage_gb=1024)
    for size in ("1 TB", "1TB", "1024"):
        (device,) = read_device_list(csv_bytes([good_row(storage=size)])).devices
        assert device.product == one_tb


@pytest.mark.parametrize(
    "word, answers",
    [
        ("excellent", (Screen.FLAWLESS, Body.LIKE_NEW, Battery.GOOD)),
        ("Like New", (Screen.FLAWLESS, Body.LIKE_NEW, Battery.GOOD)),
        ("GOOD", (Screen.SCRATCHED, Body.WORN, Battery.GOOD)),
        ("fair", (Screen.SCRATCHED, Body.WORN, Battery.WORN)),
        ("poor", (Screen.CRACKED, Body.DAMAGED, Battery.WORN)),
        ("broken", (Screen.BROKEN, Body.DAMAGED, Battery.SERVICE)),
        ("not working", (Screen.BROKEN, Body.DAMAGED, Battery.SERVICE)),
    ],
)
def test_a_condition_word_stands_for_the_four_answers(catalog, word, answers):
    (device,) = read_device_list(csv_bytes([good_row(condition=word)])).devices
    assert (device.screen, device.body, device.battery) == answers
    assert device.accessories == Accessories.NONE
    assert device.answers() == {
        "screen": answers[0],
        "body": answers[1],
        "battery": answers[2],
        "accessories": Accessories.NONE,
    }


def test_every_condition_word_gives_answers_the_buyer_form_accepts():
    for answers in CONDITIONS.values():
        assert answers.screen in Screen.values and answers.body in Body.values
        assert answers.battery in Battery.values and answers.accessories in Accessories.values


# --- IMEIs --------------------------------------------------------------------------------------
def test_it_reads_imeis_as_people_write_them(catalog):
    imei = valid_imei()
    spaced = f"{imei[:2]} {imei[2:8]} {imei[8:14]} {imei[14]}"
    (device,) = read_device_list(csv_bytes([good_row(spaced)])).devices
    assert device.imei == imei


def test_a_number_cell_gets_back_the_leading_zero_of_its_imei(catalog):
    imei = valid_imei(prefix="01326300")
    result = read_device_list(xlsx_bytes([["Apple", "iPhone 13", 128, int(imei), "good"]]))
    (device,) = result.devices
    assert device.imei == imei and imei.startswith("0")


def test_it_refuses_every_line_of_an_imei_listed_twice(catalog):
    twice = valid_imei()
    rows = [good_row(twice), good_row(), good_row(twice), good_row(twice)]
    result = read_device_list(csv_bytes(rows))
    assert [(row.line, row.problems) for row in result.bad_rows] == [
        (2, (f"IMEI {twice} is also on line 4, 5",)),
        (4, (f"IMEI {twice} is also on line 2, 5",)),
        (5, (f"IMEI {twice} is also on line 2, 4",)),
    ]
    assert [d.line for d in result.devices] == [3]


def test_the_same_imei_written_two_ways_is_a_duplicate(catalog):
    imei = valid_imei()
    result = read_device_list(csv_bytes([good_row(imei), good_row(f"IMEI: {imei}")]))
    assert [row.line for row in result.bad_rows] == [2, 3]


def test_it_refuses_an_imei_already_in_a_live_trade_in(catalog, make_trade_in):
    live = make_trade_in(imei=valid_imei())
    result = read_device_list(csv_bytes([good_row(), good_row(live.imei)]))
    (bad,) = result.bad_rows
    assert bad.line == 3 and bad.held_by == live.reference
    assert bad.message == (
        f"Line 3: IMEI {live.imei} is already with us (in an open trade-in or in stock)."
    )
    assert live.reference not in bad.message  # the seller is not told whose trade-in it is


def test_it_refuses_an_imei_whose_unit_is_in_stock(catalog, make_trade_in):
    # Closed (paid) but its unit is still on the shelf: the IMEI is still taken.
    closed = make_trade_in(State.CLOSED, imei=valid_imei())
    assert closed.unit.is_stocked
    (bad,) = read_device_list(csv_bytes([good_row(closed.imei)])).bad_rows
    assert bad.held_by == closed.reference


def test_it_refuses_an_imei_of_a_stocked_unit_of_no_trade_in(catalog):
    product = catalog["iphone_128"]
    in_stock, gone = valid_imei(), valid_imei()
    unit = Unit.objects.create(product=product, imei=in_stock, status=UnitStatus.GRADED)
    Unit.objects.create(product=product, imei=gone, status=UnitStatus.VOID)
    result = read_device_list(csv_bytes([good_row(in_stock), good_row(gone)]))
    (bad,) = result.bad_rows
    assert (bad.line, bad.held_by) == (2, f"unit #{unit.pk}")
    assert [d.imei for d in result.devices] == [gone]


def test_an_imei_of_a_finished_trade_in_is_free_again(catalog, make_trade_in):
    declined = make_trade_in(State.DECLINED, imei=valid_imei())
    result = read_device_list(csv_bytes([good_row(declined.imei)]))
    assert result.ok and result.devices[0].imei == declined.imei


# --- the template -------------------------------------------------------------------------------
def test_the_template_is_a_header_and_one_example_that_reads_back(catalog):
    lines = DEVICE_LIST_TEMPLATE_CSV.splitlines()
    assert len(lines) == 2 and lines[0] == ",".join(HEADER)
    result = read_device_list(DEVICE_LIST_TEMPLATE_CSV.encode())
    assert result.ok
    (device,) = result.devices
    assert device.product == catalog["iphone_128"] and device.line == 2


def test_it_refuses_an_xlsx_that_unpacks_to_far_more_than_a_list_before_unpacking_it(catalog):
    import zipfile

    from workflows.rules.sheets import XLSX_MAX_UNPACKED_BYTES

    # A zip bomb shaped like a workbook: a few hundred KB that would unpack past the bound.
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", b"\x00" * (XLSX_MAX_UNPACKED_BYTES + 1))
    data = packed.getvalue()
    assert len(data) < 2 * 1024 * 1024  # within the upload cap
    assert "far more than a device list" in the_error(data)
