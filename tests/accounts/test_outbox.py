"""The development outbox: DEBUG only, one district's mail on its own host."""

from datetime import timedelta

from django.utils import timezone

from accounts.models import LoginEvent, OutboxMessage
from accounts.tasks import purge_old_login_events


def test_outbox_is_gone_without_debug(client_for, district, settings):
    settings.DEBUG = False
    OutboxMessage.objects.create(district=district, to="a@b.org", subject="Hi", body_text="x")
    assert client_for(district).get("/dev/outbox/").status_code == 404


def test_outbox_lists_only_this_districts_mail_with_clickable_links(
    client_for, district, other_district, settings
):
    settings.DEBUG = True
    mine = OutboxMessage.objects.create(
        district=district,
        to="a@alpha.example",
        subject="Alpha mail",
        body_text="Open http://alpha.localhost:8000/activate/abc/ now",
        body_html="<p style='color:red'>Hello</p>",
    )
    theirs = OutboxMessage.objects.create(
        district=other_district, to="b@bravo.example", subject="Bravo mail", body_text="x"
    )
    client = client_for(district)
    listing = client.get("/dev/outbox/").content.decode()
    assert "Alpha mail" in listing and "Bravo mail" not in listing
    detail = client.get(f"/dev/outbox/{mine.pk}/").content.decode()
    assert '<a href="http://alpha.localhost:8000/activate/abc/"' in detail
    html = client.get(f"/dev/outbox/{mine.pk}/html/")
    assert html.content.decode() == "<p style='color:red'>Hello</p>"
    assert "default-src 'none'" in html["Content-Security-Policy"]
    assert client.get(f"/dev/outbox/{theirs.pk}/").status_code == 404
    assert client.get(f"/dev/outbox/{theirs.pk}/html/").status_code == 404


def test_old_sign_in_records_are_purged(district):
    old = LoginEvent.objects.create(
        district=district,
        identifier="a",
        succeeded=False,
        created_at=timezone.now() - timedelta(days=91),
    )
    recent = LoginEvent.objects.create(district=district, identifier="a", succeeded=False)
    purge_old_login_events.delay()
    assert not LoginEvent.objects.filter(pk=old.pk).exists()
    assert LoginEvent.objects.filter(pk=recent.pk).exists()


def test_outbox_keeps_attachments_for_download_in_their_district_only(
    client_for, district, other_district, settings
):
    from accounts import mail

    settings.DEBUG = True
    settings.EMAIL_BACKEND = "accounts.mail.OutboxBackend"
    mail.send(
        district=district,
        to="ada@alpha.example",
        template="password-changed",
        context={"user": None, "forgot_url": "x"},
        attachments=[("people.csv", "Row,Name\n2,Zoë\n", "text/csv")],
    )
    message = OutboxMessage.objects.get(district=district)
    client = client_for(district)
    detail = client.get(f"/dev/outbox/{message.pk}/").content.decode()
    assert "people.csv" in detail
    download = client.get(f"/dev/outbox/{message.pk}/attachments/0/")
    assert download.content.decode() == "Row,Name\n2,Zoë\n"
    assert download["Content-Type"] == "text/csv"
    assert client.get(f"/dev/outbox/{message.pk}/attachments/1/").status_code == 404
    assert (
        client_for(other_district).get(f"/dev/outbox/{message.pk}/attachments/0/").status_code
        == 404
    )
