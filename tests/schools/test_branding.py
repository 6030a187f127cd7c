"""Branding and sign-in settings: who may change them, what is refused, what is audited."""

from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import AuditEvent
from schools.branding import contrast_ratio, text_colour_on

VALID = {
    "brand_colour": "#7a1f5c",
    "contact_line": "Call us on 01632 960 123",
    "terminology": "grade",
    "username_pattern": "{f}{last}",
    "password_min_length": "10",
    "activation_days": "5",
    "reset_hours": "12",
    "reminder_after_days": "0",
}


def image_file(kind="PNG", size=(40, 20), name="logo.png"):
    data = BytesIO()
    Image.new("RGB", size, "navy").save(data, kind)
    return SimpleUploadedFile(name, data.getvalue(), content_type="image/png")


def post(client, **changes):
    return client.post("/settings/branding/", {**VALID, **changes})


def test_district_admin_saves_branding_and_policy(client_for, district, district_admin):
    client = client_for(district, district_admin)
    response = post(client, logo=image_file())
    assert response.status_code == 302
    district.refresh_from_db()
    assert district.brand_colour == "#7a1f5c"
    assert district.terminology == "grade"
    assert (district.password_min_length, district.activation_days, district.reset_hours) == (
        10,
        5,
        12,
    )
    assert district.logo_content_type == "image/png" and district.logo_version == 1
    page = client.get("/").content.decode()
    assert 'alt="Alpha District"' in page
    assert "Call us on 01632 960 123" in page
    logo = client.get(f"/branding/logo/{district.logo_version}/")
    assert logo.status_code == 200 and logo["Content-Type"] == "image/png"
    theme = client.get("/branding/theme.css").content.decode()
    assert "--brand:#7a1f5c" in theme and "--brand-text:#ffffff" in theme
    event = AuditEvent.objects.get(action="schools.district.settings_updated")
    assert event.actor == district_admin
    assert event.after["brand_colour"] == "#7a1f5c" and event.after["logo"] == "uploaded"
    assert event.before["brand_colour"] == "#1d4f91"


def test_saving_unchanged_settings_records_nothing(client_for, district, district_admin):
    client = client_for(district, district_admin)
    post(client)
    post(client)
    assert AuditEvent.objects.filter(action="schools.district.settings_updated").count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"brand_colour": "blue"}, "as a # followed by 6 hexadecimal digits"),
        ({"brand_colour": "#777777"}, "must be at least 4.5:1"),
        ({"brand_colour": ""}, "Enter a brand colour"),
        ({"username_pattern": "{first}.{middle}"}, "Remove {middle}"),
        ({"username_pattern": "user"}, "Include {first} or {last}"),
        ({"username_pattern": "{first} {last}"}, "Use only lowercase letters"),
        ({"password_min_length": "4"}, "from 8 to 64"),
        ({"password_min_length": "ten"}, "as a number"),
        ({"activation_days": "90"}, "from 1 to 30"),
        ({"reset_hours": "0"}, "from 1 to 72"),
        ({"terminology": "form"}, "Select Year or Grade"),
        ({"reminder_after_days": "45"}, "from 0 to 30"),
    ],
)
def test_bad_settings_are_refused_with_a_message_and_keep_what_was_typed(
    client_for, district, district_admin, changes, message
):
    response = post(client_for(district, district_admin), **changes)
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in body
    assert message in body
    assert 'value="Call us on 01632 960 123"' in body
    district.refresh_from_db()
    assert district.brand_colour == "#1d4f91" and district.contact_line == ""


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("logo.png", b"", content_type="image/png"), "is empty"),
        (
            SimpleUploadedFile("logo.png", b"not an image at all", content_type="image/png"),
            "must be a PNG, JPEG, GIF or WebP image",
        ),
        (
            SimpleUploadedFile(
                "logo.svg",
                b"<svg xmlns='http://www.w3.org/2000/svg'/>",
                content_type="image/svg+xml",
            ),
            "must be a PNG, JPEG, GIF or WebP",
        ),
        (
            SimpleUploadedFile(
                "logo.png", b"\x89PNG" + b"0" * (600 * 1024), content_type="image/png"
            ),
            "smaller than 512 KB",
        ),
    ],
)
def test_bad_logos_are_refused(client_for, district, district_admin, upload, message):
    body = post(client_for(district, district_admin), logo=upload).content.decode()
    assert message in body
    district.refresh_from_db()
    assert district.logo is None


def test_huge_image_dimensions_are_refused(client_for, district, district_admin):
    body = post(
        client_for(district, district_admin), logo=image_file(size=(4000, 10))
    ).content.decode()
    assert "at most 2000 pixels" in body


def test_logo_can_be_removed(client_for, district, district_admin):
    client = client_for(district, district_admin)
    post(client, logo=image_file())
    post(client, remove_logo="on")
    district.refresh_from_db()
    assert district.logo is None and district.logo_version == 2
    assert client.get("/branding/logo/2/").status_code == 404


@pytest.mark.parametrize("role_fixture", ["school_admin", "teacher", "student", "guardian"])
def test_only_district_admins_may_change_branding(client_for, district, role_fixture, request):
    user = request.getfixturevalue(role_fixture)
    client = client_for(district, user)
    assert client.get("/settings/branding/").status_code == 403
    assert post(client).status_code == 403
    district.refresh_from_db()
    assert district.contact_line == ""


def test_signed_out_visitor_is_sent_to_sign_in(client_for, district):
    response = client_for(district).get("/settings/branding/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/settings/branding/"


def test_admin_of_another_district_cannot_change_this_one(client_for, district, other_admin):
    client = client_for(district)
    client.force_login(other_admin, backend="accounts.backends.DistrictBackend")
    assert post(client).status_code == 302  # not signed in here
    district.refresh_from_db()
    assert district.contact_line == ""


def test_text_colour_keeps_contrast():
    assert text_colour_on("#1d4f91") == "#ffffff"
    assert text_colour_on("#ffdd00") == "#0b0c0c"
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21, rel=0.01)


def test_light_colour_gets_dark_text_and_the_admin_is_told(client_for, district, district_admin):
    client = client_for(district, district_admin)
    response = post(client, brand_colour="#ffdd00")
    assert response.status_code == 302
    page = client.get("/settings/branding/").content.decode()
    assert "Text on #ffdd00 is dark so that it stays readable" in page
    assert "--brand-text:#0b0c0c" in client.get("/branding/theme.css").content.decode()
