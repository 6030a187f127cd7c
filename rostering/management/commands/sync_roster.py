"""manage.py sync_roster: a roster sync from a terminal, as Settings > Integrations >
Rostering runs it. Same services, same run history, same threshold and audit log.

Exit codes: 0 applied or previewed, 1 failed, 2 bad input, 3 held for approval.
"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from bulkactions.management.commands._import_input import actor as actor_named
from bulkactions.management.commands._import_input import refused
from rostering import services
from rostering.models import RosterConnection, RunStatus, SyncRun, Trigger
from schools.management.commands._base import district_by_slug, validation_message
from schools.tenancy import district_scope

HELD = 3
ENTITY_NAMES = {
    "org": "schools and orgs",
    "session": "terms",
    "class": "classes",
    "user": "accounts",
    "guardian_link": "guardian links",
    "enrollment": "enrolments",
}


class Command(BaseCommand):
    help = (
        "Syncs a district's accounts, classes and enrolments from its SIS: a OneRoster CSV "
        "bundle (--file) or the connection's REST/URL source. Prints the diff summary."
    )

    def add_arguments(self, parser):
        parser.add_argument("--district", required=True, help="the district's slug")
        parser.add_argument("--connection", help="the connection's name (default: the only one)")
        parser.add_argument("--file", help="a OneRoster 1.1 or 1.2 CSV bundle (.zip)")
        parser.add_argument("--dry-run", action="store_true", help="show the diff, write nothing")
        parser.add_argument("--approve", type=int, metavar="RUN", help="approve a held run")
        parser.add_argument("--actor", help="username of the admin recorded as running it")

    def handle(self, *args, **options):
        district = district_by_slug(options["district"])
        with district_scope(district.pk):
            who = actor_named(district, options["actor"])
            if options["approve"]:
                run = self._approve(district, options["approve"], who)
            else:
                run = self._start(district, options, who)
            if not services.run_claim(run):
                busy = SyncRun.objects.filter(district=district, status=RunStatus.RUNNING).first()
                raise CommandError(
                    f"Another sync of {district.slug} is running (run {busy.pk if busy else '?'}): "
                    "try again when it has finished.",
                    returncode=1,
                )
            run = services.run_execute(run=run, approved=bool(options["approve"]))
            self._report(run)

    def _connection(self, district, name, who, has_file):
        connections = RosterConnection.objects.filter(district=district)
        if name:
            found = connections.filter(name__iexact=name.strip()).first()
            if found is None:
                known = ", ".join(connections.values_list("name", flat=True)) or "none"
                raise refused(f"--connection {name}: no such connection. Known: {known}.")
            return found
        if connections.count() > 1:
            known = ", ".join(connections.values_list("name", flat=True))
            raise refused(
                f"{district.slug} has several connections: choose one with --connection ({known})."
            )
        if not connections.exists() and not has_file:
            raise refused(
                f"{district.slug} has no rostering connection: give a bundle with --file, or "
                "create a connection on Settings > Integrations > Rostering."
            )
        return services.connection_for_upload(district=district, actor=who)

    def _start(self, district, options, who):
        data = None
        name = ""
        if options["file"]:
            path = Path(options["file"])
            if not path.is_file():
                raise refused(
                    f"{path}: no such file. Give the path of a OneRoster CSV bundle (.zip)."
                )
            data = path.read_bytes()
            name = path.name
        connection = self._connection(district, options["connection"], who, data is not None)
        try:
            return services.run_start(
                connection=connection,
                actor=who,
                trigger=Trigger.COMMAND,
                dry_run=options["dry_run"],
                bundle=data,
                bundle_name=name,
                enqueue=False,
            )
        except ValidationError as error:
            raise refused(validation_message(error)) from error

    def _approve(self, district, pk, who):
        run = SyncRun.objects.filter(district=district, pk=pk).first()
        if run is None:
            raise refused(f"--approve {pk}: {district.slug} has no run {pk}.")
        try:
            return services.run_approve(run=run, actor=who, enqueue=False)
        except ValidationError as error:
            raise refused(f"--approve {pk}: {validation_message(error)}") from error

    def _report(self, run):
        out = self.stdout.write
        out(
            f"Run {run.pk} ({run.connection.name}, OneRoster {run.version or '?'}): {run.get_status_display()}"
        )
        for entity, counts in run.counts.items():
            parts = ", ".join(f"{count:,} {action}" for action, count in counts.items() if count)
            out(f"  {ENTITY_NAMES.get(entity, entity)}: {parts or 'nothing'}")
        for warning in run.warnings[:20]:
            out(f"  warning: {_where(warning)}{warning['message']}")
        if run.status == RunStatus.FAILED:
            for error in run.errors:
                self.stderr.write(f"  {_where(error)}{error['message']}")
            raise CommandError("The sync failed; nothing was applied.", returncode=1)
        if run.status == RunStatus.HELD:
            self.stderr.write(f"  Held: {run.hold_reason}")
            raise CommandError(
                f"Held for approval, nothing applied. Review it on the Rostering page, or run "
                f"again with --approve {run.pk}.",
                returncode=HELD,
            )
        if run.status == RunStatus.PREVIEWED:
            out("Dry run: nothing was written.")


def _where(problem) -> str:
    parts = [problem.get("file") or ""]
    if problem.get("line"):
        parts.append(f"line {problem['line']}")
    if problem.get("sourced_id"):
        parts.append(f"sourcedId {problem['sourced_id']}")
    where = ", ".join(p for p in parts if p)
    return f"{where}: " if where else ""
