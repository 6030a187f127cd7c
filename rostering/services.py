"""Every write of the rostering app: connections, and the life of a sync run (start,
execute, hold, approve, reject). Views, tasks and the command call these.
"""

import datetime as dt
import logging
import urllib.error
import urllib.request
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import audit
from accounts.models import Status, User
from bulkactions.secrets import secret_open, secret_seal
from rostering.models import (
    Auth,
    ConnectionKind,
    Entity,
    RosterConnection,
    RosterRecord,
    RunStatus,
    Schedule,
    SyncRun,
    Trigger,
)
from rostering.oneroster import rest, samples
from rostering.oneroster.bundle import bundle_read
from rostering.oneroster.errors import BundleInvalid, SourceError
from rostering.sync.apply import changes_store, plan_apply
from rostering.sync.plan import plan_build

log = logging.getLogger(__name__)

CONNECTION_FIELDS = (
    "name",
    "kind",
    "version",
    "url",
    "token_url",
    "auth",
    "client_id",
    "schedule",
    "daily_at",
    "threshold_pct",
    "activation_emails",
    "is_enabled",
)
# REST delta fetches reach back this far before the last fetch: clocks differ and a
# record changed during the last fetch must not be missed.
DELTA_OVERLAP = dt.timedelta(minutes=15)
# Deletes are often invisible in deltas: the whole roster is fetched at least this often.
FULL_FETCH_EVERY = dt.timedelta(hours=23)


class AlreadyRunning(Exception):
    """Another sync of this district holds the running slot; try again later."""


# -- connections -------------------------------------------------------------------------


def _connection_errors(values: dict) -> dict[str, list[str]]:
    errors = {}
    kind = values.get("kind")
    url = values.get("url", "")
    if kind in (ConnectionKind.CSV_URL, ConnectionKind.REST):
        if not url:
            errors["url"] = ["Enter the address Rollbook fetches from"]
        elif not _is_https_or_local(url):
            errors["url"] = ["Use an https:// address: rostering data is personal data"]
    if kind == ConnectionKind.REST and values.get("auth") == Auth.OAUTH2:
        token_url = values.get("token_url", "")
        if not token_url:
            errors["token_url"] = ["Enter the OAuth 2.0 token address your SIS gives"]
        elif not _is_https_or_local(token_url):
            errors["token_url"] = ["Use an https:// address"]
    if kind == ConnectionKind.REST and not values.get("client_id"):
        errors["client_id"] = ["Enter the client id (key) your SIS gives"]
    if kind == ConnectionKind.CSV_UPLOAD and values.get("schedule") != Schedule.MANUAL:
        errors["schedule"] = [
            "An uploaded bundle has nothing to fetch: choose 'Only when started by hand'"
        ]
    threshold = values.get("threshold_pct", 10)
    if not 1 <= int(threshold) <= 100:
        errors["threshold_pct"] = ["Enter a percentage from 1 to 100"]
    return errors


def _is_https_or_local(url: str) -> bool:
    """HTTPS, or plain HTTP to this machine where ROSTER_ALLOW_LOCAL_URLS allows it
    (development and tests): never a way for an admin to reach the server's own ports."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if local:
        return settings.ROSTER_ALLOW_LOCAL_URLS and parts.scheme in ("http", "https")
    return parts.scheme == "https"


def _check_public(url: str) -> None:
    """Refuses an address whose host resolves into a private, loopback or link-local
    network: an admin's connection must not make the worker reach internal services.
    (The check and the connection resolve separately; a hostile DNS could still race it.)"""
    import ipaddress
    import socket
    from urllib.parse import urlsplit

    if settings.ROSTER_ALLOW_LOCAL_URLS:
        return
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise SourceError(
            f"The address {parts.hostname} could not be found: check its spelling.",
            file=redacted(url),
        ) from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise SourceError(
                "The address points into a private network, which Rollbook does not reach: "
                "use the SIS's public HTTPS address.",
                file=redacted(url),
            )


def redacted(url: str) -> str:
    """An address fit for messages, audit and email: no credentials, query or fragment
    (bundle addresses often carry a token there)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def connection_for_upload(*, district, actor) -> RosterConnection:
    """The district's connection for bundles handed over by hand (the command's --file
    when the district has no connection yet)."""
    found = RosterConnection.objects.filter(district=district).first()
    if found is not None:
        return found
    return connection_create(
        district=district,
        actor=actor,
        name="OneRoster CSV",
        kind=ConnectionKind.CSV_UPLOAD,
        schedule=Schedule.MANUAL,
    )


