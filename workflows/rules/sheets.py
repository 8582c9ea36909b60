"""The rows of an uploaded spreadsheet, CSV or XLSX, numbered as the spreadsheet numbers them.

CSV: UTF-8 with or without a byte-order mark, separated by commas, semicolons or tabs (whichever
the first line uses most); a quoted cell may hold a line break and is still one row. XLSX: the
first sheet, values as last calculated. The format is told by the content, not the file name.
Blank rows are yielded (empty), so the n-th row yielded is the spreadsheet's row n.

Why not tablib (django-import-export's loader): it drops blank lines, so its row numbers are
not the spreadsheet's, and it refuses a line longer than the header; the csv module and
openpyxl (which tablib itself uses for XLSX) give the rows as they are.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from collections.abc import Iterator

import openpyxl
from django.utils.translation import gettext as _

from workflows.errors import InvalidInput


def sheet_rows(data: bytes) -> Iterator[list[object]]:
    """The file's rows, the header first, whatever its format."""
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_rows(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise InvalidInput(_("This is an old Excel file (.xls): please save it as .xlsx or CSV."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(
            _("This file is not a CSV in UTF-8 or an XLSX: please save it as CSV UTF-8 or XLSX.")
        ) from None
    if "\x00" in text:
        raise InvalidInput(_("This file is not a CSV or an XLSX."))
    return _csv_rows(text)


def _csv_rows(text: str) -> Iterator[list[object]]:
    first_line = text.split("\n", 1)[0]
    delimiter = max([",", ";", "\t"], key=first_line.count)
    try:
        # One record per spreadsheet row, even when a quoted cell holds a line break.
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error:
        raise InvalidInput(_("This file could not be read as CSV.")) from None


# An XLSX is a zip: a file within the upload cap can unpack to gigabytes. A device list of the
# most rows allowed unpacks to a few MB; more than this is refused before anything is unpacked
# (zipfile reads no more of an entry than its header declares).
XLSX_MAX_UNPACKED_BYTES = 50 * 1024 * 1024
# The columns read of an XLSX row. A sheet's own <dimension> (which openpyxl trusts) could
# claim 16,384 columns in a 2 KB file, and every row, even a missing one, would then be padded
# to that width: a million rows of 16,384 cells from one tiny upload. A device list's columns
# sit well within the first 256; cells beyond are not read.
XLSX_MAX_COLUMNS = 256


def _xlsx_rows(data: bytes) -> Iterator[list[object]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(entry.file_size for entry in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise InvalidInput(_("This file could not be read as XLSX.")) from None
    if unpacked > XLSX_MAX_UNPACKED_BYTES:
        raise InvalidInput(_("This XLSX holds far more than a device list: please send a CSV."))
    # openpyxl raises many kinds of error on a damaged or foreign zip (BadZipFile, KeyError,
    # InvalidFileException, XML errors, ...): any of them means the same thing to the person.
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise InvalidInput(_("This file could not be read as XLSX.")) from None
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # the rows and cells that are there, not what the file claims
        # Read-only sheets yield an empty row for each row with nothing in it: numbers stay true.
        for row in sheet.iter_rows(values_only=True, max_col=XLSX_MAX_COLUMNS):
            yield list(row)
    except Exception:
        raise InvalidInput(_("This file could not be read as XLSX.")) from None
    finally:
        book.close()


def cell_text(value: object) -> str:
    """A cell as text: numbers from XLSX without a trailing ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()
