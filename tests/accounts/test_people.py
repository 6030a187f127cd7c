"""Settings > Staff and Settings > Students: lists, the person page, create, edit, actions."""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import selectors, services
from accounts.models import (
    ActivationToken,
    AuditEvent,
    PasswordMode,
    Role,
    Status,
    TokenPurpose,
    User,
)
from tests.factories import InvitedUserFactory, SchoolFactory, UserFactory, YearGroupFactory


@pytest.fixture
def admin_client(client_for, district, district_admin):
    return client_for(district, district_admin)


@pytest.fixture
def other_school(district):
    return SchoolFactory(district=district, name="Beta Middle")


def student_in(school, **fields):
    user = UserFactory(district=school.district, role=Role.STUDENT, **fields)
    user.set_schools([school])
    return user


def body(response) -> str:
    return response.content.decode()


# Lists


def test_students_list_shows_students_with_counts_per_status(admin_client, school, teacher):
    student_in(school, first_name="Ana", last_name="Díaz")
    student_in(school, first_name="Ben", last_name="Cole", status=Status.DEACTIVATED)
    page = body(admin_client.get("/settings/students/"))
    assert "Díaz, Ana" in page and "Cole, Ben" in page
    assert "Teacher, Tom" not in page
    assert re.search(r"All <span class=\"count\">2</span>", page)
    assert re.search(r"Deactivated <span class=\"count\">1</span>", page)
    assert "2 students" in page


def test_search_is_accent_and_case_insensitive_and_matches_substrings(admin_client, school):
    student_in(school, first_name="Zoë", last_name="Ångström", username="zoe.a")
    student_in(school, first_name="Bob", last_name="Smith", email="bob@x.org", sis_id="SIS-778")
    for query, found in [
        ("angstrom", "Ångström"),
        ("ZOË", "Ångström"),
        ("ngstr", "Ångström"),
        ("sis-77", "Smith"),
        ("BOB@X", "Smith"),
        ("bob@x.org", "Smith"),
    ]:
        page = body(admin_client.get("/settings/students/", {"q": query}))
        assert found in page, query
        assert "1 student matching" in page


def test_filters_combine_and_show_removable_tags(admin_client, district, school, other_school):
    year = YearGroupFactory(district=district, name="Year 8", ordinal=8)
    student_in(school, first_name="In", last_name="Both", year_group=year)
    student_in(other_school, first_name="Other", last_name="School", year_group=year)
    page = body(
        admin_client.get("/settings/students/", {"school": school.pk, "year_group": year.pk})
    )
    assert "Both, In" in page and "School, Other" not in page
    assert "Remove filter: </span>Alpha High" in page
    assert f"?year_group={year.pk}" in page  # the link that removes the school filter


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "password"},
        {"sort": "-; drop table"},
        {"school": "abc"},
        {"status": "zombie"},
        {"page": "999"},
        {"page": "-1"},
        {"per_page": "100000"},
        {"role": "superuser"},
        {"q": "x" * 5000},
        {"classroom": "9" * 40},
        {"case_manager": "maybe"},
    ],
)
def test_unknown_or_huge_parameters_are_ignored_not_errors(admin_client, school, params):
    student_in(school)
    assert admin_client.get("/settings/students/", params).status_code == 200


def test_sorting_marks_the_sorted_column(admin_client, school):
    student_in(school, first_name="A", last_name="Aardvark")
    student_in(school, first_name="Z", last_name="Zebra")
    page = body(admin_client.get("/settings/students/", {"sort": "-name"}))
    assert 'aria-sort="descending"' in page
    assert page.index("Zebra, Z") < page.index("Aardvark, A")


