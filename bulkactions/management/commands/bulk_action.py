"""`manage.py bulk_action`: one action on many accounts of a district, as Settings > Bulk
actions does it (same services, same history entry), run in this process.

Exit codes: 0 nothing failed (or a dry run); 1 some people failed or some lines of the
selection file matched nobody; 2 the input was refused and nothing was written.
"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from accounts.models import User
from bulkactions import services
from bulkactions.management.commands import _bulk_action_input as _input
from bulkactions.management.commands._import_input import actor as actor_named
from bulkactions.management.commands._import_input import refused
from bulkactions.models import BulkAction, BulkActionStatus, ImportKind, ItemOutcome
from bulkactions.operations import OPERATIONS
from bulkactions.selection import FileSelection
from schools.management.commands._base import district_by_slug, validation_message
from schools.tenancy import district_scope

SOME_FAILED = 1
UNMATCHED_SHOWN = 50
# Rollover has its own command (once a year, per school).
ACTIONS = sorted(code for code in OPERATIONS if code not in ("undo", "rollover")) + ["undo"]


class Command(BaseCommand):
    help = (
        "Runs a bulk action on the staff or students of one district, chosen by list filters "
        "or by a file with one column of emails or usernames; recorded in Settings > Bulk "
        "actions like one started there. Exit code 0: done, nothing failed; 1: some people "
        "failed or some file lines matched nobody; 2: the input was refused. Example: "
        "bulk_action year_group --district northfield --type students "
        '--filter year_group="Year 7" --param year_group="Year 8" --dry-run'
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=ACTIONS, help="What to do to each person.")
        parser.add_argument(
            "--district", required=True, metavar="SLUG", help="The district's slug."
        )
        parser.add_argument(
            "--type", dest="kind", choices=ImportKind.values, help="Who: staff or students."
        )
        chosen = parser.add_mutually_exclusive_group()
        chosen.add_argument(
            "--select-file",
            metavar="FILE",
            help="A CSV or .xlsx file with one column of emails or usernames (a header "
            "naming it Email or Username, or no header).",
        )
        chosen.add_argument(
            "--filter",
            action="append",
            metavar="NAME=VALUE",
            help="Everyone the list shows with these filters (repeatable): "
            + ", ".join(_input.FILTERS)
            + ". Schools, year groups and classes by name or id.",
        )
        parser.add_argument(
            "--param",
            action="append",
            metavar="NAME=VALUE",
            help="The action's question: year_group (name or id), role, school (name, code "
            "or id), classroom (name or id), mode=generate|set with password.",
        )
        parser.add_argument("--of", type=int, metavar="ID", help="undo: the bulk action's id.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would happen; change nothing."
        )
        parser.add_argument(
            "--actor",
            metavar="USERNAME",
            help="Username of a district or school admin recorded as running it (a school "
            "admin reaches only their schools' people). Default: System.",
        )

    def handle(self, *args, **options):
        self._unmatched_count = 0
        try:
            district = district_by_slug(options["district"])
        except CommandError as error:
            raise refused(str(error)) from None
        with district_scope(district.pk):
            actor = actor_named(district, options["actor"])
            if options["action"] == "undo":
                return self._undo(district, actor, options)
            action = self._start(district, actor, options)
            if action is not None:
                self._run(action)

    def _start(self, district, actor: User | None, options) -> BulkAction | None:
        code, kind = options["action"], options["kind"]
        if not kind:
            raise refused("--type is required: staff or students.")
        if kind not in OPERATIONS[code].kinds:
            raise refused(f"{code} is not an action for {kind}.")
        if options["of"] is not None:
            raise refused("--of is for undo only.")
        if not options["select_file"] and options["filter"] is None:
            raise refused(
                "Choose the people: --select-file FILE, or --filter NAME=VALUE "
                "(--filter status=active for everyone active)."
            )
        params = _input.action_params(district, code, _input.pairs(options["param"], "--param"))
        if code == "reset_password" and not actor and not options["dry_run"]:
            raise refused("reset_password needs --actor: the new passwords are shown to them.")
        found = None
        if options["select_file"]:
            path = Path(options["select_file"])
            found, described = _input.people_from_file(district, actor, kind, path)
            users = found.users()
            self._unmatched(found)
        else:
            filters = _input.pairs(options["filter"], "--filter")
            users, described = _input.people_by_filter(district, actor, kind, filters)
        if not users.exists():
            raise refused(f"{described}: nobody to act on, so nothing was done.")
        try:
            preview = services.bulk_action_preview(
                district=district, actor=actor, kind=kind, action=code, params=params, users=users
            )
            self._preview(preview, code, params, district)
            if options["dry_run"]:
                self.stdout.write("Dry run: nothing was changed.")
                return None
            action = services.bulk_action_start(
                district=district,
                actor=actor,
                kind=kind,
                action=code,
                params=params,
                users=users,
                selection=described,
                enqueue=False,
            )
        except ValidationError as error:
            raise refused(validation_message(error)) from None
        self._unmatched_count = len(found.unmatched) if found else 0
        return action

    def _undo(self, district, actor: User | None, options) -> None:
        if options["of"] is None:
            raise refused("undo needs --of ID: the number of the bulk action to undo.")
        for name in ("select_file", "filter", "param", "kind"):
            if options[name]:
                raise refused(f"undo takes no --{name.replace('_', '-')}: it undoes --of ID.")
        original = BulkAction.objects.filter(district=district, pk=options["of"]).first()
        if original is None:
            raise refused(
                f"--of {options['of']}: {district.slug} has no bulk action #{options['of']}."
            )
        self.stdout.write(f"Undo bulk action #{original.pk}: {original.changed_count:,} changed")
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was changed.")
            return
        try:
            undo = services.bulk_action_undo(bulk_action=original, actor=actor, enqueue=False)
        except ValidationError as error:
            raise refused(validation_message(error)) from None
        self._run(undo)

    def _run(self, action: BulkAction) -> None:
        def progress():
            done = BulkAction.objects.get(pk=action.pk).done_count
            self.stderr.write(f"Done {done:,} of {action.total:,}")

        action = services.bulk_action_run(action, action.run_token, on_progress=progress)
        self._summary(action)
        if action.status != BulkActionStatus.DONE:
            raise CommandError(
                f"Bulk action #{action.pk} was taken over by another run: see "
                f"{action.district.url(f'/settings/bulk-actions/{action.pk}/')}",
                returncode=SOME_FAILED,
            )
        if action.failed_count:
            raise CommandError(
                f"{action.failed_count:,} could not be changed: the reasons are above.",
                returncode=SOME_FAILED,
            )
        if self._unmatched_count:
            raise CommandError(
                f"{self._unmatched_count:,} lines of the file matched nobody: they are above.",
                returncode=SOME_FAILED,
            )

    def _preview(self, preview: dict, code: str, params: dict, district) -> None:
        what = OPERATIONS[code].describe(params, district)
        skipped = sum(preview["skipped"].values())
        reasons = ", ".join(f"{reason} ({count:,})" for reason, count in preview["skipped"].items())
        line = f"{what}: {preview['change']:,} will change; {skipped:,} skipped"
        self.stdout.write(line + (f": {reasons}" if reasons else ""))

    def _unmatched(self, found: FileSelection) -> None:
        self.stdout.write(
            f"Selection: {len(found.user_ids):,} matched, "
            f"{len(found.unmatched):,} of {found.lines:,} lines matched nobody"
        )
        for line in found.unmatched[:UNMATCHED_SHOWN]:
            self.stdout.write(f"Line {line.line}: {line.text or '(empty)'}: {line.reason}")
        if len(found.unmatched) > UNMATCHED_SHOWN:
            self.stdout.write(f"… and {len(found.unmatched) - UNMATCHED_SHOWN:,} more")

    def _summary(self, action: BulkAction) -> None:
        self.stdout.write(f"Changed: {action.changed_count:,}")
        for outcome, label in ((ItemOutcome.SKIPPED, "Skipped"), (ItemOutcome.FAILED, "Failed")):
            reasons = (
                action.items.filter(outcome=outcome)
                .values_list("message")
                .annotate(n=Count("*"))
                .order_by("-n", "message")
            )
            count = sum(n for _, n in reasons)
            detail = ", ".join(f"{reason} ({n:,})" for reason, n in reasons)
            self.stdout.write(f"{label}: {count:,}" + (f": {detail}" if detail else ""))
        url = action.district.url(f"/settings/bulk-actions/{action.pk}/")
        self.stdout.write(self.style.SUCCESS(f"Bulk action #{action.pk}: {url}"))
