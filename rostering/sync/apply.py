"""Writing a Plan: one transaction, bulk statements, an audit event per changed account.

New rows get their ids first (COPY with ids taken from the sequence on PostgreSQL), so
the records, memberships and audit events that point at them go in the same batch.
If anything fails, the transaction rolls back and nothing of the run is applied.
"""

import secrets
from collections import defaultdict

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts import audit
from accounts.models import (
    ActivationToken,
    GuardianLink,
    Source,
    Status,
    User,
    account_search_text,
)
from bulkactions.importing import bulk
from rostering.models import Entity, RosterRecord, SyncChange
from rostering.oneroster import spec
from rostering.sync.plan import pair_split
from schools.models import Classroom, Enrollment, School, Term, YearGroup

CHUNK = 20000
# New accounts are built as model instances (about 2 KB each) this many at a time.
USER_CHUNK = 5000


def plan_apply(plan, *, run, actor) -> list[int]:
    """Writes the plan; returns the ids of new accounts to invite (after commit)."""
    writer = _Writer(plan, run=run, actor=actor)
    with transaction.atomic():
        bulk.commit_lazily()
        writer.year_groups()
        writer.schools()
        writer.terms()
        writer.classes()
        writer.users()
        writer.user_schools()
        writer.links()
        writer.memberships()
        writer.records()
        writer.changes()
        transaction.on_commit(lambda: audit.people_changed(plan.connection.district_id))
    return writer.invite


