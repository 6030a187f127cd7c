"""A teacher's "My classes" and "My students": their own classes and students only,
read-only, searchable, and closed to every other role."""

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone

from accounts.models import Role
from schools.models import Enrollment
from tests.factories import ClassroomFactory, UserFactory, YearGroupFactory


@pytest.fixture
def year7(district):
    return YearGroupFactory(district=district, name="Year 7", ordinal=7)


def student_in(district, classroom=None, **fields):
    student = UserFactory(district=district, role=Role.STUDENT, **fields)
    if classroom is not None:
        Enrollment.objects.create(district=district, classroom=classroom, student=student)
    return student


@pytest.fixture
def classes(district, school, teacher, year7):
    """Tom teaches 7A Maths; someone else teaches 8B Art; Tom's old class is archived."""
    maths = ClassroomFactory(district=district, school=school, name="7A Maths", year_group=year7)
    maths.teachers.add(teacher)
    art = ClassroomFactory(district=district, school=school, name="8B Art")
    art.teachers.add(UserFactory(district=district, role=Role.TEACHER))
    old = ClassroomFactory(
        district=district, school=school, name="6C Old", archived_at=timezone.now()
    )
    old.teachers.add(teacher)
    return {"maths": maths, "art": art, "old": old}


def test_my_classes_lists_only_the_teachers_current_classes_with_counts(
    client_for, district, teacher, classes
):
    student_in(district, classes["maths"])
    student_in(district, classes["maths"])
    response = client_for(district, teacher).get("/my/classes/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<title>My classes – Alpha District – Rollbook</title>" in body
    assert "You teach 1 class" in body
    assert f'href="/my/classes/{classes["maths"].pk}/">7A Maths</a>' in body
    assert '<td class="numeric">2</td>' in body
    assert "8B Art" not in body and "6C Old" not in body


def test_class_page_lists_its_students_read_only(client_for, district, teacher, classes, year7):
    student_in(district, classes["maths"], first_name="Ana", last_name="Díaz", year_group=year7)
    student_in(district, classes["art"], first_name="Bo", last_name="Elsewhere")
    body = client_for(district, teacher).get(f"/my/classes/{classes['maths'].pk}/").content.decode()
    assert "<h1>7A Maths</h1>" in body
    assert "Your other classes" in body and ">7A Maths</a>" not in body
    assert "Díaz, Ana" in body and "Year 7" in body
    assert "Elsewhere" not in body
    assert "1 student in 7A Maths" in body
    assert '<form method="post"' not in body.split("<main")[1]


@pytest.mark.parametrize("which", ["art", "old"])
def test_class_page_of_a_class_not_taught_now_is_a_404(
    client_for, district, teacher, classes, which
):
    response = client_for(district, teacher).get(f"/my/classes/{classes[which].pk}/")
    assert response.status_code == 404


def test_class_of_another_district_is_a_404(client_for, district, teacher, other_district):
    foreign = ClassroomFactory(district=other_district, name="Bravo Secret Class")
    foreign.teachers.add(UserFactory(district=other_district, role=Role.TEACHER))
    response = client_for(district, teacher).get(f"/my/classes/{foreign.pk}/")
    assert response.status_code == 404
    assert "Bravo Secret Class" not in response.content.decode()


def test_my_students_are_class_members_and_case_managed_students_only(
    client_for, district, teacher, classes
):
    student_in(district, classes["maths"], first_name="Ana", last_name="Díaz")
    student_in(district, first_name="Cy", last_name="Casework", case_manager=teacher)
    student_in(district, classes["art"], first_name="Bo", last_name="Elsewhere")
    student_in(district, classes["old"], first_name="Ola", last_name="Archived")
    body = client_for(district, teacher).get("/my/students/").content.decode()
    assert "<title>My students – Alpha District – Rollbook</title>" in body
    assert "2 students" in body
    assert "Díaz, Ana" in body and "Casework, Cy" in body
    assert "Elsewhere" not in body and "Archived" not in body
    assert f'href="/my/classes/{classes["maths"].pk}/">7A Maths</a>' in body
    assert "You manage their case" in body


def test_my_students_search_uses_the_list_search(client_for, district, teacher, classes):
    student_in(district, classes["maths"], first_name="Ana", last_name="Díaz")
    student_in(district, classes["maths"], first_name="Ben", last_name="Okafor")
    client = client_for(district, teacher)
    body = client.get("/my/students/", {"q": "diaz"}).content.decode()
    assert "1 student matching “diaz”" in body
    assert "Díaz, Ana" in body and "Okafor" not in body
    assert 'value="diaz"' in body
    body = client.get("/my/students/", {"q": "nobody-like-this"}).content.decode()
    assert "No students match “nobody-like-this”" in body


def test_my_students_pages_by_fifty(client_for, district, teacher, classes):
    for n in range(53):
        student_in(district, classes["maths"], first_name="Pupil", last_name=f"Number{n:02d}")
    client = client_for(district, teacher)
    first = client.get("/my/students/").content.decode()
    assert "53 students, page 1 of 2" in first
    assert first.count("Pupil</th>") == 50
    assert '<nav class="pagination" aria-label="Pagination">' in first
    second = client.get("/my/students/", {"page": "2"}).content.decode()
    assert second.count("Pupil</th>") == 3


def test_my_students_query_count_does_not_grow_with_students(
    client_for, district, teacher, classes, django_assert_max_num_queries
):
    client = client_for(district, teacher)
    student_in(district, classes["maths"])
    client.get("/my/students/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get("/my/students/")
    for _ in range(20):
        student = student_in(district, classes["maths"])
        student.schools.add(classes["maths"].school)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/my/students/")


@pytest.mark.parametrize("role", ["district_admin", "school_admin", "student", "guardian"])
def test_only_teachers_open_their_pages(client_for, district, classes, role, request):
    client = client_for(district, request.getfixturevalue(role))
    for path in ("/my/classes/", "/my/students/", f"/my/classes/{classes['maths'].pk}/"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "You cannot open this page" in response.content.decode()


def test_teachers_never_see_admin_pages(client_for, district, teacher, classes):
    client = client_for(district, teacher)
    for path in (
        "/settings/classrooms/",
        "/settings/classrooms/new/",
        f"/settings/classrooms/{classes['maths'].pk}/",
    ):
        assert client.get(path).status_code == 403


def test_my_nav_links_teachers_to_their_pages_and_shows_nothing_to_others(
    district, teacher, district_admin
):
    request = RequestFactory().get("/my/students/")
    from django.urls import resolve

    request.resolver_match = resolve("/my/students/")
    html = render_to_string("schools/my_nav.html", {"user": teacher, "request": request})
    assert 'href="/my/classes/">My classes</a>' in html
    assert 'href="/my/students/" aria-current="page">My students</a>' in html
    assert render_to_string("schools/my_nav.html", {"user": district_admin}).strip() == ""
