"""Fast bulk writes for imports: COPY on PostgreSQL, Django's bulk_create elsewhere.

An INSERT of thousands of rows spends most of its time quoting values on the client and
planning; COPY streams them. Ids that later rows need (a new user's school links, class
enrolments and audit events) are taken from the table's sequence first.
"""

import orjson
from django.db import connection, models
from django.db.models.lookups import In

BATCH = 2000


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


_SEQUENCES: dict[str, str] = {}


def sequence_of(model) -> str:
    """The name of the sequence behind the model's primary key. Looked up once: in a
    statement, pg_get_serial_sequence() is looked up again for every row."""
    table = model._meta.db_table
    if table not in _SEQUENCES:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, model._meta.pk.column])
            _SEQUENCES[table] = cursor.fetchone()[0]
    return _SEQUENCES[table]


def ids_allocate(model, count: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
            [sequence_of(model), count],
        )
        return [row[0] for row in cursor.fetchall()]


def _value_getters(model, fields):
    """How to read each column's value off an object: Django's per-field preparation costs
    more than the COPY itself, and psycopg adapts plain Python values on its own."""
    from django.utils import timezone

    now = timezone.now()
    getters = []
    for f in fields:
        if isinstance(f, models.JSONField):
            getters.append(lambda obj, name=f.attname: _json(getattr(obj, name)))
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            getters.append(lambda obj: now)
        else:
            getters.append(lambda obj, name=f.attname: getattr(obj, name))
    return getters


class Maker:
    """Builds unsaved instances of a model by the positional path Django takes for rows
    read from the database: Model(**kwargs) looks at every field for each instance, which
    costs more than writing the row by COPY. Columns not given keep their defaults, worked
    out once (so only for models whose defaults are plain values: no dict or list)."""

    def __init__(self, model, **constant):
        self.model = model
        fields = model._meta.concrete_fields
        self.index = {f.attname: i for i, f in enumerate(fields)}
        self.template = [f.get_default() for f in fields]
        for name, value in constant.items():
            self.template[self.index[name]] = value

    def __call__(self, **values):
        row = self.template.copy()
        index = self.index
        for name, value in values.items():
            row[index[name]] = value
        return self.model(*row)


def insert(model, objects: list, *, with_ids: bool = False, keep_ids: bool = False) -> None:
    """Inserts the objects; with `with_ids`, each gets its primary key set first; with
    `keep_ids`, each keeps the one it has."""
    if not objects:
        return
    if not is_postgres():
        model.objects.bulk_create(objects, batch_size=BATCH)
        return
    if with_ids:
        for obj, pk in zip(objects, ids_allocate(model, len(objects)), strict=True):
            obj.pk = pk
    keyed = with_ids or keep_ids
    fields = [f for f in model._meta.concrete_fields if keyed or not f.primary_key]
    getters = _value_getters(model, fields)
    _copy(model, fields, ([get(obj) for get in getters] for obj in objects))


def insert_values(model, names: list[str], rows) -> None:
    """Inserts plain tuples, one value per field in `names`, without building model
    instances (JSON fields take dicts; other columns get their database defaults)."""
    fields = [model._meta.get_field(name) for name in names]
    rows = list(rows)
    if not rows:
        return
    if not is_postgres():
        attnames = [f.attname for f in fields]
        model.objects.bulk_create(
            [model(**dict(zip(attnames, row, strict=True))) for row in rows], batch_size=BATCH
        )
        return

    json_columns = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    if json_columns:
        # Column by column: a C loop per column rather than a Python test per value.
        columns = list(zip(*rows, strict=True))
        for i in json_columns:
            columns[i] = map(_json, columns[i])
        rows = zip(*columns, strict=True)
    _copy(model, fields, rows)


