"""`manage.py export_users`: a district's students or staff as CSV or XLSX, with the same
filters as the web lists."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.exports import FORMATS, dataset_content, users_dataset
from accounts.models import Source, Status, User
from accounts.selectors import LIST_KINDS, STAFF, STUDENTS, UserFilters, users_for_list, with_status
from schools.management.commands._base import district_by_slug
from schools.models import School, YearGroup
from schools.tenancy import district_scope


class Command(BaseCommand):
    help = (
        "Export a district's students or staff as CSV (to stdout or a file) or XLSX (to a file). "
        "Filters work as on the web lists; --q matches names, username, email and SIS id, "
        "ignoring case and accents. Example: export_users --district northfield --kind students "
        "--status active --output students.xlsx"
    )

    def add_arguments(self, parser):
        parser.add_argument("--district", required=True, help="The district's slug.")
        parser.add_argument("--kind", required=True, choices=[STUDENTS, STAFF])
        parser.add_argument(
            "--format",
            choices=list(FORMATS),
            default=None,
            help="Default: xlsx when --output ends in .xlsx, otherwise csv.",
        )
        parser.add_argument(
            "--output",
            default=None,
            help="File to write. Without it CSV goes to stdout (without the byte-order mark "
            "that Excel needs to show accents: use --output for a file to open in Excel).",
        )
        parser.add_argument("--q", default=None, help="Search text, e.g. a name.")
        parser.add_argument("--school", type=int, default=None, help="A school's id.")
        parser.add_argument("--year-group", type=int, default=None, help="A year group's id.")
        parser.add_argument("--status", choices=Status.values, default=None)
        parser.add_argument(
            "--role",
            choices=[role for roles in LIST_KINDS.values() for role in sorted(roles)],
            default=None,
            help="Staff only: district_admin, school_admin or teacher.",
        )
        parser.add_argument("--source", choices=Source.values, default=None)

    def handle(self, *args, **options):
        kind = options["kind"]
        output = options["output"]
        file_format = options["format"] or (
            "xlsx" if output and output.lower().endswith(".xlsx") else "csv"
        )
        if file_format == "xlsx" and not output:
            raise CommandError("XLSX is a binary file: give --output, e.g. --output users.xlsx")
        if options["role"] and options["role"] not in LIST_KINDS[kind]:
            roles = ", ".join(sorted(LIST_KINDS[kind]))
            raise CommandError(f"--role {options['role']} is not a role of {kind}: use {roles}.")
        if output and not Path(output).resolve().parent.is_dir():
            raise CommandError(f"Cannot write {output}: its folder does not exist.")

        district = district_by_slug(options["district"])
        with district_scope(district.pk):
            self._check_ids(district, options)
            params = {
                name: str(options[option])
                for name, option in (
                    ("q", "q"),
                    ("school", "school"),
                    ("year_group", "year_group"),
                    ("status", "status"),
                    ("role", "role"),
                    ("source", "source"),
                )
                if options[option] is not None
            }
            filters = UserFilters.from_params(params, kind=kind)
            users = with_status(
                users_for_list(
                    base=User.objects.filter(district=district), kind=kind, filters=filters
                ),
                filters,
            ).order_by("last_name", "first_name", "id")
            dataset = users_dataset(users=users, kind=kind)
        content = dataset_content(dataset, file_format)

        if not output:
            # A pipe or terminal wants plain UTF-8: the BOM is only for Excel.
            self.stdout.write(content.decode("utf-8-sig"), ending="")
            return
        try:
            Path(output).write_bytes(content)
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror or error}.") from None
        self.stderr.write(
            f"Exported {dataset.height} {kind} to {output}", style_func=self.style.SUCCESS
        )

    def _check_ids(self, district, options):
        """An id from another district or a typo would silently export nobody: say so."""
        for option, model in (("school", School), ("year_group", YearGroup)):
            pk = options[option]
            if pk is not None and not model.objects.filter(district=district, pk=pk).exists():
                known = ", ".join(
                    f"{item.pk} ({item.name})"
                    for item in model.objects.filter(district=district)[:20]
                )
                raise CommandError(
                    f"--{option.replace('_', '-')} {pk}: no such {model._meta.verbose_name} in "
                    f"{district.slug}. Known: {known or 'none yet'}."
                )