def test_query_count_does_not_grow_with_page_size(admin_client, district, school):
    year = YearGroupFactory(district=district)
    for n in range(60):
        student_in(school, year_group=year, username=f"s{n}")
    from django.core.cache import cache

    counts = []
    for per_page in (25, 100):
        cache.clear()  # both measure the uncached count too
        with CaptureQueriesContext(connection) as queries:
            assert (
                admin_client.get("/settings/students/", {"per_page": per_page}).status_code == 200
            )
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_school_admin_sees_only_people_of_their_schools(
    client_for, district, school, other_school, school_admin
):
    mine = student_in(school, first_name="Mine", last_name="Student")
    theirs = student_in(other_school, first_name="Theirs", last_name="Student")
    other_teacher = UserFactory(
        district=district, role=Role.TEACHER, first_name="Far", last_name="Teacher"
    )
    other_teacher.schools.add(other_school)
    client = client_for(district, school_admin)
    page = body(client.get("/settings/students/"))
    assert "Student, Mine" in page and "Student, Theirs" not in page
    assert "Teacher, Far" not in body(client.get("/settings/staff/"))
    assert client.get(f"/settings/people/{mine.pk}/").status_code == 200
    for url in (f"/settings/people/{theirs.pk}/", f"/settings/people/{other_teacher.pk}/edit/"):
        assert client.get(url).status_code == 404
    assert client.post(f"/settings/people/{theirs.pk}/deactivate/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Status.ACTIVE


ADMIN_URLS = [
    "/settings/students/",
    "/settings/staff/",
    "/settings/students/new/",
    "/settings/staff/new/",
    "/settings/students/export/?format=csv",
]


@pytest.mark.parametrize("role_fixture", ["teacher", "student", "guardian"])
def test_non_admins_get_no_admin_pages(client_for, district, role_fixture, request, school):
    client = client_for(district, request.getfixturevalue(role_fixture))
    target = student_in(school)
    for url in [*ADMIN_URLS, f"/settings/people/{target.pk}/"]:
        assert client.get(url).status_code == 403, url
    assert client.post(f"/settings/people/{target.pk}/deactivate/").status_code == 403


def test_person_page_shows_record_history_and_classes(admin_client, district, school, teacher):
    student = student_in(school, first_name="Ana", last_name="Díaz")
    services.case_manager_assign(students=[student], manager=teacher, actor=None)
    from schools.models import Classroom, Enrollment

    classroom = Classroom.objects.create(district=district, school=school, name="7A Maths")
    Enrollment.objects.create(district=district, classroom=classroom, student=student)
    page = body(admin_client.get(f"/settings/people/{student.pk}/"))
    assert "7A Maths" in page
    assert "Tom Teacher" in page
    assert "Case manager changed" in page
    panel = admin_client.get(f"/settings/people/{student.pk}/", HTTP_HX_REQUEST="true")
    assert 'id="panel-heading"' in body(panel) and "<html" not in body(panel)


# Create


def test_create_staff_sends_activation_email(
    admin_client, school, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/settings/staff/new/",
            {
                "first_name": "Nia",
                "last_name": "Okafor",
                "email": "nia@alpha.example",
                "role": "teacher",
                "schools": [school.pk],
                "form_token": "t1",
            },
        )
    nia = User.objects.get(email="nia@alpha.example")
    assert response["Location"] == f"/settings/people/{nia.pk}/"
    assert nia.role == Role.TEACHER and nia.status == Status.INVITED
    assert list(nia.schools.all()) == [school]
    assert mailoutbox[0].to == ["nia@alpha.example"]


def test_create_student_with_generated_password_shows_it_once(admin_client, district, school):
    response = admin_client.post(
        "/settings/students/new/",
        {
            "first_name": "Pip",
            "last_name": "Quill",
            "schools": [school.pk],
            "password_mode": "staff",
            "password_source": "generate",
            "form_token": "t2",
        },
    )
    page = body(response)
    assert response.status_code == 200
    assert "This is the only time the password is shown" in page
    password = re.search(r'<dd class="credential">([a-z]+-[a-z]+\d+)</dd>', page).group(1)
    pip = User.objects.get(username="pip.quill")
    assert pip.check_password(password)
    assert pip.password_mode == PasswordMode.STAFF and pip.must_change_password
    assert response["Cache-Control"] == "no-store"
    assert password not in body(admin_client.get(f"/settings/people/{pip.pk}/"))
    assert password not in str(list(AuditEvent.objects.values()))


def test_create_student_with_typed_password_checks_policy(admin_client, school):
    page = body(
        admin_client.post(
            "/settings/students/new/",
            {
                "first_name": "Pip",
                "last_name": "Quill",
                "schools": [school.pk],
                "password_mode": "staff",
                "password_source": "type",
                "password": "123",
                "form_token": "t3",
            },
        )
    )
    assert "There is a problem" in page
    assert "Enter a password with at least 8 characters" in page
    assert not User.objects.filter(username="pip.quill").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": ""}, "Enter an email address"),
        ({"email": "nope"}, "correct format"),
        ({"schools": []}, "Select at least one school"),
        ({"password_mode": ""}, "Select how the student gets a password"),
        ({"password_mode": "staff"}, "Select whether to generate or type"),
        ({"year_group": "999999"}, "Select a year group from the list"),
    ],
)
def test_create_student_bad_input_says_what_to_do(admin_client, school, data, message):
    form = {
        "first_name": "Ana",
        "last_name": "Díaz",
        "email": "ana@alpha.example",
        "schools": [school.pk],
        "password_mode": "self",
        "form_token": "t4",
        **data,
    }
    page = body(admin_client.post("/settings/students/new/", form))
    assert message in page
    assert 'value="Ana"' in page  # what was typed is kept
    assert not User.objects.filter(first_name="Ana").exists()


