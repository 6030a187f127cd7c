from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from schools import services
from schools.management.commands._base import validation_message


class Command(BaseCommand):
    help = (
        "Create a district (a tenant). It is served at <slug>.<BASE_DOMAIN>, "
        "and at --domain if given. Example: create_district --slug northfield "
        "--name 'Northfield School District'"
    )

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True, help="Lowercase letters, digits, hyphens.")
        parser.add_argument("--name", required=True, help="The name people see.")
        parser.add_argument("--domain", default="", help="A custom domain (optional).")
        parser.add_argument(
            "--year-groups",
            default="7-13",
            help="Year groups to create as FIRST-LAST, e.g. 7-13 or 1-12 (default 7-13); "
            "'none' for none.",
        )

    def handle(self, *args, **options):
        year_range = self._year_range(options["year_groups"])
        try:
            district = services.district_create(
                name=options["name"], slug=options["slug"], custom_domain=options["domain"]
            )
        except ValidationError as error:
            raise CommandError(validation_message(error)) from None
        if year_range:
            from django_scopes import scope

            with scope(district=district):
                services.year_groups_create_default(
                    district=district, first=year_range[0], last=year_range[1]
                )
        self.stdout.write(self.style.SUCCESS(f"Created {district.name} at {district.url()}"))

    def _year_range(self, value):
        if value.strip().lower() == "none":
            return None
        try:
            first, last = (int(part) for part in value.split("-"))
        except ValueError:
            raise CommandError("--year-groups: give FIRST-LAST, like 7-13, or none") from None
        if not 0 <= first <= last <= 20:
            raise CommandError("--year-groups: FIRST and LAST must be from 0 to 20, FIRST <= LAST")
        return first, last