def connection_create(*, district, actor, secret: str = "", **values) -> RosterConnection:
    values = {k: v for k, v in values.items() if k in CONNECTION_FIELDS}
    errors = _connection_errors(values)
    if values.get("kind") == ConnectionKind.REST and not secret:
        errors["secret"] = ["Enter the client secret your SIS gives"]
    if RosterConnection.objects.filter(district=district, name__iexact=values["name"]).exists():
        errors["name"] = ["Another connection has this name"]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        connection = RosterConnection(district=district, created_by=actor, **values)
        connection.secret_sealed = secret_seal(secret) if secret else ""
        connection.next_run_at = next_run(connection, timezone.now())
        connection.save()
        audit.record(
            actor=actor,
            action="rostering.connection.created",
            target=connection,
            after=_audited(connection),
        )
    return connection


def connection_update(*, connection, actor, secret: str = "", **values) -> RosterConnection:
    """Changes a connection; a blank secret keeps the stored one (it is never shown)."""
    values = {k: v for k, v in values.items() if k in CONNECTION_FIELDS}
    merged = {**{k: getattr(connection, k) for k in CONNECTION_FIELDS}, **values}
    errors = _connection_errors(merged)
    moved = any(
        merged[name] != getattr(connection, name) for name in ("kind", "url", "token_url", "auth")
    )
    if moved and connection.secret_sealed and not secret:
        # The stored secret goes only where it was given: a new address needs it again.
        errors["secret"] = ["Enter the client secret again: the address or sign-in method changed"]
    if (
        RosterConnection.objects.filter(district=connection.district, name__iexact=merged["name"])
        .exclude(pk=connection.pk)
        .exists()
    ):
        errors["name"] = ["Another connection has this name"]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        before = _audited(connection)
        for name, value in values.items():
            setattr(connection, name, value)
        if secret:
            connection.secret_sealed = secret_seal(secret)
        connection.next_run_at = next_run(connection, timezone.now())
        connection.save()
        after = _audited(connection)
        if secret:
            after["secret"] = "changed"
        audit.record(
            actor=actor,
            action="rostering.connection.updated",
            target=connection,
            before=before,
            after=after,
        )
    return connection


def _audited(connection) -> dict:
    values = {k: getattr(connection, k) for k in CONNECTION_FIELDS}
    values["daily_at"] = str(values["daily_at"])
    values["url"] = redacted(values["url"]) if values["url"] else ""
    return values


def next_run(connection, now) -> dt.datetime | None:
    """When the schedule next falls due: the next full hour, or the next daily time in
    the district's time zone."""
    if not connection.is_enabled or connection.schedule == Schedule.MANUAL:
        return None
    if connection.schedule == Schedule.HOURLY:
        return now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    zone = zoneinfo.ZoneInfo(connection.district.time_zone)
    local = now.astimezone(zone)
    at = connection.daily_at
    if isinstance(at, str):
        at = dt.time.fromisoformat(at)
    candidate = dt.datetime.combine(local.date(), at, tzinfo=zone)
    if candidate <= local:
        candidate = dt.datetime.combine(local.date() + dt.timedelta(days=1), at, tzinfo=zone)
    return candidate.astimezone(dt.UTC)


def rest_source(connection) -> rest.RestSource:
    for url in (connection.url, connection.token_url):
        if url and not _is_https_or_local(url):
            raise SourceError("The SIS address must start with https://.", file=redacted(url))
        if url:
            _check_public(url)
    return rest.RestSource(
        base_url=connection.url.rstrip("/"),
        version=connection.version,
        auth=connection.auth,
        client_id=connection.client_id,
        client_secret=secret_open(connection.secret_sealed),
        token_url=connection.token_url,
        timeout=settings.ROSTER_HTTP_TIMEOUT,
    )


