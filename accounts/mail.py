"""How Rollbook sends email: one renderer over template triplets, and the dev outbox.

Each email is `templates/emails/<name>-subject.txt`, `-body.txt` and `-body.html`,
rendered with the district's branding. With no EMAIL_URL, messages are kept in
OutboxMessage rows and shown at /dev/outbox/ (DEBUG only) on the district's host.
"""

import base64

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string
from django.utils import timezone

from schools.branding import text_colour_on
from schools.models import District

DISTRICT_HEADER = "X-Rollbook-District"


def send(*, district: District, to: str, template: str, context: dict, attachments=()) -> None:
    """Renders and sends one email; `attachments` are (file name, content, MIME type)."""
    context = {
        **context,
        "district": district,
        "brand_text_colour": text_colour_on(district.brand_colour),
        "logo_url": district.url(f"/branding/logo/{district.logo_version}/")
        if district.logo
        else "",
        "home_url": district.url("/"),
    }
    # Times in an email are the district's local time.
    with timezone.override(district.time_zone):
        subject = " ".join(render_to_string(f"emails/{template}-subject.txt", context).split())
        text = render_to_string(f"emails/{template}-body.txt", context)
        html = render_to_string(f"emails/{template}-body.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={DISTRICT_HEADER: str(district.pk)},
    )
    message.attach_alternative(html, "text/html")
    for name, content, mimetype in attachments:
        message.attach(name, content, mimetype)
    message.send()


class OutboxBackend(BaseEmailBackend):
    """Stores messages in the database instead of sending them."""

    def send_messages(self, email_messages):
        from accounts.models import OutboxMessage

        for message in email_messages:
            html = next(
                (
                    body
                    for body, kind in getattr(message, "alternatives", [])
                    if kind == "text/html"
                ),
                "",
            )
            district_id = message.extra_headers.get(DISTRICT_HEADER)
            attachments = [
                {
                    "name": name,
                    "mimetype": mimetype,
                    "content": base64.b64encode(
                        content.encode() if isinstance(content, str) else content
                    ).decode(),
                }
                for name, content, mimetype in message.attachments
            ]
            OutboxMessage.objects.create(
                attachments=attachments,
                district_id=int(district_id) if district_id else None,
                to=", ".join(message.to),
                subject=message.subject,
                body_text=message.body,
                body_html=html,
            )
        return len(email_messages)
