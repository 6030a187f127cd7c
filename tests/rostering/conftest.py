"""Fixtures the rostering tests share: a real OneRoster REST server over HTTP."""

import contextlib

import pytest

from tests.rostering.oneroster_server import OneRosterServer


@pytest.fixture
def oneroster_server():
    """Starts a OneRoster server for the test and stops it afterwards:
    `server = oneroster_server(rows, version="1.2", auth="oauth1")`."""
    with contextlib.ExitStack() as stack:
        yield lambda rows, **options: stack.enter_context(OneRosterServer(rows, **options))
