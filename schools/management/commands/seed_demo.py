import random

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_scopes import scope, scopes_disabled

from accounts import services as accounts
from accounts.models import Role, User
from schools import services
from schools.models import Classroom, District, Enrollment

DEMO_SLUG = "demo"
DEMO_ADMIN = "admin"
DEMO_PASSWORD = "rollbook-demo-2026"

FIRST_NAMES = (
    "Ana Ben Chloe Dev Ella Finn Grace Hugo Isla Jack Kai Lena Maya Noah Olivia Priya Quinn "
    "Ravi Sofia Tom Uma Vera Will Xena Yusuf Zara Amir Bea Cian Dara Emeka Farah Gwen Hana "
    "Ivan Jade Kofi Lucia Mateo Nia Oscar Pia Rosa Sami Tariq Una Vik Wen Yara Zoe"
).split()
LAST_NAMES = (
    "Díaz Smith Jones Patel Nguyen O'Brien Kowalski Müller Rossi Khan Okafor Silva Brown "
    "Taylor Wilson Evans Thomas Roberts Walker Wright Green Hall Wood Clarke Hughes"
).split()


class Command(BaseCommand):
    help = (
        "Create the demo district 'demo' (demo.<BASE_DOMAIN>): 2 schools, year groups, "
        "classrooms, about 200 students, staff and a district admin whose login is printed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Do nothing (and succeed) when the demo district already exists.",
        )
        parser.add_argument("--students", type=int, default=200, help="How many (default 200).")

    def handle(self, *args, **options):
        if not 0 <= options["students"] <= 5000:
            raise CommandError("--students must be from 0 to 5000")
        with scopes_disabled():
            existing = District.objects.filter(slug=DEMO_SLUG).first()
        if existing:
            if options["if_missing"]:
                self.stdout.write(f"The demo district exists: {existing.url()}")
                return
            raise CommandError(
                "The demo district already exists. Use --if-missing to keep it, or delete it "
                "in the platform admin first."
            )
        rng = random.Random(2026)
        with transaction.atomic():
            district = services.district_create(name="Demo School District", slug=DEMO_SLUG)
            with scope(district=district):
                self._populate(district, rng, options["students"])
        self.stdout.write(self.style.SUCCESS(f"Created the demo district at {district.url()}"))
        self.stdout.write(f"Sign in as {DEMO_ADMIN} with the password {DEMO_PASSWORD}")

    def _populate(self, district, rng, student_count):
        district.contact_line = "Questions? Email help@demo.rollbook.test or call 01632 960 000."
        district.save(update_fields=["contact_line"])
        years = services.year_groups_create_default(district=district, first=7, last=13)
        schools = [
            services.school_create(district=district, name=name, code=code)
            for name, code in (("Northfield Academy", "NFA"), ("Riverside High", "RVH"))
        ]
        admin = accounts.user_create(
            district=district,
            actor=None,
            role=Role.DISTRICT_ADMIN,
            first_name="Dana",
            last_name="Admin",
            email="admin@demo.rollbook.test",
            username=DEMO_ADMIN,
            password=DEMO_PASSWORD,
            must_change_password=False,
        )
        for school in schools:
            accounts.user_create(
                district=district,
                actor=admin,
                role=Role.SCHOOL_ADMIN,
                first_name="Sam",
                last_name=f"{school.code.title()}head",
                email=f"head.{school.code.lower()}@demo.rollbook.test",
                schools=[school],
                send_invitation=False,
            )
        teachers = []
        for n in range(12):
            school = schools[n % 2]
            first, last = FIRST_NAMES[(n * 7) % len(FIRST_NAMES)], LAST_NAMES[n % len(LAST_NAMES)]
            teachers.append(
                accounts.user_create(
                    district=district,
                    actor=admin,
                    role=Role.TEACHER,
                    first_name=first,
                    last_name=last,
                    email=f"teacher{n + 1}@demo.rollbook.test",
                    schools=[school],
                    send_invitation=(n == 0),
                )
            )
        classrooms = []
        for school in schools:
            for year in years[:5]:
                classroom = Classroom.objects.create(
                    district=district,
                    school=school,
                    year_group=year,
                    name=f"{year.name} {school.code} Form",
                )
                classroom.teachers.add(
                    rng.choice([t for t in teachers if school in t.schools.all()])
                )
                classrooms.append(classroom)
        for n in range(student_count):
            school, year = schools[n % 2], years[n % len(years)]
            student = accounts.user_create(
                district=district,
                actor=admin,
                role=Role.STUDENT,
                first_name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES),
                email=f"student{n + 1}@demo.rollbook.test" if n % 4 else "",
                password=None if n % 4 else DEMO_PASSWORD + "!",
                schools=[school],
                year_group=year,
                send_invitation=False,
            )
            form = next(
                (c for c in classrooms if c.school_id == school.pk and c.year_group_id == year.pk),
                None,
            )
            if form:
                Enrollment.objects.create(district=district, classroom=form, student=student)
        self._roster(district, admin)
        return User.objects.filter(district=district).count()

    def _roster(self, district, admin):
        """A third school that a SIS rosters: one applied sync of a sample OneRoster
        bundle, so Settings > Rostering and the read-only rostered records have content."""
        from rostering import services as rostering
        from rostering.models import Trigger
        from rostering.oneroster import samples

        rows = samples.sample_rows(
            samples.SampleDistrict(schools=1, students=40, teachers=3, classes=6, seed=7)
        )
        connection = rostering.connection_create(
            district=district, actor=admin, name="Demo SIS", kind="csv_upload", schedule="manual"
        )
        run = rostering.run_start(
            connection=connection,
            actor=admin,
            trigger=Trigger.UPLOAD,
            bundle=samples.bundle_zip(rows, version=samples.spec.V1_1),
            bundle_name="demo-sis-oneroster.zip",
            enqueue=False,
        )
        rostering.run_claim(run)
        rostering.run_execute(run=run)
