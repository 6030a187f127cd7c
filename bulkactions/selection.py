"""Choosing the people of a bulk action from a file: one column of emails or usernames
(CSV or .xlsx, with or without a header), matched to the accounts an admin may act on.

Every line that matches nobody is kept with its reason, so the review (the wizard's or
`manage.py bulk_action`'s) can list them next to the people found.
"""

from dataclasses import dataclass, field

from django.db.models.functions import Lower

from accounts.models import User
from accounts.selectors import LIST_KINDS, STUDENTS, users_visible_to
from bulkactions.importing.columns import FIELDS_BY_NAME, header_key
from bulkactions.importing.parse import FileRejected, table_read
from schools.models import District

# Emails first: a row with both names its account by email.
IDENTIFIER_KEYS = FIELDS_BY_NAME["email"].aliases + FIELDS_BY_NAME["username"].aliases
LOOKUP_CHUNK = 5000  # SQLite allows a limited number of query parameters

UNKNOWN = "No account with this email or username"
NOT_VISIBLE = "Not at one of your schools"
EMPTY_CELL = "No email or username on this line"
WRONG_KIND = {STUDENTS: "Not a student"}


class SelectionRejected(Exception):
    """The file cannot be used at all; the message says what to do."""


@dataclass(frozen=True)
class Unmatched:
    line: int
    text: str
    reason: str


@dataclass
class FileSelection:
    user_ids: list[int] = field(default_factory=list)  # in file order, each once
    unmatched: list[Unmatched] = field(default_factory=list)
    lines: int = 0

    def users(self):
        return User.objects.filter(pk__in=self.user_ids)


def people_from_file(
    *, district: District, actor: User | None, kind: str, data: bytes, file_name: str = ""
) -> FileSelection:
    """The accounts a file names, and each line that names nobody with why. Raises
    SelectionRejected for a file that is not a table or has no column of identifiers."""
    try:
        table = table_read(data, file_name=file_name)
    except FileRejected as error:
        raise SelectionRejected(str(error)) from None
    lines = list(_identifier_lines(table))
    accounts = _accounts(district, {text.lower() for _, text in lines if text})
    visible = _visible_ids(actor, [user.pk for user in accounts.values()])
    wanted_roles = LIST_KINDS[kind]
    selection = FileSelection(lines=len(lines))
    first_line_of: dict[str, int] = {}  # identifier text or "#<user id>" → line
    for number, text in lines:
        reason = None
        user = accounts.get(text.lower()) if text else None
        earlier = first_line_of.get(text.lower()) or (user and first_line_of.get(f"#{user.pk}"))
        if not text:
            reason = EMPTY_CELL
        elif earlier:
            reason = f"Duplicate of line {earlier}"
        elif user is None:
            reason = UNKNOWN
        elif visible is not None and user.pk not in visible:
            reason = NOT_VISIBLE
        elif user.role not in wanted_roles:
            reason = WRONG_KIND.get(kind, "Not staff")
        if text:
            first_line_of.setdefault(text.lower(), number)
        if user is not None:
            first_line_of.setdefault(f"#{user.pk}", number)
        if reason:
            selection.unmatched.append(Unmatched(number, text, reason))
        else:
            selection.user_ids.append(user.pk)
    return selection


def _identifier_lines(table):
    """(line number, text) per row: the first non-empty identifier column of each, or the
    only column of a file without a header."""
    header = [header_key(cell) for cell in table.header]
    columns = sorted(
        (IDENTIFIER_KEYS.index(key), index)
        for index, key in enumerate(header)
        if key in IDENTIFIER_KEYS
    )
    if columns:
        indexes = [index for _, index in columns]
    elif len([cell for cell in table.header if cell]) == 1:
        indexes = [0]
        first = None
        for number, cells in table.rows:
            if first is None:
                # The header line is data here; it came right before the first row.
                first = number - 1
                yield first, table.header[0].strip()
            yield number, _first_cell(cells, indexes)
        if first is None:
            yield 1, table.header[0].strip()
        return
    else:
        named = ", ".join(f'"{cell}"' for cell in table.header if cell) or "none"
        raise SelectionRejected(
            f"No column of emails or usernames was found (the file's columns: {named}). "
            'Name the column "Email" or "Username", or give a file with that one column.'
        )
    for number, cells in table.rows:
        yield number, _first_cell(cells, indexes)


def _first_cell(cells: list[str], indexes: list[int]) -> str:
    for index in indexes:
        if index < len(cells) and cells[index].strip():
            return cells[index].strip()
    return ""


def _accounts(district: District, texts: set[str]) -> dict[str, User]:
    """Lower-cased email or username → the district's account; an email wins over a
    username that happens to be spelled the same."""
    by_username: dict[str, User] = {}
    by_email: dict[str, User] = {}
    texts_list = sorted(texts)
    for start in range(0, len(texts_list), LOOKUP_CHUNK):
        chunk = texts_list[start : start + LOOKUP_CHUNK]
        found = (
            User.objects.filter(district=district)
            .annotate(email_key=Lower("email"), username_key=Lower("username"))
            .only("pk", "role", "email", "username")
        )
        for user in found.filter(email_key__in=chunk):
            by_email[user.email_key] = user
        for user in found.filter(username_key__in=chunk):
            by_username[user.username_key] = user
    return {**by_username, **by_email}


def _visible_ids(actor: User | None, ids: list[int]) -> set[int] | None:
    """None when the actor (or the system) may act on the whole district."""
    if actor is None:
        return None
    visible: set[int] = set()
    for start in range(0, len(ids), LOOKUP_CHUNK):
        chunk = ids[start : start + LOOKUP_CHUNK]
        visible.update(users_visible_to(actor).filter(pk__in=chunk).values_list("pk", flat=True))
    return visible
