"""manage.py rollover: the annual move up a year group, as on Settings > Bulk actions >
Annual rollover, from a terminal. Same service, same history entry, same once-a-year rule."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from bulkactions import services
from bulkactions.management.commands._import_input import actor as actor_named
from bulkactions.management.commands._import_input import refused
from schools.management.commands._base import district_by_slug, validation_message
from schools.models import School
from schools.tenancy import district_scope


class Command(BaseCommand):
    help = (
        "Moves every student of a school (or of the district) up to the next year group; "
        "those in the last one leave. Once per academic year. Prints the preview first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--district", required=True, help="the district's slug")
        parser.add_argument(
            "--school", help="a school's name, code or id (default: every school at once)"
        )
        parser.add_argument(
            "--leavers",
            choices=("deactivate", "unassign"),
            default="deactivate",
            help="deactivate leavers (default) or keep them with no year group",
        )
        parser.add_argument(
            "--archive-classrooms", action="store_true", help="archive this year's classes too"
        )
        parser.add_argument("--dry-run", action="store_true", help="print the preview only")
        parser.add_argument("--actor", help="username of the admin recorded as running it")

    def handle(self, *args, **options):
        district = district_by_slug(options["district"])
        with district_scope(district.pk):
            school = self._school(district, options["school"])
            who = actor_named(district, options["actor"])
            where = school.name if school else "all schools"
            self.stdout.write(f"Rollover {services.academic_year(district)} for {where}:")
            for line in services.rollover_preview(district=district, school=school):
                to = line["to"] or "leave"
                self.stdout.write(f"  {line['from']} -> {to}: {line['count']:,}")
            done = services.rollover_current(district, school)
            if done:
                raise refused(
                    f"This year's rollover already ran (bulk action #{done.bulk_action_id})."
                )
            if options["dry_run"]:
                self.stdout.write("Dry run: nothing was changed.")
                return
            try:
                action = services.rollover_start(
                    district=district,
                    actor=who,
                    school=school,
                    leavers=options["leavers"],
                    archive_classrooms=options["archive_classrooms"],
                    enqueue=False,
                )
            except ValidationError as error:
                raise refused(validation_message(error)) from error
            action = services.bulk_action_run(action, action.run_token)
            self.stdout.write(
                f"Done: {action.changed_count:,} changed, {action.skipped_count:,} skipped, "
                f"{action.failed_count:,} failed (bulk action #{action.pk})."
            )
            if action.failed_count:
                raise CommandError("Some students could not be changed.", returncode=1)

    def _school(self, district, value):
        if not value:
            return None
        query = Q(name__iexact=value) | Q(code__iexact=value)
        if value.isdigit():
            query |= Q(pk=int(value))
        school = School.objects.filter(district=district).filter(query).first()
        if school is None:
            names = ", ".join(
                School.objects.filter(district=district).values_list("name", flat=True)
            )
            raise refused(f"--school {value}: no such school in {district.slug}. Schools: {names}")
        return school
