"""Settings > Classrooms: the services that change classrooms (each audited), the admin
pages over them, who may open them, and the search picker for teachers and students."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import AuditEvent, Role, Status
from schools import services
from schools.models import Classroom, Enrollment
from tests.factories import ClassroomFactory, SchoolFactory, UserFactory, YearGroupFactory

LIST = "/settings/classrooms/"


@pytest.fixture
def classroom(district, school):
    return ClassroomFactory(district=district, school=school, name="7A Maths")


@pytest.fixture
def other_school(district):
    return SchoolFactory(district=district, name="Beta Middle")


@pytest.fixture
def ana(district, school):
    user = UserFactory(
        district=district,
        role=Role.STUDENT,
        first_name="Ana",
        last_name="Díaz",
        username="ana.diaz",
    )
    user.schools.add(school)
    return user


def detail(classroom) -> str:
    return f"{LIST}{classroom.pk}/"


def events(action):
    return list(AuditEvent.objects.filter(action=action))


# Services


def test_classroom_create_saves_and_audits(district, school, district_admin):
    year = YearGroupFactory(district=district, name="Year 7")
    classroom = services.classroom_create(
        district=district,
        school=school,
        name="  7A   Maths ",
        year_group=year,
        actor=district_admin,
    )
    assert (classroom.name, classroom.school, classroom.year_group) == ("7A Maths", school, year)
    (event,) = events("schools.classroom.created")
    assert event.actor == district_admin and event.target_id == classroom.pk
    assert event.district == district
    assert event.after == {"name": "7A Maths", "school": "Alpha High", "year_group": "Year 7"}


def test_classroom_names_are_unique_per_school_whatever_their_case(
    district, school, other_school, classroom, district_admin
):
    with pytest.raises(ValidationError) as error:
        services.classroom_create(
            district=district, school=school, name="7a MATHS", actor=district_admin
        )
    assert (
        "Alpha High already has a classroom called 7a MATHS" in error.value.message_dict["name"][0]
    )
    services.classroom_create(
        district=district, school=other_school, name="7A Maths", actor=district_admin
    )
    assert Classroom.objects.filter(name__iexact="7a maths").count() == 2


@pytest.mark.parametrize(
    ("name", "school_of", "field", "message"),
    [
        ("", "own", "name", "Enter the classroom's name"),
        ("   ", "own", "name", "Enter the classroom's name"),
        ("x" * 121, "own", "name", "120 characters or fewer"),
        ("7B", "other_district", "school", "Select a school of this district"),
        ("7B", None, "school", "Select a school of this district"),
    ],
)
def test_classroom_create_refuses_bad_input_by_field(
    district, school, other_district, district_admin, name, school_of, field, message
):
    chosen = {
        "own": school,
        "other_district": SchoolFactory(district=other_district),
        None: None,
    }[school_of]
    with pytest.raises(ValidationError) as error:
        services.classroom_create(district=district, school=chosen, name=name, actor=district_admin)
    assert message in error.value.message_dict[field][0]
    assert not Classroom.objects.exists() and not AuditEvent.objects.exists()


def test_rename_is_audited_and_unchanged_name_records_nothing(classroom, district_admin):
    services.classroom_rename(classroom=classroom, name="7A Mathematics", actor=district_admin)
    services.classroom_rename(classroom=classroom, name="7A Mathematics", actor=district_admin)
    classroom.refresh_from_db()
    assert classroom.name == "7A Mathematics"
    (event,) = events("schools.classroom.renamed")
    assert event.before == {"name": "7A Maths"} and event.after == {"name": "7A Mathematics"}


def test_rename_refuses_a_name_taken_in_the_school(district, school, classroom, district_admin):
    ClassroomFactory(district=district, school=school, name="7B Maths")
    with pytest.raises(ValidationError) as error:
        services.classroom_rename(classroom=classroom, name="7b maths", actor=district_admin)
    assert "already has a classroom called 7b maths" in error.value.message_dict["name"][0]


def test_archive_and_unarchive_are_audited_once(classroom, district_admin):
    services.classroom_archive(classroom=classroom, actor=district_admin)
    services.classroom_archive(classroom=classroom, actor=district_admin)
    classroom.refresh_from_db()
    assert classroom.archived_at is not None
    services.classroom_unarchive(classroom=classroom, actor=district_admin)
    classroom.refresh_from_db()
    assert classroom.archived_at is None
    assert len(events("schools.classroom.archived")) == 1
    assert events("schools.classroom.unarchived")[0].after == {"archived": False}


def test_archived_classroom_refuses_changes_until_unarchived(
    classroom, teacher, ana, district_admin
):
    services.classroom_archive(classroom=classroom, actor=district_admin)
    for change in (
        lambda: services.classroom_rename(classroom=classroom, name="New", actor=district_admin),
        lambda: services.classroom_teacher_add(
            classroom=classroom, teacher=teacher, actor=district_admin
        ),
        lambda: services.classroom_student_add(
            classroom=classroom, student=ana, actor=district_admin
        ),
    ):
        with pytest.raises(ValidationError) as error:
            change()
        assert "7A Maths is archived: unarchive it before changing it" in error.value.messages
    services.classroom_unarchive(classroom=classroom, actor=district_admin)
    assert services.classroom_student_add(classroom=classroom, student=ana, actor=district_admin)


def test_classroom_from_the_sis_is_refused_every_change(classroom, teacher, ana, district_admin):
    classroom.sis_id = "cls-42"
    classroom.save()
    for change in (
        lambda: services.classroom_rename(classroom=classroom, name="New", actor=district_admin),
        lambda: services.classroom_archive(classroom=classroom, actor=district_admin),
        lambda: services.classroom_teacher_add(
            classroom=classroom, teacher=teacher, actor=district_admin
        ),
        lambda: services.classroom_student_add(
            classroom=classroom, student=ana, actor=district_admin
        ),
        lambda: services.classroom_student_remove(
            classroom=classroom, student=ana, actor=district_admin
        ),
    ):
        with pytest.raises(ValidationError) as error:
            change()
        assert error.value.messages[0].startswith("Managed by your SIS")
    assert not AuditEvent.objects.exists()


def test_teacher_add_and_remove_are_audited_on_the_classroom(classroom, teacher, district_admin):
    assert services.classroom_teacher_add(
        classroom=classroom, teacher=teacher, actor=district_admin
    )
    assert not services.classroom_teacher_add(
        classroom=classroom, teacher=teacher, actor=district_admin
    )
    assert list(classroom.teachers.all()) == [teacher]
    (added,) = events("schools.classroom.teacher_added")
    assert (added.target_type, added.target_id) == ("classroom", classroom.pk)
    assert added.after == {"added": "Tom Teacher (tom.teacher)"}
    assert services.classroom_teacher_remove(
        classroom=classroom, teacher=teacher, actor=district_admin
    )
    assert not classroom.teachers.exists()
    assert events("schools.classroom.teacher_removed")[0].after == {
        "removed": "Tom Teacher (tom.teacher)"
    }


@pytest.mark.parametrize("role", [Role.GUARDIAN, Role.STUDENT])
def test_only_staff_can_teach_a_classroom(district, classroom, district_admin, role):
    person = UserFactory(district=district, role=role, first_name="Gus", last_name="Grey")
    with pytest.raises(ValidationError) as error:
        services.classroom_teacher_add(classroom=classroom, teacher=person, actor=district_admin)
    assert "Gus Grey is a" in error.value.message_dict["teacher"][0]
    assert "select staff instead" in error.value.message_dict["teacher"][0]
    assert not classroom.teachers.exists()


def test_people_of_another_district_cannot_join(classroom, other_district, district_admin):
    foreign_teacher = UserFactory(district=other_district, role=Role.TEACHER)
    foreign_student = UserFactory(district=other_district, role=Role.STUDENT)
    with pytest.raises(ValidationError):
        services.classroom_teacher_add(
            classroom=classroom, teacher=foreign_teacher, actor=district_admin
        )
    with pytest.raises(ValidationError):
        services.classroom_student_add(
            classroom=classroom, student=foreign_student, actor=district_admin
        )
    assert not Enrollment.objects.exists() and not classroom.teachers.exists()


def test_student_added_twice_is_enrolled_once(district, classroom, ana, district_admin):
    assert services.classroom_student_add(classroom=classroom, student=ana, actor=district_admin)
    assert not services.classroom_student_add(
        classroom=classroom, student=ana, actor=district_admin
    )
    (enrollment,) = Enrollment.objects.all()
    assert (enrollment.district, enrollment.classroom, enrollment.student) == (
        district,
        classroom,
        ana,
    )
    (event,) = events("schools.classroom.student_added")
    assert event.after == {"added": "Ana Díaz (ana.diaz)"} and event.target_id == classroom.pk
    assert services.classroom_student_remove(classroom=classroom, student=ana, actor=district_admin)
    assert not services.classroom_student_remove(
        classroom=classroom, student=ana, actor=district_admin
    )
    assert not Enrollment.objects.exists()
    assert len(events("schools.classroom.student_removed")) == 1


def test_only_students_and_active_accounts_can_be_enrolled(
    district, classroom, teacher, ana, district_admin
):
    with pytest.raises(ValidationError) as error:
        services.classroom_student_add(classroom=classroom, student=teacher, actor=district_admin)
    assert "Tom Teacher is a teacher: select a student instead" in error.value.messages
    ana.status = Status.DEACTIVATED
    ana.save()
    with pytest.raises(ValidationError) as error:
        services.classroom_student_add(classroom=classroom, student=ana, actor=district_admin)
    assert "Ana Díaz is deactivated" in error.value.messages[0]


# The list


def test_list_shows_classrooms_with_counts_and_status(
    client_for, district, school, classroom, teacher, ana, district_admin
):
    classroom.teachers.add(teacher)
    Enrollment.objects.create(district=district, classroom=classroom, student=ana)
    ClassroomFactory(district=district, school=school, name="Old Art", archived_at=timezone.now())
    response = client_for(district, district_admin).get(LIST)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<title>Classrooms – Alpha District – Rollbook</title>" in body
    assert "<caption>\n    1 classroom\n" in body
    assert "7A Maths" in body and "Old Art" not in body
    assert '<td class="numeric">1</td>' in body
    assert 'class="tag tag-active">Active<' in body


def test_list_filters_by_school_search_and_archived(
    client_for, district, school, other_school, classroom, district_admin
):
    ClassroomFactory(district=district, school=other_school, name="8C Science")
    ClassroomFactory(district=district, school=school, name="Old Art", archived_at=timezone.now())
    client = client_for(district, district_admin)

    by_school = client.get(LIST, {"school": other_school.pk}).content.decode()
    assert "8C Science" in by_school and "7A Maths" not in by_school
    assert "Remove filter: </span>Beta Middle" in by_school

    by_name = client.get(LIST, {"q": "maths"}).content.decode()
    assert "7A Maths" in by_name and "8C Science" not in by_name

    archived = client.get(LIST, {"archived": "1"}).content.decode()
    assert "Old Art" in archived and 'class="tag tag-archived">Archived<' in archived

    forgiving = client.get(LIST, {"school": "nonsense", "page": "999"})
    assert forgiving.status_code == 200


def test_list_query_count_does_not_grow_with_classrooms(
    client_for, district, school, teacher, ana, district_admin, django_assert_max_num_queries
):
    client = client_for(district, district_admin)

    def add_classrooms(count):
        for _ in range(count):
            classroom = ClassroomFactory(district=district, school=school)
            classroom.teachers.add(teacher)
            Enrollment.objects.create(district=district, classroom=classroom, student=ana)

    add_classrooms(2)
    client.get(LIST)  # warm the session and caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    add_classrooms(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get(LIST).content.decode()
    assert "32 classrooms" in body


# Create


def test_admin_creates_a_classroom_and_lands_on_it(client_for, district, school, district_admin):
    client = client_for(district, district_admin)
    page = client.get(f"{LIST}new/").content.decode()
    assert "<h1>Add a classroom</h1>" in page and 'for="id_name"' in page
    response = client.post(f"{LIST}new/", {"name": "7A Maths", "school": school.pk})
    classroom = Classroom.objects.get(name="7A Maths")
    assert response.status_code == 302 and response["Location"] == detail(classroom)
    body = client.get(response["Location"]).content.decode()
    assert "7A Maths created in Alpha High" in body and "Success" in body
    assert events("schools.classroom.created")[0].actor == district_admin


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "Enter the classroom&#x27;s name, like 7A Maths"),
        ({"name": "7a maths"}, "Alpha High already has a classroom called 7a maths"),
        ({"school": ""}, "Select the school the classroom belongs to"),
        ({"school": "foreign"}, "Select one of the schools in the list"),
        ({"year_group": "foreign"}, "Select one of the year groups in the list"),
    ],
)
def test_create_refuses_bad_input_and_keeps_what_was_typed(
    client_for, district, school, classroom, other_district, district_admin, data, message
):
    foreign_school = SchoolFactory(district=other_district)
    foreign_year = YearGroupFactory(district=other_district)
    form = {"name": "8B Art", "school": school.pk, **data}
    if form["school"] == "foreign":
        form["school"] = foreign_school.pk
    if form.get("year_group") == "foreign":
        form["year_group"] = foreign_year.pk
    response = client_for(district, district_admin).post(f"{LIST}new/", form)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: Add a classroom" in body
    assert "There is a problem" in body and message in body
    assert f'value="{form["name"]}"' in body
    assert Classroom.objects.count() == 1


# The detail page and its picker


def test_detail_shows_members_with_named_remove_buttons(
    client_for, district, classroom, teacher, ana, district_admin
):
    classroom.teachers.add(teacher)
    Enrollment.objects.create(district=district, classroom=classroom, student=ana)
    body = client_for(district, district_admin).get(detail(classroom)).content.decode()
    assert "<title>7A Maths – Alpha District – Rollbook</title>" in body
    assert 'Remove<span class="visually-hidden"> Tom Teacher from 7A Maths</span>' in body
    assert 'Remove<span class="visually-hidden"> Ana Díaz from 7A Maths</span>' in body
    assert "1 teacher of 7A Maths" in body and "1 student in 7A Maths" in body


def test_picker_works_without_javascript(client_for, district, classroom, ana, district_admin):
    body = (
        client_for(district, district_admin)
        .get(detail(classroom), {"picker": "students", "find": "diaz"})
        .content.decode()
    )
    assert 'value="diaz"' in body
    assert "1 student matches “diaz”" in body
    assert 'Add<span class="visually-hidden"> Ana Díaz to 7A Maths</span>' in body
    assert f'action="/settings/classrooms/{classroom.pk}/students/{ana.pk}/add/"' in body


def test_picker_answers_htmx_with_only_the_results(
    client_for, district, classroom, ana, district_admin
):
    response = client_for(district, district_admin).get(
        f"{detail(classroom)}find/", {"picker": "students", "find": "ana"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and "Ana Díaz to 7A Maths" in body
    assert 'id="students-status" hx-swap-oob="innerHTML"' in body


def test_picker_without_htmx_redirects_to_the_page(client_for, district, classroom, district_admin):
    response = client_for(district, district_admin).get(
        f"{detail(classroom)}find/", {"picker": "teachers", "find": "tom"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{detail(classroom)}?picker=teachers&find=tom#add-teachers"


def test_picker_offers_only_people_who_can_join(
    client_for, district, classroom, teacher, ana, guardian, other_district, district_admin
):
    UserFactory(district=other_district, role=Role.TEACHER, first_name="Tomas", last_name="Far")
    UserFactory(
        district=district,
        role=Role.TEACHER,
        first_name="Tomasz",
        last_name="Gone",
        status=Status.DEACTIVATED,
    )
    guardian.first_name = "Tomasina"
    guardian.save()
    client = client_for(district, district_admin)
    body = client.get(detail(classroom), {"picker": "teachers", "find": "tom"}).content.decode()
    assert "Tom Teacher to 7A Maths" in body
    for absent in ("Tomas Far", "Tomasz Gone", "Tomasina"):
        assert absent not in body
    classroom.teachers.add(teacher)
    body = client.get(detail(classroom), {"picker": "teachers", "find": "tom"}).content.decode()
    assert "Tom Teacher to 7A Maths" not in body
    assert "No staff match “tom”" in body
    students = client.get(detail(classroom), {"picker": "students", "find": "tom"})
    assert "Tom Teacher to 7A Maths" not in students.content.decode()


def test_adding_from_the_picker_returns_to_the_search_with_a_banner(
    client_for, district, classroom, teacher, ana, district_admin
):
    client = client_for(district, district_admin)
    response = client.post(f"{detail(classroom)}students/{ana.pk}/add/", {"find": "diaz"})
    assert response["Location"] == f"{detail(classroom)}?picker=students&find=diaz#students"
    body = client.get(response["Location"]).content.decode()
    assert "Ana Díaz added to 7A Maths." in body
    # Repeated beside the Students section, where the page opens.
    assert '<p class="section-note section-note-success">Ana Díaz added to 7A Maths.</p>' in body
    assert 'value="diaz"' in body
    assert Enrollment.objects.filter(classroom=classroom, student=ana).exists()

    client.post(f"{detail(classroom)}teachers/{teacher.pk}/add/")
    assert (
        "Tom Teacher added as a teacher of 7A Maths."
        in client.get(detail(classroom)).content.decode()
    )
    assert list(classroom.teachers.all()) == [teacher]


def test_adding_twice_says_so_and_changes_nothing(
    client_for, district, classroom, ana, district_admin
):
    client = client_for(district, district_admin)
    client.post(f"{detail(classroom)}students/{ana.pk}/add/")
    response = client.post(f"{detail(classroom)}students/{ana.pk}/add/", follow=True)
    assert "Ana Díaz is already in 7A Maths." in response.content.decode()
    assert Enrollment.objects.count() == 1


def test_removing_members_shows_a_banner(
    client_for, district, classroom, teacher, ana, district_admin
):
    classroom.teachers.add(teacher)
    Enrollment.objects.create(district=district, classroom=classroom, student=ana)
    client = client_for(district, district_admin)
    response = client.post(f"{detail(classroom)}students/{ana.pk}/remove/", follow=True)
    assert "Ana Díaz removed from 7A Maths." in response.content.decode()
    response = client.post(f"{detail(classroom)}teachers/{teacher.pk}/remove/", follow=True)
    assert "Tom Teacher no longer teaches 7A Maths." in response.content.decode()
    assert not Enrollment.objects.exists() and not classroom.teachers.exists()
    # Removing someone who is not a member is a 404, not a silent success.
    assert client.post(f"{detail(classroom)}students/{ana.pk}/remove/").status_code == 404


def test_adding_a_guardian_as_teacher_is_refused_with_a_message(
    client_for, district, classroom, guardian, district_admin
):
    response = client_for(district, district_admin).post(
        f"{detail(classroom)}teachers/{guardian.pk}/add/", follow=True
    )
    body = response.content.decode()
    assert "is a guardian: select staff instead" in body
    assert not classroom.teachers.exists()


def test_adding_a_user_of_another_district_is_a_404(
    client_for, district, classroom, other_district, district_admin
):
    foreign = UserFactory(district=other_district, role=Role.STUDENT)
    foreign_teacher = UserFactory(district=other_district, role=Role.TEACHER)
    client = client_for(district, district_admin)
    assert client.post(f"{detail(classroom)}students/{foreign.pk}/add/").status_code == 404
    assert client.post(f"{detail(classroom)}teachers/{foreign_teacher.pk}/add/").status_code == 404
    assert not Enrollment.objects.exists() and not classroom.teachers.exists()


def test_rename_and_archive_from_the_page(client_for, district, classroom, district_admin):
    client = client_for(district, district_admin)
    response = client.post(f"{detail(classroom)}rename/", {"name": "7A Mathematics"}, follow=True)
    assert "7A Maths renamed to 7A Mathematics." in response.content.decode()

    response = client.post(f"{detail(classroom)}archive/", follow=True)
    body = response.content.decode()
    assert "7A Mathematics archived." in body
    assert 'Unarchive<span class="visually-hidden"> 7A Mathematics</span>' in body
    assert "Add students" not in body and "Rename classroom" not in body

    response = client.post(f"{detail(classroom)}unarchive/", follow=True)
    assert "7A Mathematics unarchived." in response.content.decode()
    classroom.refresh_from_db()
    assert classroom.name == "7A Mathematics" and classroom.archived_at is None


def test_rename_to_nothing_shows_the_error_beside_the_field(
    client_for, district, classroom, district_admin
):
    response = client_for(district, district_admin).post(
        f"{detail(classroom)}rename/", {"name": ""}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: 7A Maths" in body
    assert 'href="#id_name">Enter the classroom&#x27;s new name' in body
    assert 'aria-invalid="true"' in body


def test_changes_to_an_archived_classroom_are_refused_with_a_message(
    client_for, district, classroom, ana, district_admin
):
    classroom.archived_at = timezone.now()
    classroom.save()
    response = client_for(district, district_admin).post(
        f"{detail(classroom)}students/{ana.pk}/add/", follow=True
    )
    assert "7A Maths is archived: unarchive it before changing it" in response.content.decode()
    assert not Enrollment.objects.exists()


def test_sis_classroom_page_says_who_manages_it(client_for, district, classroom, district_admin):
    classroom.sis_id = "cls-1"
    classroom.save()
    body = client_for(district, district_admin).get(detail(classroom)).content.decode()
    assert "Managed by your SIS" in body
    assert "Rename classroom" not in body and "Add a teacher" not in body


# Who may open the pages


def test_school_admin_manages_only_classrooms_of_their_schools(
    client_for, district, school, other_school, classroom, ana, school_admin
):
    elsewhere = ClassroomFactory(district=district, school=other_school, name="9Z Latin")
    client = client_for(district, school_admin)
    body = client.get(LIST).content.decode()
    assert "7A Maths" in body and "9Z Latin" not in body
    assert client.get(detail(classroom)).status_code == 200
    assert client.get(detail(elsewhere)).status_code == 404
    assert client.post(f"{detail(elsewhere)}archive/").status_code == 404
    assert client.post(f"{detail(elsewhere)}students/{ana.pk}/add/").status_code == 404
    assert client.get(f"{detail(elsewhere)}find/", HTTP_HX_REQUEST="true").status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.archived_at is None


def test_school_admin_creates_only_in_their_schools(
    client_for, district, school, other_school, school_admin
):
    client = client_for(district, school_admin)
    page = client.get(f"{LIST}new/").content.decode()
    assert "Alpha High" in page and "Beta Middle" not in page
    response = client.post(f"{LIST}new/", {"name": "9Z Latin", "school": other_school.pk})
    assert "Select one of the schools in the list" in response.content.decode()
    assert not Classroom.objects.exists()


def test_school_admin_cannot_add_people_of_other_schools(
    client_for, district, classroom, other_school, school_admin
):
    outsider = UserFactory(district=district, role=Role.STUDENT)
    outsider.schools.add(other_school)
    client = client_for(district, school_admin)
    assert client.post(f"{detail(classroom)}students/{outsider.pk}/add/").status_code == 404
    assert not Enrollment.objects.exists()


@pytest.mark.parametrize("role", ["teacher", "student", "guardian"])
def test_other_roles_get_the_403_page_on_every_admin_page(
    client_for, district, classroom, ana, role, request
):
    client = client_for(district, request.getfixturevalue(role))
    for path in (LIST, f"{LIST}new/", detail(classroom), f"{detail(classroom)}find/"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "You cannot open this page" in response.content.decode()
    assert client.post(f"{detail(classroom)}students/{ana.pk}/add/").status_code == 403
    assert client.post(f"{detail(classroom)}archive/").status_code == 403
    assert not Enrollment.objects.exists()


def test_signed_out_visitors_are_sent_to_sign_in(client_for, district, classroom):
    response = client_for(district).get(detail(classroom))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_another_districts_classroom_is_a_404(
    client_for, district, classroom, ana, other_district, other_admin
):
    client = client_for(other_district, other_admin)
    assert client.get(detail(classroom)).status_code == 404
    assert client.post(f"{detail(classroom)}rename/", {"name": "Hijacked"}).status_code == 404
    assert client.post(f"{detail(classroom)}students/{ana.pk}/add/").status_code == 404
    assert "7A Maths" not in client.get(LIST).content.decode()
    classroom.refresh_from_db()
    assert classroom.name == "7A Maths" and not Enrollment.objects.exists()