def connection_test(*, connection) -> str:
    """Reaches the source and says what it found; raises SourceError otherwise."""
    if connection.kind == ConnectionKind.REST:
        return rest.test_connection(rest_source(connection))
    if connection.kind == ConnectionKind.CSV_URL:
        data = _download(connection.url)
        bundle = bundle_read(data)
        users = len(bundle.rows("users.csv"))
        return f"Connected: a OneRoster {bundle.version} bundle with {users} users"
    return "Uploaded bundles need no connection: upload one to sync."


# -- runs --------------------------------------------------------------------------------


def run_start(
    *,
    connection,
    actor,
    trigger,
    dry_run=False,
    bundle: bytes | None = None,
    bundle_name="",
    enqueue=True,
) -> SyncRun:
    """A queued run; its task starts after commit. An upload's bundle is checked to be a
    zip of a sane size now, so the admin hears at once what is wrong."""
    if bundle is not None and len(bundle) > settings.ROSTER_MAX_BUNDLE_MB * 1024 * 1024:
        raise ValidationError(
            f"The file is larger than {settings.ROSTER_MAX_BUNDLE_MB} MB, the limit for a bundle."
        )
    if connection.kind == ConnectionKind.CSV_UPLOAD and bundle is None:
        raise ValidationError("Choose the OneRoster CSV bundle (.zip) to upload.")
    if not connection.is_enabled and trigger == Trigger.SCHEDULE:
        raise ValidationError("This connection is disabled.")
    with transaction.atomic():
        run = SyncRun.objects.create(
            district=connection.district,
            connection=connection,
            trigger=trigger,
            dry_run=dry_run,
            bundle=bundle,
            bundle_name=bundle_name[:255],
            created_by=actor,
        )
        audit.record(
            actor=actor,
            action="rostering.run.started",
            target=run,
            district=connection.district,
            after={"trigger": trigger, "dry_run": dry_run, "bundle": bundle_name},
        )
        if enqueue:
            transaction.on_commit(lambda: _enqueue(run))
    return run


def _enqueue(run):
    from rostering.tasks import execute_sync

    execute_sync.delay(run.district_id, run.pk)


def run_claim(run) -> bool:
    """Queued -> running, unless another sync of the district is running (then False).
    The partial unique index on running runs is the lock: it holds across workers."""
    try:
        with transaction.atomic():
            claimed = SyncRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
                status=RunStatus.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
            )
    except IntegrityError:
        return False
    if claimed:
        run.refresh_from_db()
    return bool(claimed)


def run_execute(*, run, approved=False) -> SyncRun:
    """Fetch, read, diff and then preview, hold or apply. Runs on a worker (or in the
    command); the run must have been claimed."""
    try:
        return _execute(run, approved)
    finally:
        _release_memory()