class _Writer:
    def __init__(self, plan, *, run, actor):
        self.plan = plan
        self.run = run
        self.actor = actor
        self.connection = plan.connection
        self.district = plan.connection.district
        self.now = timezone.now()
        self.new = {"school": {}, "term": {}, "class": {}, "user": {}, "grade": {}}
        self.invite: list[int] = []
        self.make_user = bulk.Maker(
            User, district_id=self.district.pk, source=Source.ROSTER, managed_by_sis=True
        )

    def key(self, kind, value):
        """An id, or a ("new", sourcedId) key of a row made earlier in this run."""
        if isinstance(value, tuple):
            return self.new[kind][value[1]]
        return value

    def _audit(self, target, action, before=None, after=None):
        audit.record(
            actor=self.actor,
            action=action,
            target=target,
            district=self.district,
            before=before,
            after=after,
        )

    # -- small tables ----------------------------------------------------------------

    def year_groups(self):
        if not self.plan.year_groups_new:
            return
        used = set(
            YearGroup.objects.filter(district=self.district).values_list("ordinal", flat=True)
        )
        for grade, name in self.plan.year_groups_new.items():
            ordinal = grade_ordinal(grade)
            while ordinal in used:
                ordinal += 1
            used.add(ordinal)
            taken = YearGroup.objects.filter(district=self.district, name__iexact=name).first()
            if taken is not None and not taken.grade_code:
                taken.grade_code = grade
                taken.save(update_fields=["grade_code"])
                self.new["grade"][grade] = taken.pk
                continue
            if taken is not None:
                name = f"{name} ({grade})"
            group = YearGroup.objects.create(
                district=self.district, ordinal=ordinal, name=name, grade_code=grade
            )
            self.new["grade"][grade] = group.pk
            self._audit(group, "schools.year_group.created", after={"name": name, "grade": grade})

    def schools(self):
        for sid, pk, fields in self.plan.schools:
            if pk is None:
                name = fields["name"]
                if School.objects.filter(district=self.district, name__iexact=name).exists():
                    fields = {**fields, "name": f"{name} ({fields['code'] or sid})"[:120]}
                school = School.objects.create(district=self.district, **fields)
                self.new["school"][sid] = school.pk
                self._audit(school, "schools.school.created", after=fields)
                continue
            school = School.objects.get(district=self.district, pk=pk)
            before = {k: getattr(school, k) for k in fields}
            name = fields["name"]
            clash = School.objects.filter(district=self.district, name__iexact=name).exclude(pk=pk)
            if clash.exists():
                # School names are unique in a district: the SIS's second one is told apart.
                fields = {**fields, "name": f"{name} ({fields['code'] or sid})"[:120]}
            for name, value in fields.items():
                setattr(school, name, value)
            school.save(update_fields=list(fields))
            self._audit(school, "schools.school.updated", before=before, after=fields)
            if before["name"] != fields["name"]:
                # Lists show school names without a join: keep the copy true.
                for user in User.objects.filter(district=self.district, schools=school):
                    user.set_schools(user.schools.all())

    def terms(self):
        parents = []
        for sid, pk, fields in self.plan.terms:
            fields = dict(fields)
            parent = fields.pop("parent")
            if pk is None:
                term = Term.objects.create(district=self.district, **fields)
                self.new["term"][sid] = term.pk
            else:
                Term.objects.filter(district=self.district, pk=pk).update(**fields)
                term = Term(pk=pk)
            parents.append((term.pk, parent))
        known = dict(
            RosterRecord.objects.filter(
                connection=self.connection, entity=Entity.SESSION
            ).values_list("sourced_id", "target_id")
        )
        known.update(self.new["term"])
        for pk, parent in parents:
            Term.objects.filter(pk=pk).update(parent_id=known.get(parent))

    def classes(self):
        plan = self.plan
        rooms = []
        for sid, fields in plan.classes_create:
            rooms.append(
                Classroom(
                    district=self.district,
                    school_id=self.key("school", fields["school"]),
                    name=fields["name"],
                    code=fields["code"],
                    term_id=self.key("term", fields["term"]) if fields["term"] else None,
                    year_group_id=self.key("grade", fields["year_group"])
                    if fields["year_group"]
                    else None,
                    sis_id=sid,
                )
            )
        bulk.insert(Classroom, rooms, with_ids=True)
        for (sid, _fields), room in zip(plan.classes_create, rooms, strict=True):
            self.new["class"][sid] = room.pk
        by_fields = defaultdict(list)
        for pk, update in plan.classes_update:
            values = {}
            for name, value in update.items():
                if name == "archived_at":
                    values["archived_at"] = self.now if value == "now" else None
                elif name in ("school", "term", "year_group"):
                    kind = {"school": "school", "term": "term", "year_group": "grade"}[name]
                    values[f"{name}_id"] = self.key(kind, value) if value else None
                else:
                    values[name] = value
            by_fields[tuple(sorted(values))].append((pk, values))
        for names, items in by_fields.items():
            bulk.update_values(
                Classroom, list(names), [(pk, *(v[n] for n in names)) for pk, v in items]
            )

    # -- accounts --------------------------------------------------------------------

    def users(self):
        plan = self.plan
        year_ordinals = dict(
            YearGroup.objects.filter(district=self.district).values_list("pk", "ordinal")
        )
        self.school_names = dict(
            School.objects.filter(district=self.district).values_list("pk", "name")
        )
        audit_rows = []
        sends = self._sends_invitations()
        # Built and written USER_CHUNK at a time: 100,000 instances at once cost 200 MB.
        for start in range(0, len(plan.users_create), USER_CHUNK):
            batch = plan.users_create[start : start + USER_CHUNK]
            created = [self._new_user(sid, values, year_ordinals) for sid, values in batch]
            bulk.insert(User, created, with_ids=True)
            for (sid, values), user in zip(batch, created, strict=True):
                self.new["user"][sid] = user.pk
                audit_rows.append(
                    ("accounts.user.created", user.pk, _label(values), {}, _audited(values))
                )
                if sends and user.status == Status.INVITED and user.email:
                    self.invite.append(user.pk)
            self._audit_rows(audit_rows)
        self._updates(plan.users_update, year_ordinals, audit_rows)
        links = [(pk, {**values, "managed_by_sis": True}) for pk, _sid, values in plan.users_link]
        self._updates(links, year_ordinals, audit_rows, action="accounts.user.linked_to_sis")
        self._audit_rows(audit_rows)

    def _new_user(self, sid, values, year_ordinals) -> User:
        year_group_id = (
            self.key("grade", values["year_group_id"]) if values["year_group_id"] else None
        )
        schools = {self.key("school", s) for s in self.plan.user_schools.get(("new", sid), ())}
        user = self.make_user(
            role=values["role"],
            first_name=values["first_name"],
            last_name=values["last_name"],
            username=values["username"],
            email=values["email"],
            sis_id=values["sis_id"],
            status=values["status"],
            year_group_id=year_group_id,
            password="!" + secrets.token_urlsafe(30),
            created_at=self.now,
            deactivated_at=self.now if values["status"] == Status.DEACTIVATED else None,
            # Set now, not by an UPDATE of every new account afterwards (22 indexes each).
            school_names="; ".join(sorted(self.school_names.get(i, "") for i in schools))[:500],
        )
        user.refresh_search_text()
        user.year_ordinal = year_ordinals.get(year_group_id)
        return user

    def _audit_rows(self, rows: list) -> None:
        """Writes the audit rows gathered so far and empties the list."""
        for start in range(0, len(rows), CHUNK):
            bulk.audit_users(
                district_id=self.district.pk,
                actor=self.actor,
                rows=rows[start : start + CHUNK],
                now=self.now,
            )
        rows.clear()

    def _sends_invitations(self) -> bool:
        from rostering.models import ActivationEmails

        return self.connection.activation_emails == ActivationEmails.SEND

    def _updates(self, items, year_ordinals, audit_rows, action=None):
        """Updates grouped by the set of columns they change: one statement per group."""
        if not items:
            return
        text_fields = {"first_name", "last_name", "username", "email", "sis_id"}
        needs_text = [pk for pk, values in items if text_fields & set(values)]
        current = {}
        for start in range(0, len(needs_text), CHUNK):
            for row in User.objects.filter(pk__in=needs_text[start : start + CHUNK]).values(
                "pk", *sorted(text_fields)
            ):
                current[row["pk"]] = row
        groups = defaultdict(list)
        deactivated = []
        for pk, values in items:
            values = dict(values)
            if "year_group_id" in values:
                values["year_group_id"] = (
                    self.key("grade", values["year_group_id"]) if values["year_group_id"] else None
                )
                values["year_ordinal"] = year_ordinals.get(values["year_group_id"])
            if pk in current:
                merged = {**current[pk], **values}
                values["search_text"] = account_search_text(
                    merged["first_name"],
                    merged["last_name"],
                    merged["username"],
                    merged["email"],
                    merged["sis_id"],
                )
            code = action or "accounts.user.updated"
            if values.get("status") == Status.DEACTIVATED:
                values["deactivated_at"] = self.now
                deactivated.append(pk)
                code = action or "accounts.user.deactivated"
            elif "status" in values:
                values["deactivated_at"] = None
                code = action or "accounts.user.reactivated"
            values["updated_at"] = self.now
            groups[tuple(sorted(values))].append((pk, values))
            audit_rows.append((code, pk, f"user {pk}", {}, _audited(values)))
        for names, rows in groups.items():
            for start in range(0, len(rows), CHUNK):
                chunk = rows[start : start + CHUNK]
                bulk.update_values(
                    User, list(names), [(pk, *(v[n] for n in names)) for pk, v in chunk]
                )
        for start in range(0, len(deactivated), CHUNK):
            chunk = deactivated[start : start + CHUNK]
            # Deactivation ends every session and voids every open link (DESIGN §4).
            User.objects.filter(pk__in=chunk).update(session_version=F("session_version") + 1)
            ActivationToken.objects.filter(
                user_id__in=chunk, used_at__isnull=True, voided_at__isnull=True
            ).update(voided_at=self.now)

    def user_schools(self):
        plan = self.plan
        if not plan.user_schools:
            return
        through = User.schools.through
        names = dict(School.objects.filter(district=self.district).values_list("pk", "name"))
        existing = [self.key("user", k) for k in plan.user_schools if not isinstance(k, tuple)]
        for start in range(0, len(existing), CHUNK):
            through.objects.filter(user_id__in=existing[start : start + CHUNK]).delete()
        rows, school_names = [], []
        for user_key, schools in plan.user_schools.items():
            user_id = self.key("user", user_key)
            ids = sorted({self.key("school", s) for s in schools})
            rows.extend((user_id, school_id) for school_id in ids)
            if not isinstance(user_key, tuple):  # new accounts got theirs when inserted
                school_names.append(
                    (user_id, "; ".join(sorted(names.get(i, "") for i in ids))[:500])
                )
        bulk.insert_values(through, ["user", "school"], rows)
        bulk.update_values(User, ["school_names"], school_names)

    def links(self):
        plan = self.plan
        for start in range(0, len(plan.links_remove), CHUNK):
            GuardianLink.objects.filter(pk__in=plan.links_remove[start : start + CHUNK]).delete()
        rows = []
        users = self._user_ids()
        for guardian_sid, student_sid in plan.links_add:
            rows.append((self.district.pk, users[guardian_sid], users[student_sid], True, self.now))
        bulk.insert_values(
            GuardianLink, ["district", "guardian", "student", "managed_by_sis", "created_at"], rows
        )

    def _user_ids(self) -> dict:
        if not hasattr(self, "_users"):
            self._users = dict(
                RosterRecord.objects.filter(
                    connection=self.connection, entity=Entity.USER
                ).values_list("sourced_id", "target_id")
            )
            for sid, key in self.plan_user_keys():
                self._users[sid] = key
        return self._users

    def plan_user_keys(self):
        for _pk, _entity, sid, target, _digest in (
            r for r in self.plan.records if r[1] == Entity.USER
        ):
            yield sid, self.key("user", target)

    def memberships(self):
        plan = self.plan
        _pairs_delete(Enrollment, "classroom_id", "student_id", plan.enrollments_remove)
        _pairs_delete(Classroom.teachers.through, "classroom_id", "user_id", plan.teachers_remove)
        rows = (
            (self.district.pk, self.key("class", c), self.key("user", u), self.now)
            for c, u in map(pair_split, plan.enrollments_add)
        )
        bulk.insert_values(Enrollment, ["district", "classroom", "student", "created_at"], rows)
        rows = (
            (self.key("class", c), self.key("user", u))
            for c, u in map(pair_split, plan.teachers_add)
        )
        bulk.insert_values(Classroom.teachers.through, ["classroom", "user"], rows)

    def records(self):
        plan = self.plan
        kinds = {
            Entity.ORG: "school",
            Entity.SESSION: "term",
            Entity.CLASS: "class",
            Entity.USER: "user",
        }
        new_rows, updates = [], []
        for pk, entity, sid, target, dig in plan.records:
            target_id = self.key(kinds[entity], target) if target is not None else None
            if pk is None:
                new_rows.append(
                    (self.district.pk, self.connection.pk, entity, sid, target_id, dig, True)
                )
            else:
                updates.append((pk, target_id, dig, True))
        bulk.insert_values(
            RosterRecord,
            ["district", "connection", "entity", "sourced_id", "target_id", "digest", "is_active"],
            new_rows,
        )
        for start in range(0, len(updates), CHUNK):
            bulk.update_values(
                RosterRecord, ["target_id", "digest", "is_active"], updates[start : start + CHUNK]
            )
        for pks in _chunks(plan.records_inactive):
            RosterRecord.objects.filter(pk__in=pks).update(is_active=False)

    def changes(self):
        # An approved run was diffed when it was held: the diff it applies replaces that.
        SyncChange.objects.filter(run=self.run).delete()
        rows = (
            (self.district.pk, self.run.pk, entity, action, sid[:255], label, _json(fields))
            for entity, action, sid, label, fields in self.plan.changes
        )
        bulk.insert_values(
            SyncChange,
            ["district", "run", "entity", "action", "sourced_id", "label", "fields"],
            rows,
        )


