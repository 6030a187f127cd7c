"""What import_users is given, checked before anything is written: the file, the actor,
where the results go, and the --mapping option (column names to fields)."""

import json
import os
from pathlib import Path

from django.core.management.base import CommandError

from accounts.models import Role, User
from bulkactions.importing.columns import (
    FIELDS_BY_NAME,
    columns_match,
    fields_for,
    header_key,
    missing_fields,
)
from bulkactions.importing.parse import FileRejected, file_size_problem, table_read
from bulkactions.models import ImportJob, ImportMapping
from schools.models import District

BAD_INPUT = 2


def refused(message: str) -> CommandError:
    return CommandError(message, returncode=BAD_INPUT)


def file_bytes(path: Path) -> bytes:
    if path.is_dir():
        raise refused(f"{path} is a folder: give the path of a CSV or .xlsx file.")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise refused(f"{path}: no such file. Check the path and the current folder.") from None
    except OSError as error:
        raise refused(f"Cannot read {path}: {error.strerror or error}.") from None
    problem = file_size_problem(size)
    if problem:
        raise refused(f"{path}: {problem}.")
    try:
        return path.read_bytes()
    except OSError as error:
        raise refused(f"Cannot read {path}: {error.strerror or error}.") from None


def results_target(option: str | None) -> Path:
    """Checked before anything runs: after a commit, a results file that cannot be
    written would leave the rows' outcomes on the web page only."""
    path = Path(option or ".")
    folder = path if path.is_dir() else path.absolute().parent
    where = f"--results {option}" if option else f"The current folder ({folder})"
    if not folder.is_dir():
        raise refused(f"{where}: its folder does not exist.")
    if not os.access(folder, os.W_OK):
        raise refused(f"{where}: cannot write there. Give a folder you can write with --results.")
    return path


def results_path(target: Path, job: ImportJob) -> Path:
    """A folder gets import-<id>-results.csv; a file name is used as given."""
    return (target / f"import-{job.pk}-results.csv" if target.is_dir() else target).absolute()


def actor(district: District, username: str | None) -> User | None:
    if not username:
        return None
    user = User.objects.filter(district=district, username__iexact=username.strip()).first()
    if user is None:
        raise refused(f"--actor {username}: no account in {district.slug} has this username.")
    if user.role not in (Role.DISTRICT_ADMIN, Role.SCHOOL_ADMIN):
        raise refused(
            f"--actor {username} is a {user.get_role_display().lower()}: give the username of "
            f"a district or school admin of {district.slug}."
        )
    if not user.is_active:
        raise refused(f"--actor {username}: this account cannot sign in (deactivated).")
    return user


def mapping_from_option(
    value: str, *, district: District, kind: str, password_mode: str, data: bytes, file_name: str
) -> dict[str, str] | None:
    """The file's column index → field: what the import would match by itself, with the
    columns named in --mapping set (or, with an empty field, left out) as given."""
    pairs = _mapping_pairs(value)
    try:
        header = table_read(data, file_name=file_name).header
    except FileRejected as error:
        raise refused(f"{file_name}: {error}.") from None
    if not any(header):
        return None  # import_start says what is wrong with such a file
    remembered = (
        ImportMapping.objects.filter(district=district, kind=kind)
        .values_list("columns", flat=True)
        .first()
    )
    mapping = columns_match(header, kind=kind, password_mode=password_mode, remembered=remembered)
    fields = {}
    for field in fields_for(kind, password_mode):
        fields[header_key(field.name)] = fields[header_key(field.label)] = field.name
    chosen: dict[str, str] = {}
    for text, field_text in pairs.items():
        index = _column_of(text, header)
        if index is None:
            raise refused(
                f'--mapping: the file has no column "{text}". Its columns: {_quoted(header)}.'
            )
        name = fields.get(header_key(field_text)) if field_text.strip() else ""
        if name is None:
            valid = ", ".join(f.name for f in fields_for(kind, password_mode))
            raise refused(
                f'--mapping: "{field_text}" is not a field of a {kind} import. Use one of: '
                f"{valid} (or nothing after = to ignore a column)."
            )
        if name and name in chosen:
            raise refused(
                f'--mapping: {name} is given for both "{chosen[name]}" and "{text}": '
                "choose one column."
            )
        if name:
            chosen[name] = text
        mapping = {i: n for i, n in mapping.items() if i != str(index) and n != name}
        if name:
            mapping[str(index)] = name
    return mapping


def _mapping_pairs(value: str) -> dict[str, str]:
    """Header text → field, from a JSON file or from "Header A=first_name,Header B=last_name"."""
    path = Path(value)
    if value.lower().endswith(".json") or path.is_file():
        try:
            pairs = json.loads(path.read_text(encoding="utf-8-sig"))
        except OSError as error:
            raise refused(f"--mapping: cannot read {value}: {error.strerror or error}.") from None
        except ValueError as error:
            raise refused(f"--mapping: {value} is not valid JSON ({error}).") from None
        if not isinstance(pairs, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in pairs.items()
        ):
            raise refused(
                f"--mapping: {value} must hold one object of column names to fields, like "
                '{"Given name": "first_name", "Surname": "last_name"}.'
            )
        return pairs
    pairs = {}
    for part in value.split(","):
        if not part.strip():
            continue
        text, equals, field = part.rpartition("=")
        if not equals or not text.strip():
            raise refused(
                f'--mapping: "{part.strip()}" is not Column=field. Write for example '
                '--mapping "Given name=first_name,Surname=last_name".'
            )
        pairs[text.strip()] = field.strip()
    if not pairs:
        raise refused('--mapping is empty: write for example --mapping "Given name=first_name".')
    return pairs


def _column_of(text: str, header: list[str]) -> int | None:
    """Exact text first, then ignoring case, then as loosely as automatic matching does."""
    wanted = text.strip()
    for same in (
        lambda cell: cell.strip() == wanted,
        lambda cell: cell.strip().lower() == wanted.lower(),
        lambda cell: header_key(cell) and header_key(cell) == header_key(wanted),
    ):
        for index, cell in enumerate(header):
            if same(cell):
                return index
    return None


def _quoted(header: list[str]) -> str:
    return ", ".join(f'"{cell}"' for cell in header if cell.strip()) or "none"


def missing_columns_message(job: ImportJob, file: str) -> str:
    missing = missing_fields(job.mapping, kind=job.kind, password_mode=job.password_mode)
    wanted = ", ".join(f"{FIELDS_BY_NAME[name].label} ({name})" for name in missing)
    example = ",".join(f"Column name={name}" for name in missing)
    return (
        f"{file}: no column was recognised as {wanted}.\n"
        f"The file's columns: {_quoted(job.header)}.\n"
        f'Say which column holds what with --mapping, e.g. --mapping "{example}".'
    )