def _execute(run, approved) -> SyncRun:
    connection = run.connection
    connection.refresh_from_db()
    try:
        _phase(run, "fetching")
        data = run.bundle if run.bundle is not None else _fetch(run)
        data = bytes(data)
        _phase(run, "reading")
        bundle = bundle_read(data)
        run.version = bundle.version
        _phase(run, "comparing")
        plan = plan_build(connection, bundle)
        run.counts = _counts(plan)
        run.warnings = plan.warnings[:200]
        if run.dry_run:
            run.bundle = None  # personal data: kept only while a run may still apply it
            return _finish(run, plan, RunStatus.PREVIEWED)
        if approved and _newer_run(run):
            run.bundle = None
            run.hold_reason = "A newer sync of this connection ran first: this one was not applied."
            return _finish(run, None, RunStatus.SUPERSEDED)
        reason = "" if approved else hold_reason(connection, plan)
        if reason:
            run.hold_reason = reason
            run.bundle = data
            _finish(run, plan, RunStatus.HELD)
            _notify(run)
            return run
        _phase(run, "applying")
        invite = plan_apply(plan, run=run, actor=run.approved_by or run.created_by)
        if connection.kind == ConnectionKind.REST:
            # The run was created before its fetch began: nothing changed later is skipped.
            fetched = {"last_fetched_at": run.created_at}
            if not run.is_delta:
                fetched["last_full_fetch_at"] = run.created_at
            RosterConnection.objects.filter(pk=connection.pk).update(**fetched)
        run.bundle = None
        _finish(run, None, RunStatus.APPLIED)
        SyncRun.objects.filter(connection=connection, status=RunStatus.HELD).exclude(
            pk=run.pk
        ).update(status=RunStatus.SUPERSEDED, bundle=None)
        _invite(run, invite)
        return run
    except SourceError as error:
        errors = error.errors if isinstance(error, BundleInvalid) else [error]
        problems = [e.as_dict() for e in errors]
        if isinstance(error, BundleInvalid) and error.more:
            problems.append(_problem(f"…and {error.more} more problems"))
        return _fail(run, problems)
    except Exception:
        log.exception("sync run failed", extra={"run": run.pk, "district": run.district_id})
        return _fail(
            run,
            [
                _problem(
                    "Rollbook failed while syncing; nothing was applied. The team has been "
                    "told; try again later."
                )
            ],
        )


def _problem(message: str) -> dict:
    return {"message": message, "file": "", "line": None, "sourced_id": ""}


def _fail(run, problems: list[dict]) -> SyncRun:
    """Ends a run that applied nothing, with why, and tells the district admins."""
    run.errors = problems
    run.bundle = None
    _finish(run, None, RunStatus.FAILED)
    _notify(run)
    return run


