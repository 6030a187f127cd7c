"""`manage.py import_users`: a staff or student file through the same steps as Settings >
Imports (check every row, then create in batches), run in this process for one district.

Exit codes: 0 every row imported (or a clean dry run); 1 rows had errors or failed;
2 the input was refused (file, district, options, columns) and nothing was written.
"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from bulkactions import services
from bulkactions.importing import commit, review
from bulkactions.importing.columns import FIELDS_BY_NAME
from bulkactions.importing.results import problems_in_order, results_csv, review_csv
from bulkactions.management.commands import _import_input as _input
from bulkactions.models import (
    ImportJob,
    ImportKind,
    ImportMode,
    ImportPasswordMode,
    ImportRow,
    ImportStatus,
    RowStatus,
)
from schools.management.commands._base import district_by_slug
from schools.tenancy import district_scope

ROWS_FAILED = 1
ERROR_ROWS_SHOWN = 20
# Before commit an import can be dropped without a trace; after, it must finish.
BEFORE_COMMIT = (
    ImportStatus.MAPPING,
    ImportStatus.VALIDATING,
    ImportStatus.REVIEW,
    ImportStatus.FAILED,
)


class Command(BaseCommand):
    help = (
        "Import staff or students from a CSV or .xlsx file into one district, with the checks "
        "of Settings > Imports: every row is checked first, and unless --skip-errors is given "
        "a single row with errors means nothing is written. Progress goes to stderr; the "
        "report and the summary to stdout; a results CSV is written. Exit code 0: all rows "
        "imported; 1: some rows had errors or failed; 2: the input was refused. Example: "
        "import_users students.csv --district northfield --type students --dry-run"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV or .xlsx file; its first row names the columns.")
        parser.add_argument(
            "--district", required=True, metavar="SLUG", help="The district's slug."
        )
        parser.add_argument(
            "--type",
            dest="kind",
            required=True,
            choices=ImportKind.values,
            help="Who the file lists.",
        )
        parser.add_argument(
            "--password-mode",
            choices=ImportPasswordMode.values,
            default=ImportPasswordMode.EMAIL,
            help="Students only. email (default): each person gets an activation email. set: "
            "passwords from the file's Password column, or generated; needs --actor, who "
            "finds them on the import's credentials page. Passwords are never printed.",
        )
        parser.add_argument(
            "--update",
            action="store_true",
            help="Also update accounts that already exist (matched by email, username or SIS "
            "id). Without it, a row for an existing account is an error.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check every row and write the report and results CSV, but create nothing.",
        )
        parser.add_argument(
            "--mapping",
            metavar="COLUMNS",
            help="Which column holds which field, when the names are not recognised: inline, "
            '"Given=first_name,Family=last_name" (an empty field ignores the column), or the '
            'path of a JSON file like {"Given": "first_name"}. Fields: '
            + ", ".join(FIELDS_BY_NAME),
        )
        parser.add_argument(
            "--skip-errors",
            action="store_true",
            help="Import the rows without errors and skip the others (exit code 1 all the same).",
        )
        parser.add_argument(
            "--results",
            metavar="PATH",
            help="Where to write the results CSV: a file or a folder. "
            "Default: import-<id>-results.csv in the current folder.",
        )
        parser.add_argument(
            "--actor",
            metavar="USERNAME",
            help="Username of a district or school admin of the district, recorded as who "
            "imported (and who gets the summary email). Default: System.",
        )

    def handle(self, *args, **options):
        kind, password_mode = options["kind"], options["password_mode"]
        if kind == ImportKind.STAFF and password_mode != ImportPasswordMode.EMAIL:
            raise _input.refused(
                "Staff always choose their own password from an activation email: "
                "leave out --password-mode for a staff import."
            )
        if (
            password_mode == ImportPasswordMode.SET
            and not options["actor"]
            and not options["dry_run"]
        ):
            raise _input.refused(
                "--password-mode set needs --actor USERNAME: the passwords are shown only to "
                "that admin, on the import's credentials page."
            )
        results_target = _input.results_target(options["results"])
        try:
            district = district_by_slug(options["district"])
        except CommandError as error:
            raise _input.refused(str(error)) from None
        source = Path(options["file"])
        data = _input.file_bytes(source)

        with district_scope(district.pk):
            actor = _input.actor(district, options["actor"])
            mapping = None
            if options["mapping"]:
                mapping = _input.mapping_from_option(
                    options["mapping"],
                    district=district,
                    kind=kind,
                    password_mode=password_mode,
                    data=data,
                    file_name=source.name,
                )
            try:
                job = services.import_start(
                    district=district,
                    actor=actor,
                    kind=kind,
                    file_name=source.name,
                    data=data,
                    password_mode=password_mode,
                    mode=ImportMode.UPDATE if options["update"] else ImportMode.CREATE,
                    mapping=mapping,
                    enqueue=False,
                )
            except ValidationError as error:
                raise _input.refused(f"{source}: " + " ".join(error.messages)) from None
            try:
                self._run(job, actor=actor, options=options, results_target=results_target)
            except KeyboardInterrupt:
                raise CommandError(self._stopped(job), returncode=130) from None
            finally:
                _abandon_unless_committed(job, actor)

    def _run(self, job: ImportJob, *, actor: User | None, options, results_target) -> None:
        if job.status == ImportStatus.MAPPING:
            raise _input.refused(_input.missing_columns_message(job, options["file"]))
        self._validate(job)
        job.refresh_from_db()
        if job.status == ImportStatus.FAILED:
            raise _input.refused(f"{options['file']}: {job.failure}")
        self._report(job)
        results_path = _input.results_path(results_target, job)
        blocked = job.error_rows and (not options["skip_errors"] or not job.rows_to_create)
        if options["dry_run"] or blocked:
            self._write(results_path, review_csv(job), job)
            self.stdout.write(f"Checked rows: {results_path}")
            if blocked:
                raise CommandError(_blocked_message(job, options), returncode=ROWS_FAILED)
            self.stdout.write(
                self.style.SUCCESS("Dry run: every row is ready; nothing was written.")
            )
            return
        self._commit(job, actor=actor, skip_errors=options["skip_errors"])
        job.refresh_from_db()
        self._summary(job, actor)
        self._write(results_path, results_csv(job), job)
        self.stdout.write(f"Results: {results_path}")
        not_imported = job.failed_count + job.skipped_count
        if not_imported:
            raise CommandError(
                f"{_rows(not_imported)} of {job.file_name} {'was' if not_imported == 1 else 'were'} "
                f"not imported: the reasons are in {results_path}",
                returncode=ROWS_FAILED,
            )
        self.stdout.write(self.style.SUCCESS(f"Import #{job.pk} finished."))

    def _validate(self, job: ImportJob) -> None:
        shown = set()

        def progress(done, total):
            if done not in shown:
                shown.add(done)
                self.stderr.write(f"Checked {done:,} of {total:,} rows")

        try:
            review.job_validate(job, job.run_token, on_progress=progress)
        except review.Superseded:
            raise CommandError(_taken_over(job), returncode=ROWS_FAILED) from None

    def _report(self, job: ImportJob) -> None:
        self.stdout.write(f"Import #{job.pk}: {job.file_name}, {_rows(job.total_rows)} checked")
        self.stdout.write(f"Ready: {job.valid_rows:,}")
        self.stdout.write(f"Ready, with warnings: {job.warning_rows:,}")
        self.stdout.write(f"With errors: {job.error_rows:,}")
        rows = ImportRow.objects.filter(job=job, status=RowStatus.ERROR).order_by("number")
        for row in rows[:ERROR_ROWS_SHOWN]:
            for name, messages in problems_in_order(row.errors):
                field = "" if name == "_row" else f"{name}: "
                for message in messages:
                    self.stdout.write(f"Row {row.number}: {field}{message}")
        if job.error_rows > ERROR_ROWS_SHOWN:
            more = job.error_rows - ERROR_ROWS_SHOWN
            self.stdout.write(f"… and {_rows(more)} more with errors (all are in the CSV)")

    def _commit(self, job: ImportJob, *, actor: User | None, skip_errors: bool) -> None:
        try:
            job = services.import_commit(
                job=job, actor=actor, skip_errors=skip_errors, enqueue=False
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages), returncode=ROWS_FAILED) from None
        total = job.rows_to_create
        try:
            if job.sets_passwords:
                self._hash_passwords(job)

            def progress():
                done = sum(
                    ImportJob.objects.filter(pk=job.pk)
                    .values_list(
                        "created_count", "updated_count", "unchanged_count", "failed_count"
                    )
                    .get()
                )
                self.stderr.write(f"Imported {done:,} of {total:,} rows")

            commit.job_commit(job, job.run_token, on_progress=progress)
        except review.Superseded:
            raise CommandError(_taken_over(job), returncode=ROWS_FAILED) from None

    def _hash_passwords(self, job: ImportJob) -> None:
        """What the hash_import_passwords tasks do on the workers, one chunk after another."""
        starts = commit.hash_chunk_starts(job)
        total = commit.rows_needing_hash(job).count()
        done = 0
        for chunk, first_number in enumerate(starts, start=1):
            done += commit.passwords_hash_chunk(job, first_number)
            review.heartbeat(job, job.run_token)
            if chunk % 10 == 0 or chunk == len(starts):
                self.stderr.write(f"Prepared {done:,} of {total:,} passwords")

    def _summary(self, job: ImportJob, actor: User | None) -> None:
        self.stdout.write(f"Created: {job.created_count:,}")
        self.stdout.write(f"Updated: {job.updated_count:,}")
        self.stdout.write(f"Unchanged: {job.unchanged_count:,}")
        self.stdout.write(f"Skipped: {job.skipped_count:,}")
        self.stdout.write(f"Failed: {job.failed_count:,}")
        if job.has_credentials and actor is not None:
            url = job.district.url(f"/settings/imports/{job.pk}/credentials/")
            until = job.credentials_expire_at.strftime("%Y-%m-%d %H:%M %Z")
            self.stdout.write(
                f"Passwords: {actor.username} can see and print them until {until} at {url}"
            )

    def _write(self, path: Path, content: bytes, job: ImportJob) -> None:
        try:
            path.write_bytes(content)
        except OSError as error:
            page = job.district.url(f"/settings/imports/{job.pk}/")
            raise CommandError(
                f"Cannot write {path}: {error.strerror or error}. Import #{job.pk}'s page "
                f"shows its rows: {page}",
                returncode=ROWS_FAILED,
            ) from None

    def _stopped(self, job: ImportJob) -> str:
        status = ImportJob.objects.filter(pk=job.pk).values_list("status", flat=True).first()
        if status in BEFORE_COMMIT:
            return f"Stopped: import #{job.pk} is abandoned and nothing was written."
        return (
            f"Stopped while creating accounts: the workers carry import #{job.pk} on within "
            f"a few minutes. Follow it at {job.district.url(f'/settings/imports/{job.pk}/')}"
        )


def _rows(count: int) -> str:
    return f"{count:,} row" if count == 1 else f"{count:,} rows"


def _blocked_message(job: ImportJob, options) -> str:
    if options["dry_run"]:
        return f"Dry run: {_rows(job.error_rows)} with errors; nothing was written."
    if not job.rows_to_create:
        return (
            f"{_rows(job.error_rows)} with errors and none ready, so nothing was written: "
            "fix them in the file and run again."
        )
    return (
        f"{_rows(job.error_rows)} with errors, so nothing was written: fix them in the file "
        "and run again, or add --skip-errors to import the other rows."
    )


def _taken_over(job: ImportJob) -> str:
    return (
        f"Import #{job.pk} was resumed or abandoned from elsewhere, so this run stopped: "
        f"see {job.district.url(f'/settings/imports/{job.pk}/')}"
    )


def _abandon_unless_committed(job: ImportJob, actor: User | None) -> None:
    """A dry run, a refused file or an interrupted check leaves no job waiting for review."""
    status = ImportJob.objects.filter(pk=job.pk).values_list("status", flat=True).first()
    if status in BEFORE_COMMIT:
        services.import_abandon(job=job, actor=actor)
