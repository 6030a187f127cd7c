"""Reading what spreadsheet programs write: encodings, delimiters, quoting, XLSX, and
files that are not a table at all."""

import datetime
import io

import openpyxl
import pytest
from django.core.exceptions import ValidationError

from bulkactions.models import ImportStatus, RowStatus

HEADER = ["First name", "Last name", "Email", "Year", "School"]


def _csv(lines, delimiter=",", newline="\n") -> str:
    return newline.join(delimiter.join(cells) for cells in lines) + newline


PEOPLE = [
    HEADER,
    ["Zoë", "Raúl", "zoe@alpha.example", "Year 7", "Alpha High"],
    ["Sam", "Okafor", "sam@alpha.example", "8", "Beta Academy"],
]


def _names(job) -> list[tuple[int, str, str]]:
    return [(r.number, r.values["first_name"], r.values["last_name"]) for r in job.rows.all()]


@pytest.mark.parametrize(
    ("encode", "encoding"),
    [
        (lambda text: text.encode("utf-8"), "utf-8"),
        (lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"), "utf-8-sig"),
        (lambda text: b"\xff\xfe" + text.encode("utf-16-le"), "utf-16"),
        (lambda text: b"\xfe\xff" + text.encode("utf-16-be"), "utf-16"),
        (lambda text: text.encode("cp1252"), "windows-1252"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le-bom", "utf-16-be-bom", "windows-1252"],
)
def test_encoding_is_detected_and_accents_survive(run_import, encode, encoding):
    job = run_import("", data=encode(_csv(PEOPLE)))

    assert job.status == ImportStatus.REVIEW
    assert (job.file_format, job.encoding) == ("csv", encoding)
    # The BOM is not part of the first column's name, so "First name" was still matched.
    assert job.header == HEADER
    assert _names(job) == [(2, "Zoë", "Raúl"), (3, "Sam", "Okafor")]
    assert job.valid_rows == 2


@pytest.mark.parametrize("delimiter", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
def test_delimiter_is_detected(run_import, delimiter):
    job = run_import(_csv(PEOPLE, delimiter=delimiter))

    assert job.delimiter == delimiter
    assert job.header == HEADER
    assert _names(job) == [(2, "Zoë", "Raúl"), (3, "Sam", "Okafor")]


def test_semicolon_file_with_commas_inside_values_keeps_them(run_import):
    text = (
        "First name;Last name;Email;Year;School;Classes\n"
        "Sam;Okafor, Jr;sam@alpha.example;Year 7;Alpha High;7A\n"
    )
    job = run_import(text)

    assert job.delimiter == ";"
    assert job.rows.get().values["last_name"] == "Okafor, Jr"


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_quoted_fields_keep_commas_and_line_breaks(run_import, newline):
    text = newline.join(
        [
            "First name,Last name,Email,Year,School",
            '"Sam","Okafor, Jr",sam@alpha.example,Year 7,Alpha High',
            '"Mary' + newline + 'Ann",Lee,mary@alpha.example,Year 7,Alpha High',
            "Lia,Chen,lia@alpha.example,Year 8,Beta Academy",
        ]
    )
    job = run_import(text + newline)

    rows = {r.number: r for r in job.rows.all()}
    assert sorted(rows) == [2, 3, 4]
    assert rows[2].values["last_name"] == "Okafor, Jr"
    # The line break inside a name is folded to a space, and the admin is told.
    assert rows[3].values["first_name"] == "Mary Ann"
    assert rows[3].warnings["first_name"] == ["We removed spaces before or after this value"]
    # No "\r" is left on the last column of a CRLF file.
    assert rows[4].values["schools"] == "Beta Academy"
    assert rows[4].status == RowStatus.VALID


def test_blank_lines_are_skipped_but_row_numbers_follow_the_file(run_import):
    text = (
        "\nFirst name,Last name,Email,Year,School\n"
        "Sam,Okafor,sam@alpha.example,Year 7,Alpha High\n"
        "\n"
        ",,,,\n"
        "  , \t ,,,\n"
        "Lia,Chen,lia@alpha.example,Year 8,Alpha High\n\n"
        " ,Ng,ng@alpha.example,Year 8,Alpha High\n"
    )
    job = run_import(text)

    assert job.total_rows == 3
    assert _names(job) == [(3, "Sam", "Okafor"), (7, "Lia", "Chen"), (9, "", "Ng")]


def _xlsx(*sheets) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for index, lines in enumerate(sheets):
        sheet = book.create_sheet(f"Sheet{index + 1}")
        for line in lines:
            sheet.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_first_sheet_is_read_with_dates_and_whole_numbers_as_text(run_import):
    data = _xlsx(
        [
            [*HEADER, "Student ID"],
            ["Sam", "Okafor", "sam@alpha.example", 7.0, "Alpha High", 1042.0],
            [],
            ["Lia", "Chen", "lia@alpha.example", datetime.date(2024, 7, 7), "Alpha High"],
        ],
        [["Other sheet"], ["Not", "imported"]],
    )
    job = run_import("", data=data, name="pupils.xlsx")

    assert job.file_format == "xlsx"
    assert job.header == [*HEADER, "Student ID"]
    sam, lia = job.rows.all()
    assert sam.number == 2
    assert sam.values["year_group"] == "7"
    assert sam.values["sis_id"] == "1042"
    assert sam.status == RowStatus.VALID
    # The date a spreadsheet made of the year group is shown as a date, not a timestamp.
    assert lia.number == 4
    assert lia.values["year_group"] == "2024-07-07"
    assert lia.errors["year_group"] == [
        "“2024-07-07” looks like a date: a spreadsheet may have changed the year group. "
        "Format the column as text and enter it like Year 7"
    ]


def _refused(run_import, data: bytes, name: str = "people.csv") -> list[str]:
    with pytest.raises(ValidationError) as caught:
        run_import("", data=data, name=name)
    return caught.value.message_dict["file"]


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "people.csv", "The selected file is empty"),
        (b"\n \r\n\t\n", "people.csv", "The selected file is empty"),
        (
            bytes(range(256)) * 8,
            "people.csv",
            "The selected file is not a CSV or Excel file: export your list as CSV or .xlsx "
            "and upload that",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
            "people.xls",
            "This is an old Excel (.xls) file: open it in Excel or LibreOffice and save it as "
            ".xlsx or CSV, then upload that",
        ),
        (
            b"First name,Last name\nSam,Okafor\n",
            "people.xlsx",
            "The selected file is not a real Excel workbook: save it again from your "
            "spreadsheet program as .xlsx or CSV",
        ),
        (
            b"PK\x03\x04 this is not a zip at all",
            "people.xlsx",
            "The selected file is not a readable Excel workbook: open it in your spreadsheet "
            "program, save it as .xlsx or CSV and upload it again",
        ),
    ],
    ids=["empty", "blank", "binary", "old-xls", "csv-named-xlsx", "broken-zip"],
)
def test_a_file_that_is_not_a_table_is_refused_with_what_to_do(run_import, data, name, message):
    from bulkactions.models import ImportJob

    assert _refused(run_import, data, name) == [message]
    assert not ImportJob.objects.exists()


def test_an_empty_first_sheet_is_refused(run_import):
    assert _refused(run_import, _xlsx([]), "people.xlsx") == [
        "The first sheet of the workbook is empty"
    ]


def test_a_file_over_the_size_limit_is_refused(run_import, settings):
    settings.IMPORT_MAX_FILE_MB = 1
    data = _csv(PEOPLE).encode() + b"x" * (1024 * 1024 + 100_000)

    assert _refused(run_import, data) == [
        "The selected file is 1.1 MB: it must be smaller than 1 MB. Split it into smaller "
        "files and import them one by one"
    ]


def test_a_header_without_rows_fails_with_what_to_do(run_import):
    job = run_import("First name,Last name,Email,Year,School\n\n")

    assert job.status == ImportStatus.FAILED
    assert job.failure == (
        "The file has column names but no rows: add one row per person under the header"
    )
    assert not job.rows.exists()


def test_more_rows_than_the_limit_fails_and_stores_nothing(run_import, settings):
    settings.IMPORT_MAX_ROWS = 2
    job = run_import(_csv(PEOPLE + [["Lia", "Chen", "lia@alpha.example", "Year 8", "Alpha High"]]))

    assert job.status == ImportStatus.FAILED
    assert job.failure == (
        "The file has more than 2 rows: split it into files of at most 2 rows and import "
        "them one by one"
    )
    assert not job.rows.exists()


def test_rows_with_too_many_or_too_few_values_get_a_row_error(run_import):
    text = (
        "First name,Last name,Email,Year,School\n"
        "Sam,Okafor,sam@alpha.example,Year 7,Alpha High,extra\n"
        "Lia,Chen,lia@alpha.example,Year 7\n"
        "Max,Roe,max@alpha.example,Year 7,Alpha High\n"
    )
    job = run_import(text)

    rows = {r.number: r for r in job.rows.all()}
    assert rows[2].errors["_row"] == [
        "This row has 6 values but the header has 5 columns (more): check for a delimiter "
        "inside a value that is not in quotes"
    ]
    assert rows[3].errors["_row"] == [
        "This row has 4 values but the header has 5 columns (fewer): check for a delimiter "
        "inside a value that is not in quotes"
    ]
    assert rows[4].status == RowStatus.VALID
    assert (job.valid_rows, job.error_rows) == (1, 2)
