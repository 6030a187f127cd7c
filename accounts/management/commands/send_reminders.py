from django.core.management.base import BaseCommand
from django_scopes import scope, scopes_disabled

from accounts import services
from schools.management.commands._base import district_by_slug
from schools.models import District


class Command(BaseCommand):
    help = (
        "Email reminders to people who have not activated their account, in districts that "
        "turned automatic reminders on (Branding and sign-in > Reminders). Beat runs it "
        "nightly; run it by hand with --district SLUG for one district."
    )

    def add_arguments(self, parser):
        parser.add_argument("--district", help="Only this district (its slug).")

    def handle(self, *args, **options):
        if options["district"]:
            districts = [district_by_slug(options["district"])]
        else:
            with scopes_disabled():
                districts = list(District.objects.filter(reminder_after_days__gt=0))
        total = 0
        for district in districts:
            with scope(district=district):
                sent = services.reminders_send_due(district=district)
            total += sent
            self.stdout.write(f"{district.slug}: {sent} reminder{'s' if sent != 1 else ''} sent")
        self.stdout.write(self.style.SUCCESS(f"{total} reminders sent in all"))
