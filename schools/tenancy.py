"""Which district a request, task or command acts for, and the scope that enforces it.

Requests are resolved by host: `<slug>.<BASE_DOMAIN>` or a district's custom
domain. The bare BASE_DOMAIN serves the platform's own pages (landing, admin);
any other host is a plain 404. Everything after this middleware runs inside
`django_scopes.scope(district=...)`, so a query that forgets the district fails.
"""

import re
from contextlib import contextmanager

from celery import Task
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpResponseBadRequest, HttpResponseNotFound
from django.http.request import split_domain_port
from django_scopes import get_scope, scope, scopes_disabled

from schools.models import District

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")

NOT_FOUND_PAGE = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Not found – Rollbook"
    "</title></head><body><main><h1>Page not found</h1><p>There is no Rollbook district at "
    "this address. Check the address you were given by your school.</p></main></body></html>"
)
BAD_HOST_PAGE = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Bad request – Rollbook"
    "</title></head><body><main><h1>Bad request</h1><p>This address is not served here.</p>"
    "</main></body></html>"
)


def district_for_host(host: str) -> District | None:
    """The district a host names, or None (the caller tells platform from unknown)."""
    host = host.lower().rstrip(".")
    suffix = f".{settings.BASE_DOMAIN}"
    with scopes_disabled():
        if host.endswith(suffix):
            label = host[: -len(suffix)]
            if not _LABEL.match(label):
                return None
            return District.objects.filter(slug=label).first()
        return District.objects.filter(custom_domain=host).first()


def is_platform_host(host: str) -> bool:
    return host.lower().rstrip(".") == settings.BASE_DOMAIN


def active_district_id() -> int | None:
    """The district of the active scope, or None outside any district."""
    current = get_scope()
    if not current.get("_enabled", True):
        return None
    district = current.get("district")
    return district.pk if isinstance(district, District) else district


class DistrictMiddleware:
    """Sets request.district and runs the rest of the request inside its scope."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            host, _port = split_domain_port(request.get_host())
        except DisallowedHost:
            host = ""
        if not host:
            return HttpResponseBadRequest(BAD_HOST_PAGE)
        if is_platform_host(host):
            request.district = None
            request.urlconf = settings.PLATFORM_URLCONF
            # Platform pages are the landing page and the admin, for superusers only.
            with scopes_disabled():
                return self.get_response(request)
        district = district_for_host(host)
        if district is None:
            return HttpResponseNotFound(NOT_FOUND_PAGE)
        request.district = district
        with scope(district=district):
            return self.get_response(request)


@contextmanager
def district_scope(district_id: int):
    """Runs a block (task, command) for one district, loading it first."""
    with scopes_disabled():
        district = District.objects.get(pk=district_id)
    with scope(district=district):
        yield district


class TenantTask(Task):
    """A Celery task whose first argument is a district id; its body runs in that scope."""

    def __call__(self, district_id, *args, **kwargs):
        with district_scope(district_id):
            return super().__call__(district_id, *args, **kwargs)
