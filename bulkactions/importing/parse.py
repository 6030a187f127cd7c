"""Turning an uploaded file into a header and rows of text, whatever program wrote it.

CSV in UTF-8 (with or without BOM), UTF-16 or Windows-1252; comma, semicolon or tab
delimited; quoted fields with commas and line breaks; CRLF or LF. XLSX: the first
sheet. A file that is not a table is refused with a message that says what to do.
"""

import csv
import datetime
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings

DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


class FileRejected(Exception):
    """The file cannot be imported at all; the message tells the admin what to do."""


@dataclass
class Table:
    format: str  # "csv" or "xlsx"
    header: list[str]
    encoding: str = ""
    delimiter: str = ""
    # Rows as (file row number, cells); blank lines are left out.
    rows: Iterator[tuple[int, list[str]]] = field(default_factory=lambda: iter(()))


def file_size_problem(size: int) -> str | None:
    limit = settings.IMPORT_MAX_FILE_MB
    if size == 0:
        return "The selected file is empty"
    if size > limit * 1024 * 1024:
        return (
            f"The selected file is {size / 1024 / 1024:.1f} MB: it must be smaller than "
            f"{limit} MB. Split it into smaller files and import them one by one"
        )
    return None


def table_read(data: bytes, *, file_name: str = "") -> Table:
    """The header and a row iterator; raises FileRejected for anything that is not a table."""
    problem = file_size_problem(len(data))
    if problem:
        raise FileRejected(problem)
    if data[:4] == b"PK\x03\x04":
        return _xlsx_read(data)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileRejected(
            "This is an old Excel (.xls) file: open it in Excel or LibreOffice and save it as "
            ".xlsx or CSV, then upload that"
        )
    if file_name.lower().endswith((".xlsx", ".xlsm")):
        raise FileRejected(
            "The selected file is not a real Excel workbook: save it again from your "
            "spreadsheet program as .xlsx or CSV"
        )
    text, encoding = _decode(data)
    return _csv_read(text, encoding)


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif len(data) >= 4 and data[1:4:2] == b"\x00\x00" and data[0:4:2] != b"\x00\x00":
        encoding = "utf-16-le"  # UTF-16 without a BOM, as some exports write it
    elif len(data) >= 4 and data[0:4:2] == b"\x00\x00" and data[1:4:2] != b"\x00\x00":
        encoding = "utf-16-be"
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text, encoding = data.decode("cp1252", errors="replace"), "windows-1252"
        else:
            encoding = "utf-8"
        _refuse_binary(text)
        return text, encoding
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise FileRejected(
            "The selected file could not be read as text: save it as CSV (UTF-8) or .xlsx "
            "from your spreadsheet program"
        ) from error
    _refuse_binary(text)
    return text, "utf-16" if encoding.startswith("utf-16") else encoding


def _refuse_binary(text: str) -> None:
    sample = text[:4096]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t")
    if "\x00" in sample or controls > len(sample) // 20:
        raise FileRejected(
            "The selected file is not a CSV or Excel file: export your list as CSV or .xlsx "
            "and upload that"
        )


def _sniff_delimiter(text: str) -> str:
    # The delimiter is the one that splits the header line the most, outside quotes.
    sample = "\n".join(text[:20000].splitlines()[:20])
    best, best_columns = ",", 1
    for delimiter in DELIMITERS:
        lines = list(csv.reader(io.StringIO(sample), delimiter=delimiter))
        lines = [line for line in lines if _has_value(line)]
        if not lines:
            continue
        columns = len(lines[0])
        if columns > best_columns:
            best, best_columns = delimiter, columns
    return best


def _csv_read(text: str, encoding: str) -> Table:
    if not text.strip():
        raise FileRejected("The selected file is empty")
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = None
    for line in reader:
        if _has_value(line):
            header = line
            break
    if header is None:
        raise FileRejected("The selected file is empty")
    header_line = reader.line_num

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = header_line
        try:
            for line in reader:
                number += 1
                # Most rows start with a value: that decides it without a loop over cells.
                if line and (line[0].strip() or _has_value(line)):
                    yield number, line
        except csv.Error as error:
            raise FileRejected(
                f"Row {number + 1} could not be read ({error}): check for a quote mark that "
                "is opened but never closed"
            ) from error

    return Table(
        format="csv",
        header=[cell.strip() for cell in header],
        encoding=encoding,
        delimiter=delimiter,
        rows=rows(),
    )


def _has_value(cells: list[str]) -> bool:
    return any(cell.strip() for cell in cells)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        # A date where text was meant (spreadsheets turn "7-8" into 7 August): kept as the
        # date it became, so validation can say what happened.
        # (A time is always true in Python: compare with midnight.)
        midnight = value.time() == datetime.time(0)
        return value.date().isoformat() if midnight else value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_read(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise FileRejected(
            "The selected file is not a readable Excel workbook: open it in your spreadsheet "
            "program, save it as .xlsx or CSV and upload it again"
        ) from error
    sheet = book.worksheets[0]
    lines = sheet.iter_rows(values_only=True)
    header = None
    number = 0
    for line in lines:
        number += 1
        cells = [_cell_text(value).strip() for value in line]
        if any(cells):
            header = cells
            break
    if header is None:
        book.close()
        raise FileRejected("The first sheet of the workbook is empty")
    while header and not header[-1]:
        header.pop()

    def rows() -> Iterator[tuple[int, list[str]]]:
        current = number
        for line in lines:
            current += 1
            cells = [_cell_text(value) for value in line]
            while len(cells) > len(header) and not cells[-1].strip():
                cells.pop()  # a sheet's used range is often wider than its table
            if _has_value(cells):
                yield current, cells + [""] * (len(header) - len(cells))
        book.close()

    return Table(format="xlsx", header=header, rows=rows())