def _pairs_delete(model, class_column: str, user_column: str, keys) -> None:
    """Deletes memberships by (class, user) pairs, CHUNK at a time."""
    from django.db import connection

    keys = list(keys)
    for start in range(0, len(keys), CHUNK):
        pairs = [pair_split(key) for key in keys[start : start + CHUNK]]
        if connection.vendor != "postgresql":
            for class_id, user_id in pairs:
                model.objects.filter(**{class_column: class_id, user_column: user_id}).delete()
            continue
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} AS m USING unnest(%s::bigint[], %s::bigint[]) "  # noqa: S608 - names only
                f"AS v(c, u) WHERE m.{class_column} = v.c AND m.{user_column} = v.u",
                [[c for c, _u in pairs], [u for _c, u in pairs]],
            )


def grade_ordinal(grade: str) -> int:
    """Where a grade sorts among year groups: Year/Grade N at N, as districts number
    theirs (create_district makes "Year 7" ordinal 7); kindergarten and before below 1."""
    if grade.isdigit():
        return int(grade)
    early = {"IT": -4, "PR": -3, "PK": -2, "TK": -1, "KG": 0}
    return early.get(grade, 20 + spec.GRADES.index(grade) if grade in spec.GRADES else 40)


def _chunks(items):
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _label(values) -> str:
    return f"{values['first_name']} {values['last_name']} ({values['username']})"[:200]


def _audited(values) -> dict:
    return {k: _plain(v) for k, v in values.items() if k not in ("search_text", "updated_at")}


def _json(fields: dict) -> dict:
    return {k: [_plain(a) for a in v] for k, v in fields.items()}


def _plain(value):
    if isinstance(value, tuple):
        return f"new {value[1]}"
    if value is None or isinstance(value, str | int | bool | float):
        return value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return str(value)


def changes_store(plan, *, run) -> None:
    """The diff's kept changes as rows, for the run's page (previews and held runs too)."""
    _Writer(plan, run=run, actor=None).changes()
