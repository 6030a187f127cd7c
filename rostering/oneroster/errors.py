"""The one error every OneRoster source raises: what is wrong and exactly where."""


class SourceError(Exception):
    """A bundle or server that cannot be synced: a message for the admin, plus where (file
    or endpoint, line or item, sourcedId) so they can find it in their SIS."""

    def __init__(
        self, message: str, *, file: str = "", line: int | None = None, sourced_id: str = ""
    ):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.sourced_id = sourced_id

    def as_dict(self) -> dict:
        return {
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "sourced_id": self.sourced_id,
        }

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (
                self.file,
                f"line {self.line}" if self.line else "",
                f"sourcedId {self.sourced_id}" if self.sourced_id else "",
            )
            if part
        )
        return f"{where}: {self.message}" if where else self.message


class BundleInvalid(SourceError):
    """Several problems found in one pass, so the admin fixes them all at once."""

    def __init__(self, errors: list[SourceError], *, more: int = 0):
        first = errors[0]
        summary = first.message if len(errors) == 1 else f"{len(errors) + more} problems found"
        super().__init__(summary, file=first.file, line=first.line, sourced_id=first.sourced_id)
        self.errors = errors
        self.more = more
