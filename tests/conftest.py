"""Fixtures every test shares: two districts, a user per role, clients on each district's
host, and Celery that runs in-process unless a test asks for the real worker."""

import os

import pytest
from django.conf import settings
from django.test import Client
from django_scopes import scopes_disabled

from accounts.models import Role
from config.celery import app as celery_app
from tests.factories import DistrictFactory, SchoolFactory, UserFactory

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_configure(config):
    # An in-process cache: clearing it between tests must never flush Redis, which the
    # Celery broker shares in CI.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    # Other threads cannot see a test's uncommitted rows; tests that commit for real
    # (worker, e2e) turn the parallel import commit back on.
    settings.BULK_WRITE_THREADS = 1
    # The rostering tests' OneRoster and bundle servers listen on localhost.
    settings.ROSTER_ALLOW_LOCAL_URLS = True


@pytest.fixture(autouse=True)
def _scopes_disabled():
    """Tests read freely; requests still run inside their district's scope (middleware)."""
    with scopes_disabled():
        yield


@pytest.fixture
def district(db):
    return DistrictFactory(name="Alpha District", slug="alpha")


@pytest.fixture
def other_district(db):
    return DistrictFactory(name="Bravo District", slug="bravo")


@pytest.fixture
def school(district):
    return SchoolFactory(district=district, name="Alpha High")


def _user(district, role, **extra):
    return UserFactory(district=district, role=role, **extra)


@pytest.fixture
def district_admin(district):
    return _user(
        district,
        Role.DISTRICT_ADMIN,
        username="ada.admin",
        first_name="Ada",
        last_name="Admin",
        email="ada@alpha.example",
    )


@pytest.fixture
def school_admin(district, school):
    user = _user(district, Role.SCHOOL_ADMIN, username="sol.head")
    user.set_schools([school])
    return user


@pytest.fixture
def teacher(district, school):
    user = _user(
        district,
        Role.TEACHER,
        username="tom.teacher",
        first_name="Tom",
        last_name="Teacher",
        email="tom@alpha.example",
    )
    user.set_schools([school])
    return user


@pytest.fixture
def student(district, school):
    user = _user(
        district,
        Role.STUDENT,
        username="sue.student",
        first_name="Sue",
        last_name="Student",
        email="sue@alpha.example",
    )
    user.set_schools([school])
    return user


@pytest.fixture
def guardian(district):
    return _user(district, Role.GUARDIAN, username="gus.guardian")


@pytest.fixture
def other_admin(other_district):
    return _user(
        other_district,
        Role.DISTRICT_ADMIN,
        username="bea.admin",
        first_name="Bea",
        last_name="Bravo",
        email="bea@bravo.example",
    )


def host_of(district) -> str:
    return f"{district.slug}.{settings.BASE_DOMAIN}"


@pytest.fixture
def client_for():
    """A browser-like client on a district's host, optionally signed in."""

    def make(district, user=None) -> Client:
        client = Client(HTTP_HOST=host_of(district))
        if user is not None:
            client.force_login(user, backend="accounts.backends.DistrictBackend")
        return client

    return make


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker consuming from Redis in a thread, when REDIS_URL is set (CI).
    Without it (a laptop's `make test`), tasks stay in-process and eager."""
    if not settings.REDIS_URL:
        if IN_CI:
            pytest.fail("CI must run worker tests against Redis: set REDIS_URL")
        yield None
        return
    from celery.contrib.testing.worker import start_worker

    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    try:
        with start_worker(
            celery_app,
            pool="solo",
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=30,
        ) as worker:
            yield worker
    finally:
        celery_app.conf.task_always_eager = True


def pytest_report_header(config):
    from django.db import connection

    broker = "real worker over Redis" if settings.REDIS_URL else "in-process (eager)"
    return [f"rollbook: database={connection.vendor}, worker tests={broker}, CI={IN_CI}"]


def pytest_sessionstart(session):
    from django.db import connection

    if IN_CI and (connection.vendor != "postgresql" or not settings.REDIS_URL):
        raise pytest.UsageError("CI runs on PostgreSQL and Redis: set DATABASE_URL and REDIS_URL")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Cached list counts must not leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