def _json(value) -> str:
    """A JSON column's text for COPY, which the server parses as it does a Jsonb's: orjson,
    about ten times faster than json.dumps (a tenth of validating 100,000 rows). Its text
    has no spaces and writes non-ASCII as is; the server stores the same value."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


class AnyOf(models.Lookup):
    """`pk__any_of=ids`: `= ANY(%s)` with the list as one parameter on PostgreSQL, where
    `pk__in` writes one placeholder per id that psycopg then parses out of the statement
    (tens of milliseconds for a batch of 2,000); IN elsewhere."""

    lookup_name = "any_of"

    def get_prep_lookup(self):
        return [self.lhs.output_field.get_prep_value(v) for v in self.rhs]

    def as_sql(self, compiler, connection):
        if connection.vendor != "postgresql":
            return In(self.lhs, self.rhs).as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, list(self.rhs)]


models.Field.register_lookup(AnyOf)
models.ForeignObject.register_lookup(AnyOf)  # related fields keep lookups of their own


def _copy(model, fields, rows) -> None:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
        with cursor.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)


def audit_users(*, district_id, actor, rows, now) -> None:
    """One AuditEvent per changed account, by COPY: rows of (action, user id, user label,
    before, after). Bulk writers use it where services would call audit.record per user
    (the people-list cache is bumped once per batch by the caller)."""
    from accounts import audit
    from accounts.models import AuditEvent

    label = audit.actor_label(actor)
    actor_id = actor.pk if actor else None
    insert_values(
        AuditEvent,
        [
            "district",
            "actor",
            "actor_label",
            "action",
            "target_type",
            "target_id",
            "target_label",
            "before",
            "after",
            "created_at",
        ],
        (
            (district_id, actor_id, label, action, "user", user_id, user_label, before, after, now)
            for action, user_id, user_label, before, after in rows
        ),
    )


def commit_lazily() -> None:
    """This transaction's commit need not wait for the disk: if the server crashes just
    after, the batch is lost whole (accounts and row outcomes together) and is redone."""
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def update_values(model, names: list[str], rows: list[tuple]) -> None:
    """Sets each row's columns from (pk, value, value...) tuples in one UPDATE ... FROM
    unnest(...) on PostgreSQL: Django's bulk_update writes a CASE per row and column,
    which costs seconds for a few thousand rows."""
    if not rows:
        return
    fields = [model._meta.get_field(name) for name in names]
    if not is_postgres():
        objects = []
        for row in rows:
            obj = model(pk=row[0])
            for field, value in zip(fields, row[1:], strict=True):
                setattr(obj, field.attname, value)
            objects.append(obj)
        model.objects.bulk_update(objects, names, batch_size=BATCH)
        return
    from psycopg.types.json import Jsonb

    quote = connection.ops.quote_name
    types = [
        "jsonb" if isinstance(f, models.JSONField) else f.cast_db_type(connection) for f in fields
    ]
    columns = [list(column) for column in zip(*rows, strict=True)]
    for index, kind in enumerate(types, start=1):
        if kind == "jsonb":
            columns[index] = [Jsonb(value) for value in columns[index]]
    aliases = ", ".join(f"c{i}" for i in range(len(fields)))
    sets = ", ".join(f"{quote(f.column)} = v.c{i}" for i, f in enumerate(fields))
    arrays = ", ".join(["%s::bigint[]", *(f"%s::{kind}[]" for kind in types)])
    table = quote(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS t SET {sets} FROM unnest({arrays}) "  # noqa: S608 - names only
            f"AS v(pk, {aliases}) WHERE t.{quote(model._meta.pk.column)} = v.pk",
            columns,
        )


def rows_update(model, names: list[str], objects: list, **still) -> int:
    """Sets the `names` columns of each object's row, where the row still matches `still`
    (column=value), and returns how many rows it set. On PostgreSQL the values go by COPY
    into a temporary table, then one UPDATE ... FROM it: an UPDATE ... FROM unnest(...)
    parses every value out of an array literal, which costs as much as the update itself.
    objects: model instances, or objects with the same attributes."""
    if not objects:
        return 0
    fields = [model._meta.get_field(name) for name in names]
    if not is_postgres():
        pks = list(
            model._base_manager.filter(pk__in=[o.pk for o in objects], **still).values_list(
                "pk", flat=True
            )
        )
        wanted = set(pks)
        rows = []
        for obj in objects:
            if obj.pk in wanted:
                row = model(pk=obj.pk)
                for f in fields:
                    setattr(row, f.attname, getattr(obj, f.attname))
                rows.append(row)
        model._base_manager.bulk_update(rows, names, batch_size=BATCH)
        return len(rows)
    quote = connection.ops.quote_name
    pk = model._meta.pk
    temp = quote(f"bulk_{model._meta.db_table}")
    columns = [pk, *fields]
    definition = ", ".join(
        f"{quote(f.column)} {f.rel_db_type(connection) if f is pk else f.db_type(connection)}"
        for f in columns
    )
    with connection.cursor() as cursor:
        # One per connection, emptied at each commit.
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {temp} ({definition}) ON COMMIT DELETE ROWS"
        )
        getters = _value_getters(model, columns)
        statement = f"COPY {temp} ({', '.join(quote(f.column) for f in columns)}) FROM STDIN"
        with cursor.cursor.copy(statement) as copy:
            for obj in objects:
                copy.write_row([get(obj) for get in getters])
        sets = ", ".join(f"{quote(f.column)} = s.{quote(f.column)}" for f in fields)
        where = "".join(f" AND t.{quote(model._meta.get_field(k).column)} = %s" for k in still)
        cursor.execute(
            f"UPDATE {quote(model._meta.db_table)} AS t SET {sets} FROM {temp} AS s "  # noqa: S608 - names only
            f"WHERE t.{quote(pk.column)} = s.{quote(pk.column)}{where}",
            list(still.values()),
        )
        return cursor.rowcount


def rows_mark(row_model, pairs: list[tuple[int, int | None]], outcome: str) -> None:
    """Sets the outcome (and the account made) of many import rows in one statement."""
    if not pairs:
        return
    if not is_postgres():
        rows = [row_model(pk=rid, outcome=outcome, user_id=uid) for rid, uid in pairs]
        row_model.objects.bulk_update(rows, ["outcome", "user"], batch_size=BATCH)
        return
    table = connection.ops.quote_name(row_model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS r SET outcome = %s, user_id = v.uid "  # noqa: S608 - names only
            "FROM unnest(%s::bigint[], %s::bigint[]) AS v(rid, uid) WHERE r.id = v.rid",
            [outcome, [rid for rid, _ in pairs], [uid for _, uid in pairs]],
        )


def analyze(model, names: list[str] | None = None, *, sample: int | None = None) -> None:
    """Fresh planner statistics after loading a large table (autovacuum may lag behind);
    of the `names` fields only, if given (statistics of large JSON columns cost most);
    from a smaller sample (`sample` x 300 rows, not 30,000) where rough figures do."""
    if not is_postgres():
        return
    from django.db import transaction

    quote = connection.ops.quote_name
    columns = ""
    if names:
        columns = f" ({', '.join(quote(model._meta.get_field(n).column) for n in names)})"
    with transaction.atomic(), connection.cursor() as cursor:
        if sample:
            cursor.execute(f"SET LOCAL default_statistics_target = {int(sample)}")
        cursor.execute(f"ANALYZE {quote(model._meta.db_table)}{columns}")


def batches_split(ids: list, size: int) -> list[list]:
    """ids in batches of about `size`, as many as a multiple of BULK_WRITE_THREADS and all
    the same size (within one), so the connections that write them finish together."""
    from django.conf import settings

    if not ids:
        return []
    threads = max(1, settings.BULK_WRITE_THREADS if is_postgres() else 1)
    count = -(-len(ids) // size)
    count = -(-count // threads) * threads if len(ids) >= threads else count
    step, extra = divmod(len(ids), count)
    batches, start = [], 0
    for number in range(count):
        end = start + step + (1 if number < extra else 0)
        batches.append(ids[start:end])
        start = end
    return [batch for batch in batches if batch]


def batches_write(district, batches: list, write, *, on_progress=None, parallel=True) -> None:
    """Calls write(number, batch) for each batch, each in its own transaction. On
    PostgreSQL up to BULK_WRITE_THREADS batches run at once, each on a connection of its
    own: most of a batch's time is the server maintaining the accounts table's indexes,
    which then uses every core, while Python readies the next batch. Batches must touch
    disjoint rows (each locks its own), so they never wait on each other but briefly."""
    from concurrent.futures import ThreadPoolExecutor

    from django.conf import settings
    from django.db import connections
    from django_scopes import scope

    threads = settings.BULK_WRITE_THREADS if is_postgres() and parallel else 1
    if threads <= 1 or len(batches) <= 1:
        for number, batch in enumerate(batches):
            write(number, batch)
            if on_progress:
                on_progress()
        return

    def run(item):
        number, batch = item
        try:
            with scope(district=district):
                write(number, batch)
        finally:
            connections.close_all()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for _ in pool.map(run, enumerate(batches)):
            if on_progress:
                on_progress()


class WriteBehind:
    """Runs write calls in order on a thread with a connection of its own, while the caller
    readies the next batch: the server stores one batch while Python checks the next.
    On PostgreSQL with BULK_WRITE_THREADS > 1; elsewhere each call runs at once, inline.
    A failed call stops the rest, and its error is raised in the caller (at its next
    submit, or on leaving the block)."""

    DEPTH = 2  # batches waiting at most: memory stays bounded if the server falls behind
    # The writer mostly waits on the server, the caller mostly computes. Each time the
    # writer comes back from a socket it waits for the caller to hand over the GIL, after
    # sys.getswitchinterval() (5 ms): dozens of times per batch, which made the writer the
    # slower of the two. Handed over after 0.5 ms instead, while the block lasts.
    SWITCH_INTERVAL = 0.0005

    def __init__(self, district):
        from django.conf import settings

        self.district = district
        self.threaded = is_postgres() and settings.BULK_WRITE_THREADS > 1
        self.error: BaseException | None = None

    def __enter__(self):
        if self.threaded:
            import queue
            import sys
            import threading

            self.switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(self.SWITCH_INTERVAL)
            self.queue = queue.Queue(maxsize=self.DEPTH)
            self.thread = threading.Thread(target=self._run, name="write-behind", daemon=True)
            self.thread.start()
        return self.submit

    def submit(self, call) -> None:
        if not self.threaded:
            call()
            return
        if self.error is not None:
            raise self.error
        self.queue.put(call)

    def _run(self) -> None:
        from django.db import connections
        from django_scopes import scope

        try:
            with scope(district=self.district):
                while (call := self.queue.get()) is not None:
                    if self.error is None:
                        try:
                            call()
                        except BaseException as error:  # noqa: BLE001 - raised in the caller
                            self.error = error
        finally:
            connections.close_all()  # this thread's own connection

    def __exit__(self, exc_type, exc, traceback) -> None:
        if not self.threaded:
            return
        import sys

        self.queue.put(None)
        self.thread.join()
        sys.setswitchinterval(self.switch_interval)
        if self.error is not None and exc_type is None:
            raise self.error


class FewerCollections:
    """Python's cycle collector runs every 700 new containers and, every so often, walks
    every object the process holds: a pass over 100,000 rows makes millions of small dicts
    and lists (none of them in cycles) and spent a quarter of its time there. Inside the
    block it runs every `threshold` new containers instead; thresholds come back after."""

    def __init__(self, threshold: int = 100_000):
        self.threshold = threshold

    def __enter__(self):
        import gc

        self.before = gc.get_threshold()
        gc.set_threshold(self.threshold, *self.before[1:])

    def __exit__(self, *exc) -> None:
        import gc

        gc.set_threshold(*self.before)