def test_duplicate_email_and_username_are_field_errors(admin_client, district, school, teacher):
    page = body(
        admin_client.post(
            "/settings/staff/new/",
            {
                "first_name": "Tom",
                "last_name": "Again",
                "email": "TOM@alpha.example",
                "username": "Tom.Teacher",
                "role": "teacher",
                "schools": [school.pk],
                "form_token": "t5",
            },
        )
    )
    assert "Another account in this district already uses this email address" in page
    assert User.objects.filter(district=district, role=Role.TEACHER).count() == 1


def test_double_submitted_form_creates_one_user(admin_client, school):
    form = {
        "first_name": "Dee",
        "last_name": "Dupe",
        "email": "dee@alpha.example",
        "role": "teacher",
        "schools": [school.pk],
        "form_token": "same-token",
    }
    first = admin_client.post("/settings/staff/new/", form)
    second = admin_client.post("/settings/staff/new/", form)
    assert User.objects.filter(email="dee@alpha.example").count() == 1
    assert second["Location"] == first["Location"]


def test_school_admin_cannot_create_district_admins_or_use_other_schools(
    client_for, district, school, other_school, school_admin
):
    client = client_for(district, school_admin)
    page = body(
        client.post(
            "/settings/staff/new/",
            {
                "first_name": "Eve",
                "last_name": "Up",
                "email": "eve@alpha.example",
                "role": "district_admin",
                "schools": [school.pk],
                "form_token": "t6",
            },
        )
    )
    assert "Select a role" in page
    page = body(
        client.post(
            "/settings/students/new/",
            {
                "first_name": "Eve",
                "last_name": "Up",
                "email": "eve@alpha.example",
                "schools": [other_school.pk],
                "password_mode": "self",
                "form_token": "t7",
            },
        )
    )
    assert "Select schools from the list" in page
    assert not User.objects.filter(first_name="Eve").exists()


# Edit


def test_edit_changes_fields_and_records_before_and_after(admin_client, school):
    student = student_in(school, first_name="Ana", last_name="Diaz", email="ana@alpha.example")
    response = admin_client.post(
        f"/settings/people/{student.pk}/edit/",
        {
            "first_name": "Ana",
            "last_name": "Díaz-Ruiz",
            "email": "ana.dr@alpha.example",
            "username": student.username,
            "schools": [school.pk],
            "year_group": "",
        },
    )
    assert response.status_code == 302
    student.refresh_from_db()
    assert student.last_name == "Díaz-Ruiz" and student.email == "ana.dr@alpha.example"
    event = AuditEvent.objects.get(action="accounts.user.updated", target_id=student.pk)
    assert event.before == {"last_name": "Diaz", "email": "ana@alpha.example"}
    assert event.after["last_name"] == "Díaz-Ruiz"


