from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_scopes import scope

from accounts import services
from accounts.models import Role
from schools.management.commands._base import district_by_slug, validation_message


class Command(BaseCommand):
    help = (
        "Create a district admin. Without --password an activation email is sent; "
        "with it the admin can sign in at once (and must change it at first sign-in). "
        "Example: create_admin --district northfield --email it@northfield.org "
        "--first-name Ana --last-name Diaz"
    )

    def add_arguments(self, parser):
        parser.add_argument("--district", required=True, help="The district's slug.")
        parser.add_argument("--email", required=True)
        parser.add_argument("--first-name", required=True)
        parser.add_argument("--last-name", required=True)
        parser.add_argument("--username", default="", help="Default: the district's pattern.")
        parser.add_argument(
            "--password",
            default=None,
            help="Set this password instead of emailing an activation link.",
        )

    def handle(self, *args, **options):
        district = district_by_slug(options["district"])
        with scope(district=district):
            try:
                user = services.user_create(
                    district=district,
                    actor=None,
                    role=Role.DISTRICT_ADMIN,
                    first_name=options["first_name"],
                    last_name=options["last_name"],
                    email=options["email"],
                    username=options["username"],
                    password=options["password"],
                )
            except ValidationError as error:
                raise CommandError(validation_message(error)) from None
        how = "can sign in now" if options["password"] else "has been sent an activation email"
        self.stdout.write(
            self.style.SUCCESS(f"Created district admin {user.username} ({user.email}); {how}.")
        )
        self.stdout.write(f"Sign in at {district.url('/login/')}")