def _release_memory() -> None:
    """A large sync leaves hundreds of MB that CPython freed but the C allocator keeps;
    handing them back keeps a long-lived worker's footprint at its resting size."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to hand back this way
        pass


def _beat(run):
    """A progress callback that keeps the run's heartbeat fresh during a long fetch, so
    it is not taken for stalled and started a second time."""
    last = [timezone.now()]

    def beat(_file, _count):
        now = timezone.now()
        if (now - last[0]).total_seconds() >= 10:
            last[0] = now
            SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=now)

    return beat


def _phase(run, phase):
    run.phase = phase
    SyncRun.objects.filter(pk=run.pk).update(phase=phase, heartbeat_at=timezone.now())


def _fetch(run) -> bytes:
    connection = run.connection
    if connection.kind == ConnectionKind.CSV_URL:
        return _download(connection.url)
    if connection.kind == ConnectionKind.REST:
        since = None
        full_due = (
            connection.last_full_fetch_at is None
            or timezone.now() - connection.last_full_fetch_at > FULL_FETCH_EVERY
        )
        if connection.last_fetched_at and not full_due:
            since = connection.last_fetched_at - DELTA_OVERLAP
        run.is_delta = since is not None
        SyncRun.objects.filter(pk=run.pk).update(is_delta=run.is_delta)
        rows = rest.fetch(rest_source(connection), since=since, progress=_beat(run))
        modes = {file: ("delta" if since else "bulk") for file in rows}
        return samples.bundle_zip(rows, version=connection.version, modes=modes)
    raise SourceError("This connection takes uploaded bundles: upload one to sync.")


def _download(url: str) -> bytes:
    where = redacted(url)
    if not _is_https_or_local(url):
        raise SourceError("The bundle address must start with https://.", file=where)
    _check_public(url)
    limit = settings.ROSTER_MAX_BUNDLE_MB * 1024 * 1024
    # No redirects: a redirect could lead the worker to another host or to plain HTTP.
    opener = urllib.request.build_opener(rest.NoRedirects)
    try:
        with opener.open(url, timeout=settings.ROSTER_HTTP_TIMEOUT) as response:
            data = response.read(limit + 1)
    except urllib.error.HTTPError as error:
        raise SourceError(
            f"The bundle address answered HTTP {error.code}: check the address and that the "
            "export is published there (redirects are not followed).",
            file=where,
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise SourceError(
            f"The bundle address could not be reached ({reason}).", file=where
        ) from None
    if len(data) > limit:
        raise SourceError(
            f"The bundle is larger than {settings.ROSTER_MAX_BUNDLE_MB} MB, the limit.",
            file=where,
        )
    return data


def hold_reason(connection, plan) -> str:
    """Why this run must wait for an admin: more deactivations or changes than the
    connection's threshold allows, per type (Canvas's change_threshold, per entity)."""
    threshold = connection.threshold_pct
    active = dict(
        (entity, count)
        for entity, count in (
            (Entity.USER, _active_records(connection, Entity.USER)),
            (Entity.CLASS, _active_records(connection, Entity.CLASS)),
        )
    )
    reasons = []
    users = plan.counts.get(Entity.USER, {})
    for action, word in (("deactivated", "deactivate"), ("updated", "change")):
        count = users.get(action, 0)
        if active[Entity.USER] and count * 100 > threshold * active[Entity.USER]:
            reasons.append(
                f"It would {word} {count} of {active[Entity.USER]} rostered accounts "
                f"({count * 100 / active[Entity.USER]:.0f}%), more than the {threshold}% "
                "this connection allows."
            )
    archived = plan.counts.get(Entity.CLASS, {}).get("deactivated", 0)
    if active[Entity.CLASS] and archived * 100 > threshold * active[Entity.CLASS]:
        reasons.append(
            f"It would archive {archived} of {active[Entity.CLASS]} rostered classes "
            f"({archived * 100 / active[Entity.CLASS]:.0f}%), more than the {threshold}% "
            "this connection allows."
        )
    return " ".join(reasons)


def _active_records(connection, entity) -> int:
    return RosterRecord.objects.filter(connection=connection, entity=entity, is_active=True).count()


def _counts(plan) -> dict:
    return {entity: dict(counter) for entity, counter in plan.counts.items()}


def _finish(run, plan, status) -> SyncRun:
    with transaction.atomic():
        if plan is not None:
            changes_store(plan, run=run)
        run.status = status
        run.phase = ""
        run.finished_at = timezone.now()
        run.save()
    return run


def _invite(run, user_ids):
    from rostering.tasks import send_roster_invitations

    for start in range(0, len(user_ids), 200):
        chunk = user_ids[start : start + 200]
        send_roster_invitations.delay(run.district_id, run.pk, chunk)


def _notify(run):
    from rostering.tasks import send_run_alert

    transaction.on_commit(lambda: send_run_alert.delay(run.district_id, run.pk))


def run_approve(*, run, actor, enqueue=True) -> SyncRun:
    """An admin has read the held diff and lets it through: the same bundle is diffed
    again (the roster may have moved since) and applied whatever the threshold."""
    with transaction.atomic():
        if _newer_run(run):
            raise ValidationError(
                "A newer sync of this connection has started or run since: approving this "
                "one would bring back older data. Review the newer run instead."
            )
        updated = SyncRun.objects.filter(pk=run.pk, status=RunStatus.HELD).update(
            status=RunStatus.QUEUED, approved_by=actor, approved_at=timezone.now()
        )
        if not updated:
            raise ValidationError("This run is no longer waiting for approval.")
        run.refresh_from_db()
        audit.record(
            actor=actor, action="rostering.run.approved", target=run, district=run.district
        )
        if enqueue:
            transaction.on_commit(lambda: _enqueue(run))
    return run


def _newer_run(run) -> bool:
    return (
        SyncRun.objects.filter(connection_id=run.connection_id, dry_run=False, pk__gt=run.pk)
        .exclude(status__in=(RunStatus.FAILED, RunStatus.REJECTED, RunStatus.SUPERSEDED))
        .exists()
    )


def run_reject(*, run, actor) -> SyncRun:
    with transaction.atomic():
        updated = SyncRun.objects.filter(pk=run.pk, status=RunStatus.HELD).update(
            status=RunStatus.REJECTED, bundle=None, finished_at=timezone.now()
        )
        if not updated:
            raise ValidationError("This run is no longer waiting for approval.")
        run.refresh_from_db()
        audit.record(
            actor=actor, action="rostering.run.rejected", target=run, district=run.district
        )
    return run


def runs_dispatch_due(now=None) -> list[int]:
    """Beat: starts each enabled connection whose time has come, once."""
    from django_scopes import scopes_disabled

    now = now or timezone.now()
    started = []
    with scopes_disabled():
        due = list(
            RosterConnection.objects.filter(is_enabled=True, next_run_at__lte=now)
            .exclude(kind=ConnectionKind.CSV_UPLOAD)
            .select_related("district")
        )
        for connection in due:
            with transaction.atomic():
                # The conditional update is the claim: two dispatchers start one run.
                claimed = RosterConnection.objects.filter(
                    pk=connection.pk, next_run_at=connection.next_run_at
                ).update(next_run_at=next_run(connection, now))
                if not claimed:
                    continue
                busy = SyncRun.objects.filter(
                    connection=connection, status__in=(RunStatus.QUEUED, RunStatus.RUNNING)
                ).exists()
                if not busy:
                    started.append(
                        run_start(connection=connection, actor=None, trigger=Trigger.SCHEDULE).pk
                    )
    return started


def district_admins(district):
    return User.objects.filter(
        district=district, role="district_admin", status=Status.ACTIVE
    ).exclude(email="")


def runs_resume_stalled(now=None) -> list[int]:
    """A run whose worker died mid-way (no heartbeat for ROSTER_STALL_MINUTES) is queued
    again: nothing of it was applied (the apply is one transaction), so it starts over."""
    from django_scopes import scopes_disabled

    now = now or timezone.now()
    limit = now - dt.timedelta(minutes=settings.ROSTER_STALL_MINUTES)
    with scopes_disabled():
        stalled = list(SyncRun.objects.filter(status=RunStatus.RUNNING, heartbeat_at__lt=limit))
        for run in stalled:
            with transaction.atomic():
                if SyncRun.objects.filter(
                    pk=run.pk, status=RunStatus.RUNNING, heartbeat_at__lt=limit
                ).update(status=RunStatus.QUEUED, phase="", started_at=None):
                    transaction.on_commit(lambda run=run: _enqueue(run))
    return [run.pk for run in stalled]


def grade_mapping_set(*, district, actor, mapping: dict[str, str]) -> None:
    """Which year group each OneRoster grade becomes: {grade code: year group id or ""
    for none (a new one at the next sync)}; grades left out keep theirs.
    A year group takes at most one grade, so a sync never has to guess between two."""
    from schools.models import YearGroup

    groups = {str(g.pk): g for g in YearGroup.objects.filter(district=district)}
    chosen = {grade: pk for grade, pk in mapping.items() if pk}
    unknown = [pk for pk in chosen.values() if pk not in groups]
    if unknown:
        raise ValidationError("Choose year groups of this district.")
    twice = {pk for pk in chosen.values() if list(chosen.values()).count(pk) > 1}
    if twice:
        names = ", ".join(sorted(groups[pk].name for pk in twice))
        raise ValidationError(f"Each year group can take one grade only: {names} has several.")
    with transaction.atomic():
        before = {g.name: g.grade_code for g in groups.values()}
        by_group = {pk: grade for grade, pk in chosen.items()}
        for pk, group in groups.items():
            # Grades the mapping does not mention keep their year group.
            code = by_group.get(pk, "" if group.grade_code in mapping else group.grade_code)
            if group.grade_code != code:
                group.grade_code = code
                group.save(update_fields=["grade_code"])
        # Digests are of grade codes: a new mapping must be diffed account by account.
        RosterRecord.objects.filter(
            district=district, entity__in=(Entity.USER, Entity.CLASS)
        ).update(digest="")
        audit.record(
            actor=actor,
            action="rostering.grades.mapped",
            target=district,
            district=district,
            before=before,
            after={g.name: g.grade_code for g in groups.values()},
        )