def test_sis_managed_fields_are_read_only(admin_client, school):
    student = student_in(school, first_name="Sis", last_name="Owned", managed_by_sis=True)
    page = body(admin_client.get(f"/settings/people/{student.pk}/edit/"))
    assert "Managed by your SIS" in page and 'name="first_name"' not in page
    admin_client.post(
        f"/settings/people/{student.pk}/edit/",
        {
            "first_name": "Changed",
            "last_name": "Owned",
            "email": "",
            "username": "x1",
            "schools": [school.pk],
        },
    )
    student.refresh_from_db()
    assert student.first_name == "Sis"
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="Managed by your SIS"):
        services.user_update(user=student, actor=None, first_name="Changed")


# Actions


def test_deactivate_asks_first_then_ends_sign_in(admin_client, client_for, district, school):
    student = student_in(school, first_name="Ana", last_name="Díaz")
    confirm = body(admin_client.get(f"/settings/people/{student.pk}/deactivate/"))
    assert "Ana Díaz will no longer be able to sign in" in confirm
    response = admin_client.post(f"/settings/people/{student.pk}/deactivate/", follow=True)
    assert "Ana Díaz deactivated: they can no longer sign in." in body(response)
    assert 'tag-deactivated">Deactivated' in body(response)
    student.refresh_from_db()
    assert student.status == Status.DEACTIVATED


def test_deleting_an_active_user_is_refused_with_a_reason(admin_client, school):
    student = student_in(school, first_name="Ana", last_name="Díaz")
    response = admin_client.post(f"/settings/people/{student.pk}/delete/", follow=True)
    assert "Deactivate Ana Díaz first: only deactivated accounts can be deleted" in body(response)
    assert User.objects.filter(pk=student.pk).exists()


def test_delete_removes_personal_data_and_anonymises_history(admin_client, district, school):
    student = student_in(school, first_name="Ana", last_name="Díaz", email="ana@alpha.example")
    pk = student.pk
    admin_client.post(f"/settings/people/{pk}/deactivate/")
    response = admin_client.post(f"/settings/people/{pk}/delete/", follow=True)
    assert "Ana Díaz deleted." in body(response)
    assert not User.objects.filter(pk=pk).exists()
    events = AuditEvent.objects.filter(district=district, target_type="user", target_id=pk)
    assert {e.action for e in events} == {"accounts.user.deactivated", "accounts.user.deleted"}
    trail = str(list(events.values()))
    assert "Díaz" not in trail and "ana@alpha.example" not in trail
    assert all(e.target_label == f"Deleted user #{pk}" for e in events)
    assert admin_client.get(f"/settings/people/{pk}/").status_code == 404


def test_reminder_waits_24_hours_and_says_why(
    admin_client, district, school, mailoutbox, django_capture_on_commit_callbacks
):
    invited = InvitedUserFactory(
        district=district,
        role=Role.STUDENT,
        first_name="Ivy",
        email="ivy@alpha.example",
        invited_at=timezone.now(),
    )
    invited.schools.add(school)
    page = body(admin_client.get(f"/settings/people/{invited.pk}/"))
    assert "less than 24 hours ago" in page
    response = admin_client.post(f"/settings/people/{invited.pk}/remind/", follow=True)
    assert "less than 24 hours ago" in body(response)
    User.objects.filter(pk=invited.pk).update(invited_at=timezone.now() - timedelta(hours=25))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/settings/people/{invited.pk}/remind/", follow=True)
    assert "A reminder is on its way to ivy@alpha.example." in body(response)
    assert mailoutbox[-1].to == ["ivy@alpha.example"]
    assert AuditEvent.objects.filter(action="accounts.invitation.reminded").count() == 1


