"""The development outbox: emails the OutboxBackend kept, shown to whoever runs the app.

Only with DEBUG on, and only the current district's messages on its host: the
outbox is a developer's tool, not a way around tenancy.
"""

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render

from accounts.models import OutboxMessage


def _messages(request):
    if not settings.DEBUG:
        raise Http404("The outbox exists only in development")
    return OutboxMessage.objects.filter(district=request.district)


def outbox_list(request):
    return render(request, "dev/outbox_list.html", {"messages_kept": _messages(request)[:200]})


def _message(request, pk):
    message = _messages(request).filter(pk=pk).first()
    if message is None:
        raise Http404("No such message")
    return message


def outbox_detail(request, pk):
    return render(request, "dev/outbox_detail.html", {"message": _message(request, pk)})


def outbox_html(request, pk):
    """The HTML part exactly as a mail client gets it."""
    response = HttpResponse(_message(request, pk).body_html or "<p>No HTML part.</p>")
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
        "frame-ancestors 'none'"
    )
    return response


def outbox_attachment(request, pk, index):
    """An attachment as it was sent, downloaded."""
    import base64

    attachments = _message(request, pk).attachments
    if not 0 <= index < len(attachments):
        raise Http404("No such attachment")
    attachment = attachments[index]
    response = HttpResponse(
        base64.b64decode(attachment["content"]), content_type=attachment["mimetype"]
    )
    name = attachment["name"].replace('"', "")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