def test_resend_invitation_and_send_reset(
    admin_client, district, school, teacher, mailoutbox, django_capture_on_commit_callbacks
):
    invited = InvitedUserFactory(district=district, role=Role.TEACHER, email="i@alpha.example")
    invited.schools.add(school)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"/settings/people/{invited.pk}/resend-invitation/")
        admin_client.post(f"/settings/people/{teacher.pk}/send-reset/")
    assert [m.subject.split(" – ")[0] for m in mailoutbox] == [
        "Activate your Rollbook account",
        "Reset your Rollbook password",
    ]


def test_set_password_only_for_staff_set_accounts(admin_client, district, school, teacher):
    response = admin_client.get(f"/settings/people/{teacher.pk}/password/", follow=True)
    assert "sets their own password" in body(response)
    kid = services.user_create(
        district=district,
        actor=None,
        role=Role.STUDENT,
        first_name="Kid",
        last_name="Young",
        schools=[school],
        password="first-pass-123",
    )
    page = body(
        admin_client.post(
            f"/settings/people/{kid.pk}/password/",
            {"password_source": "type", "password": "second-pass-456"},
        )
    )
    assert "second-pass-456" in page
    kid.refresh_from_db()
    assert kid.check_password("second-pass-456") and kid.must_change_password


def test_case_manager_for_all_matching_students(admin_client, district, school, teacher):
    students = [student_in(school, last_name=f"Case{n}") for n in range(3)]
    outsider = student_in(school, last_name="Elsewhere")
    response = admin_client.post(
        "/settings/students/case-manager/",
        {"all_matching": "1", "q": "case", "new_case_manager": teacher.username},
        follow=True,
    )
    assert "Case manager set to Tom Teacher for 3 students." in body(response)
    assert set(User.objects.filter(case_manager=teacher)) == set(students)
    outsider.refresh_from_db()
    assert outsider.case_manager is None


def test_case_manager_from_another_district_is_refused(admin_client, school, other_admin):
    student = student_in(school)
    response = admin_client.post(
        f"/settings/people/{student.pk}/case-manager/",
        {"case_manager": other_admin.username},
        follow=True,
    )
    assert "No member of staff you manage has the username or email" in body(response)
    student.refresh_from_db()
    assert student.case_manager is None


def test_export_of_selected_rows(admin_client, school):
    picked = student_in(school, first_name="Picked", last_name="One")
    student_in(school, first_name="Left", last_name="Out")
    response = admin_client.post(
        "/settings/students/export/", {"selected": [picked.pk], "format": "csv"}
    )
    content = response.content.decode("utf-8-sig")
    assert response["Content-Disposition"].startswith('attachment; filename="alpha-students-')
    assert "Picked" in content and "Left" not in content


def test_export_of_current_filter(admin_client, school):
    student_in(school, first_name="Zoë", last_name="Ångström")
    student_in(school, first_name="Left", last_name="Out")
    response = admin_client.get("/settings/students/export/", {"q": "zoe", "format": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


# Automatic reminders


def test_automatic_reminders_follow_the_district_setting(
    district, mailoutbox, django_capture_on_commit_callbacks
):
    old = InvitedUserFactory(
        district=district, email="old@alpha.example", invited_at=timezone.now() - timedelta(days=4)
    )
    InvitedUserFactory(district=district, email="new@alpha.example", invited_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders")
    assert mailoutbox == []  # off by default
    district.reminder_after_days = 3
    district.save()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders", "--district", "alpha")
    assert [m.to for m in mailoutbox] == [["old@alpha.example"]]
    old.refresh_from_db()
    assert old.reminders_sent == 1


def test_deactivation_banner_offers_undo(admin_client, school):
    student = student_in(school, first_name="Ana", last_name="Díaz")
    page = body(admin_client.post(f"/settings/people/{student.pk}/deactivate/", follow=True))
    assert f'action="/settings/people/{student.pk}/reactivate/"' in page
    assert ">Undo</button>" in page
    response = admin_client.post(f"/settings/people/{student.pk}/reactivate/", follow=True)
    assert "Ana Díaz reactivated: they can sign in again." in body(response)


def test_page_size_survives_sorting_and_filter_links(admin_client, school):
    for n in range(30):
        student_in(school, username=f"kid{n}")
    page = body(admin_client.get("/settings/students/", {"per_page": 25, "sort": "username"}))
    assert "page 1 of 2" in page
    assert re.search(
        r'href="\?[^"]*sort=-username[^"]*per_page=25|href="\?[^"]*per_page=25[^"]*sort=-username',
        page,
    )


def test_history_reads_as_words(admin_client, school):
    student = student_in(school, first_name="Ana", last_name="Diaz")
    services.user_update(user=student, actor=None, last_name="Díaz", schools=[])
    page = body(admin_client.get(f"/settings/people/{student.pk}/"))
    assert "last name: Diaz → Díaz" in page
    assert "schools: Alpha High → none" in page


def test_case_manager_is_typed_by_email_and_removed_by_emptying(admin_client, school, teacher):
    student = student_in(school)
    admin_client.post(
        f"/settings/people/{student.pk}/case-manager/", {"case_manager": teacher.email.upper()}
    )
    student.refresh_from_db()
    assert student.case_manager == teacher
    admin_client.post(f"/settings/people/{student.pk}/case-manager/", {"case_manager": ""})
    student.refresh_from_db()
    assert student.case_manager is None


def test_deep_pages_and_school_sort_keep_rows_and_order(
    admin_client, district, school, other_school
):
    for n in range(7):
        student_in(school if n % 2 else other_school, last_name=f"Pupil{n}", username=f"p{n}")
    page = body(admin_client.get("/settings/students/", {"per_page": 25, "sort": "-school"}))
    assert page.index("Pupil0") < page.index("Pupil1")  # Beta Middle before Alpha High
    page = body(admin_client.get("/settings/students/", {"page": "2", "per_page": 25}))
    assert "7 students" in page and "Pupil6" in page  # past the end: the last page


def test_sort_by_year_follows_ordinal_not_creation(admin_client, district, school):
    older = YearGroupFactory(district=district, name="Year 9", ordinal=9)
    younger = YearGroupFactory(district=district, name="Year 8", ordinal=8)
    student_in(school, last_name="Nine", year_group=older)
    student_in(school, last_name="Eight", year_group=younger)
    student_in(school, last_name="None")
    page = body(admin_client.get("/settings/students/", {"sort": "year"}))
    assert page.index("Eight,") < page.index("Nine,")
    page = body(admin_client.get("/settings/students/", {"sort": "-year"}))
    assert page.index("Nine,") < page.index("Eight,")


def test_year_ordinal_follows_the_year_group(district, school):
    seven = YearGroupFactory(district=district, name="Year 7", ordinal=7)
    eight = YearGroupFactory(district=district, name="Year 8", ordinal=8)
    student = student_in(school, year_group=seven)
    assert User.objects.get(pk=student.pk).year_ordinal == 7
    student = User.objects.get(pk=student.pk)  # year group not loaded: save() reads it
    student.year_group_id = eight.pk
    student.save(update_fields=["year_group"])
    assert User.objects.get(pk=student.pk).year_ordinal == 8
    student.year_group = None
    student.save()
    assert User.objects.get(pk=student.pk).year_ordinal is None


def test_refresh_derived_fills_what_bulk_create_skips(district, school, other_school):
    year = YearGroupFactory(district=district, ordinal=9)
    user = User(
        district=district,
        role=Role.STUDENT,
        first_name="Zoë",
        last_name="Núñez",
        username="zoe.n",
        year_group=year,
    )
    user.refresh_derived(schools=[school, other_school])
    User.objects.bulk_create([user])
    stored = User.objects.get(username="zoe.n")
    assert stored.search_text == "zoe nunez zoe.n"
    assert stored.year_ordinal == 9
    assert stored.school_names == "Alpha High; Beta Middle"


def test_list_rows_show_each_column(admin_client, district, school):
    year = YearGroupFactory(district=district, name="Year 10", ordinal=10)
    signed_in = student_in(
        school, first_name="Ana", last_name="Díaz", username="ana.d", year_group=year
    )
    User.objects.filter(pk=signed_in.pk).update(
        last_login=timezone.now().replace(year=2026, month=3, day=5, hour=12)
    )
    invited = InvitedUserFactory(
        district=district, role=Role.STUDENT, first_name="Ben", last_name="Cole", email=""
    )
    invited.set_schools([school])
    sent = timezone.now() - timedelta(days=10)
    late = InvitedUserFactory(
        district=district, role=Role.STUDENT, first_name="Cy", last_name="Late", username="cy"
    )
    ActivationToken.objects.create(
        district=district,
        user=late,
        purpose=TokenPurpose.ACTIVATE,
        token_hash="a" * 64,
        dispatch_key="b" * 64,
        created_at=sent,
        sent_at=sent,
        expires_at=sent + timedelta(days=7),
    )
    page = body(admin_client.get("/settings/students/"))
    rows = re.findall(r"<tr>\s*<td class=\"select-cell\">.*?</tr>", page, re.S)
    row = next(row for row in rows if f'value="{signed_in.pk}"' in row)
    assert '<span class="visually-hidden">Select Ana Díaz</span>' in row
    assert f'href="/settings/people/{signed_in.pk}/"' in row and ">Díaz, Ana</a></th>" in row
    cells = re.findall(r"<td>(.*?)</td>", row)
    assert cells == [
        "ana.d",
        "ana.d@example.org",
        "Year 10",
        "Alpha High",
        '<strong class="tag tag-active">Active</strong>',
        "5 Mar 2026",
        "Activated",
    ]
    assert "<td>—</td>" in page  # Ben Cole: no email, no year group
    assert "No email address" in page and "Never" in page
    assert f"Expired (sent {timezone.localtime(sent):%-d %b})" in page
    page = body(admin_client.get("/settings/staff/"))
    assert "<td>District admin</td>" in page


def test_list_rows_escape_what_people_typed(admin_client, school):
    student_in(school, first_name="<b>Bo</b>", last_name='"Quote" & Co')
    page = body(admin_client.get("/settings/students/"))
    assert "&quot;Quote&quot; &amp; Co, &lt;b&gt;Bo&lt;/b&gt;" in page
    assert "<b>Bo</b>" not in page


@pytest.mark.parametrize("sort", ["name", "-school", "year", "-last_login", "status"])
def test_search_pages_are_the_same_however_the_rows_are_found(
    admin_client, district, school, other_school, monkeypatch, sort
):
    years = [YearGroupFactory(district=district, ordinal=n) for n in (7, 8)]
    for n in range(30):
        student_in(
            school if n % 3 else other_school,
            first_name=f"Ana{n % 4}",
            last_name=f"Smith{n % 5}",
            username=f"ana{n}",
            year_group=years[n % 2] if n % 7 else None,
            status=Status.DEACTIVATED if n % 6 == 0 else Status.ACTIVE,
        )
    params = {"q": "smi", "sort": sort, "per_page": 25, "page": 2}
    pages = []
    for threshold in (0, 10_000):  # walk the sort index, or find the rows then sort them
        monkeypatch.setattr(selectors, "SPARSE_MATCHES", threshold)
        pages.append(
            re.findall(
                r'name="selected" value="(\d+)"',
                body(admin_client.get("/settings/students/", params)),
            )
        )
    assert len(pages[0]) == 5 and pages[0] == pages[1]


def test_address_searches_match_the_email_not_a_shared_domain(admin_client, school):
    student_in(school, first_name="Ana", last_name="Lopez", email="ana.lopez@north.example")
    student_in(school, first_name="Ana", last_name="Lopez", email="ana.lopez@south.example")
    student_in(school, first_name="Bo", last_name="Stone", email="bo@north.example")
    for query, found in [
        ("ana.lopez@north.example", ["ana.lopez@north.example"]),
        ("ANA.LOPEZ@SOUTH", ["ana.lopez@south.example"]),
        ("@north.example", ["ana.lopez@north.example", "bo@north.example"]),
        ("lopez@", ["ana.lopez@north.example", "ana.lopez@south.example"]),
        ("bo@south.example", []),
        ("north.example", []),  # the domain alone is not searched: every account has it
    ]:
        page = body(admin_client.get("/settings/students/", {"q": query}))
        rows = page.split("<tbody", 1)[1] if "<tbody" in page else ""
        assert sorted(set(re.findall(r"[\w.]+@\w+\.example", rows))) == found, query
    assert "To find an email domain, start with @" in page  # the search box says how


def test_short_searches_match_word_starts(admin_client, school):
    student_in(school, first_name="Ezra", last_name="Stone")
    student_in(school, first_name="Ana", last_name="Lopez")
    page = body(admin_client.get("/settings/students/", {"q": "ez"}))
    assert "Stone, Ezra" in page and "Lopez, Ana" not in page
    page = body(admin_client.get("/settings/students/", {"q": "lopez"}))
    assert "Lopez, Ana" in page


def test_cached_counts_follow_changes(
    admin_client, district_admin, school, django_capture_on_commit_callbacks
):
    student = student_in(school, first_name="Ana", last_name="Díaz")
    page = body(admin_client.get("/settings/students/"))
    assert re.search(r'Deactivated <span class="count">0</span>', page)
    with django_capture_on_commit_callbacks(execute=True):
        services.user_deactivate(user=student, actor=district_admin)
    page = body(admin_client.get("/settings/students/", {"sort": "-name"}))
    assert re.search(r'Deactivated <span class="count">1</span>', page)


def test_edit_reports_every_field_error_at_once(admin_client, school):
    student = student_in(school, first_name="Ana", last_name="Díaz")
    page = body(
        admin_client.post(
            f"/settings/people/{student.pk}/edit/",
            {
                "first_name": "",
                "last_name": "Díaz",
                "email": "not-an-email",
                "username": student.username,
                "schools": [school.pk],
            },
        )
    )
    assert "Enter a first name" in page
    assert "Enter an email address in the correct format" in page
    assert "Leave empty to make one" not in page
    student.refresh_from_db()
    assert student.first_name == "Ana"


@pytest.mark.parametrize("sort", ["name", "status", "-status", "last_login", "-last_login", "year"])
def test_pages_past_the_middle_read_backwards_are_the_same_rows(district, school, sort):
    """Pages past the middle are read from the end of the reversed order: every page, for
    sorts with ties and empty values, holds exactly its slice of the whole list."""
    from accounts.selectors import UserFilters, users_for_list, users_ordered, users_page

    years = [YearGroupFactory(district=district, name=f"Year {n}", ordinal=n) for n in (7, 8)]
    now = timezone.now()
    for n in range(23):
        student_in(
            school,
            last_name=f"Same{n % 3}",  # ties on the sort key, broken by id
            username=f"tie{n}",
            status=[Status.ACTIVE, Status.INVITED, Status.DEACTIVATED][n % 3],
            last_login=None if n % 4 == 0 else now - timedelta(days=n % 5),
            year_group=None if n % 5 == 0 else years[n % 2],
        )
    filters = UserFilters.from_params({"sort": sort}, kind="students")
    users = users_for_list(
        base=User.objects.filter(district=district), kind="students", filters=filters
    )
    whole = list(users_ordered(users, filters).values_list("pk", flat=True))
    per_page = 5
    for number in range(1, 6):
        page = users_page(users, filters, page_number=number, total=len(whole), per_page=per_page)
        start = (number - 1) * per_page
        assert [user.pk for user in page.object_list] == whole[start : start + per_page], number
