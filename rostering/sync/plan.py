"""The diff of one sync: for each SIS record, create, update (with the fields that
change), deactivate, restore or nothing, computed without writing anything.

Records are matched by (connection, type, sourcedId) through RosterRecord. A record whose
digest (of the values Rollbook would store) equals the stored one is unchanged without
looking at its row; otherwise the row is compared field by field, so a digest that
changed for nothing (a new year group id, say) is not reported as an update.
"""

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from accounts.models import GuardianLink, Role, Status, User
from rostering.models import ActivationEmails, ChangeAction, Entity, RosterConnection, RosterRecord
from rostering.oneroster import spec
from rostering.oneroster.bundle import EMAIL, Bundle
from rostering.oneroster.errors import BundleInvalid, SourceError
from schools.models import Classroom, Enrollment, School, Term, YearGroup

CHANGES_KEPT = 1000
COMPARE_CHUNK = 10000  # per entity and action: enough to review, bounded for 100k-user runs

ROLES = {
    "student": Role.STUDENT,
    "teacher": Role.TEACHER,
    "aide": Role.TEACHER,
    "proctor": Role.TEACHER,
    "counselor": Role.TEACHER,
    "administrator": Role.SCHOOL_ADMIN,
    "principal": Role.SCHOOL_ADMIN,
    "siteAdministrator": Role.SCHOOL_ADMIN,
    "districtAdministrator": Role.DISTRICT_ADMIN,
    "systemAdministrator": Role.DISTRICT_ADMIN,
    "guardian": Role.GUARDIAN,
    "parent": Role.GUARDIAN,
    "relative": Role.GUARDIAN,
}
COUNT_KEYS = {
    ChangeAction.CREATE: "created",
    ChangeAction.UPDATE: "updated",
    ChangeAction.DEACTIVATE: "deactivated",
    ChangeAction.LINK: "linked",
    ChangeAction.RESTORE: "restored",
}
USER_FIELDS = (
    "role",
    "first_name",
    "last_name",
    "username",
    "email",
    "sis_id",
    "status",
    "year_group_id",
    "schools",
)


def digest(*values) -> str:
    joined = "\x1f".join("" if v is None else str(v) for v in values)
    return hashlib.blake2b(joined.encode(), digest_size=16).hexdigest()


@dataclass
class Plan:
    connection: RosterConnection
    bundle: Bundle
    counts: dict = field(default_factory=lambda: defaultdict(Counter))
    changes: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    # Orgs and sessions are few: (sourcedId, target or None, fields, digest, active).
    schools: list = field(default_factory=list)
    terms: list = field(default_factory=list)
    # Year groups the grade mapping needs and the district lacks: {grade code: name}.
    year_groups_new: dict = field(default_factory=dict)
    # Classes: creates (sourcedId, fields), updates (id, fields), archive/restore ids.
    classes_create: list = field(default_factory=list)
    classes_update: list = field(default_factory=list)
    # Users: creates (sourcedId, fields), updates (id, fields), links (id, sourcedId, fields).
    users_create: list = field(default_factory=list)
    users_update: list = field(default_factory=list)
    users_link: list = field(default_factory=list)
    # RosterRecord writes: (record id or None, entity, sourcedId, target id or key to
    # resolve, digest); and the ids of records to mark inactive.
    records: list = field(default_factory=list)
    records_inactive: list = field(default_factory=list)
    # Memberships as (class, user) pair keys (pair_key): to add, resolved at apply, and to
    # remove, all of existing rows.
    enrollments_add: list = field(default_factory=list)
    enrollments_remove: list = field(default_factory=list)
    teachers_add: list = field(default_factory=list)
    teachers_remove: list = field(default_factory=list)
    links_add: list = field(default_factory=list)
    links_remove: list = field(default_factory=list)
    # Users whose school list must be rewritten: {user key: [school keys]}.
    user_schools: dict = field(default_factory=dict)
    kept: Counter = field(default_factory=Counter)

    def note(self, entity, action, sourced_id, label, fields=None):
        self.counts[entity][COUNT_KEYS[action]] += 1
        if self.kept[(entity, action)] < CHANGES_KEPT:
            self.kept[(entity, action)] += 1
            self.changes.append((entity, action, sourced_id, label[:255], fields or {}))

    @property
    def is_empty(self) -> bool:
        return not any(
            count
            for entity in self.counts.values()
            for action, count in entity.items()
            if action != "unchanged"
        )


def plan_build(connection: RosterConnection, bundle: Bundle) -> Plan:
    plan = Plan(connection=connection, bundle=bundle, warnings=list(bundle.warnings))
    records = _records(connection)
    context = _Context(connection, bundle, records, plan)
    context.orgs()
    context.sessions()
    context.classes()
    context.users()
    context.enrollments()
    context.problems_raise()
    return plan


def _records(connection) -> dict:
    """{entity: {sourcedId: (record id, target id, digest, is_active)}}"""
    found = defaultdict(dict)
    rows = RosterRecord.objects.filter(connection=connection).values_list(
        "entity", "sourced_id", "pk", "target_id", "digest", "is_active"
    )
    for entity, sourced_id, pk, target_id, dig, active in rows.iterator(chunk_size=10000):
        found[entity][sourced_id] = (pk, target_id, dig, active)
    return found


class _Context:
    def __init__(self, connection, bundle, records, plan):
        self.connection = connection
        self.district = connection.district
        self.bundle = bundle
        self.records = records
        self.plan = plan
        self.errors: list[SourceError] = []
        # sourcedId -> Rollbook key: an id, or ("new", sourcedId) until apply.
        self.school_key: dict[str, object] = {}
        self.term_key: dict[str, object] = {}
        self.class_key: dict[str, object] = {}
        self.class_school: dict[str, str] = {}
        self.user_key: dict[str, object] = {}
        self.user_role: dict[str, str] = {}
        self.org_types: dict[str, str] = {}

    # -- problems --------------------------------------------------------------------

    def error(self, message, file, line=None, sourced_id=""):
        if len(self.errors) < 100:
            self.errors.append(SourceError(message, file=file, line=line, sourced_id=sourced_id))

    def problems_raise(self):
        if self.errors:
            raise BundleInvalid(self.errors)

    def _bulk(self, file) -> bool:
        return self.bundle.mode(file) == "bulk"

    def _missing(self, entity, file, seen: set):
        """Records the SIS had before and a bulk file no longer has: gone, as if
        tobedeleted (OneRoster 1.1 bulk: a missing row means the record is gone)."""
        if not self._bulk(file):
            return []
        return [
            (sid, rec)
            for sid, rec in self.records.get(entity, {}).items()
            if rec[3] and sid not in seen
        ]

    # -- orgs and sessions: few, planned one by one ---------------------------------

    def orgs(self):
        file = "orgs.csv"
        existing = {s.pk: s for s in School.objects.filter(district=self.district)}
        by_sis = {s.sis_id: s for s in existing.values() if s.sis_id}
        by_name = {s.name.lower(): s for s in existing.values()}
        known = self.records.get(Entity.ORG, {})
        # Schools another org of this connection already holds.
        claimed = {rec[1] for sid, rec in known.items() if rec[1] and rec[3]}
        seen = set()
        table = self.bundle.tables.get(file)
        for row in table.rows if table else ():
            sid, status, name, kind, identifier, _parent = row
            seen.add(sid)
            self.org_types[sid] = kind
            record = known.get(sid)
            if status == "tobedeleted":
                if record and record[3]:
                    self.plan.records_inactive.append(record[0])
                    self.plan.note(Entity.ORG, ChangeAction.DEACTIVATE, sid, name or sid)
                continue
            dig = digest(name, kind, identifier)
            if kind != "school":
                # Districts, departments and the like group schools; Rollbook has no row.
                if not record or record[2] != dig or not record[3]:
                    self.plan.records.append(
                        (record[0] if record else None, Entity.ORG, sid, None, dig)
                    )
                continue
            school = existing.get(record[1]) if record else None
            if school is not None and record[2] == dig and record[3]:
                self.school_key[sid] = school.pk
                claimed.add(school.pk)
                self.plan.counts[Entity.ORG]["unchanged"] += 1
                continue
            if school is None:
                school = by_sis.get(sid)
                same_name = by_name.get(name.lower())
                # A school of the same name is linked only if no other SIS org has it.
                if school is None and same_name is not None and not same_name.sis_id:
                    school = same_name
                if school is not None and school.pk in claimed:
                    school = None
                if school is not None:
                    self.plan.note(Entity.ORG, ChangeAction.LINK, sid, school.name)
            if school is not None:
                claimed.add(school.pk)
            fields = {"name": name[:120], "code": identifier[:30], "sis_id": sid}
            if school is None:
                self.school_key[sid] = ("new", sid)
                self.plan.schools.append((sid, None, fields))
                self.plan.records.append(
                    (record[0] if record else None, Entity.ORG, sid, ("new", sid), dig)
                )
                self.plan.note(Entity.ORG, ChangeAction.CREATE, sid, name)
                continue
            self.school_key[sid] = school.pk
            changed = {
                k: [getattr(school, k), v] for k, v in fields.items() if getattr(school, k) != v
            }
            if changed:
                self.plan.schools.append((sid, school.pk, fields))
                if record:
                    self.plan.note(Entity.ORG, ChangeAction.UPDATE, sid, name, changed)
            elif record and record[2] == dig and record[3]:
                self.plan.counts[Entity.ORG]["unchanged"] += 1
            if not record or record[2] != dig or not record[3] or record[1] != school.pk:
                self.plan.records.append(
                    (record[0] if record else None, Entity.ORG, sid, school.pk, dig)
                )
        for sid, rec in self._missing(Entity.ORG, file, seen):
            self.plan.records_inactive.append(rec[0])
            self.plan.note(Entity.ORG, ChangeAction.DEACTIVATE, sid, sid)
        # Orgs the bundle does not carry (a delta) keep their schools.
        for sid, rec in known.items():
            if sid not in self.school_key and rec[1] and rec[3]:
                self.school_key[sid] = rec[1]
                self.org_types.setdefault(sid, "school")
            elif sid not in self.org_types and rec[3]:
                self.org_types[sid] = "other"

    def sessions(self):
        file = "academicSessions.csv"
        known = self.records.get(Entity.SESSION, {})
        terms = {t.pk: t for t in Term.objects.filter(district=self.district)}
        seen = set()
        table = self.bundle.tables.get(file)
        for row in table.rows if table else ():
            sid, status, title, kind, starts, ends, parent, year = row
            seen.add(sid)
            record = known.get(sid)
            if status == "tobedeleted":
                if record and record[3]:
                    self.plan.records_inactive.append(record[0])
                    self.plan.note(Entity.SESSION, ChangeAction.DEACTIVATE, sid, title or sid)
                continue
            fields = {
                "name": title[:120],
                "kind": kind,
                "starts_on": starts,
                "ends_on": ends,
                "school_year": int(year),
                "parent": parent,
                "sis_id": sid,
            }
            dig = digest(*fields.values())
            term = terms.get(record[1]) if record else None
            if term is None:
                self.term_key[sid] = ("new", sid)
                self.plan.terms.append((sid, None, fields))
                self.plan.records.append(
                    (record[0] if record else None, Entity.SESSION, sid, ("new", sid), dig)
                )
                self.plan.note(Entity.SESSION, ChangeAction.CREATE, sid, title)
                continue
            self.term_key[sid] = term.pk
            if record[2] == dig and record[3]:
                self.plan.counts[Entity.SESSION]["unchanged"] += 1
                continue
            self.plan.terms.append((sid, term.pk, fields))
            self.plan.records.append(
                (record[0] if record else None, Entity.SESSION, sid, term.pk, dig)
            )
            self.plan.note(Entity.SESSION, ChangeAction.UPDATE, sid, title)
        for sid, rec in self._missing(Entity.SESSION, file, seen):
            self.plan.records_inactive.append(rec[0])
            self.plan.note(Entity.SESSION, ChangeAction.DEACTIVATE, sid, sid)
        for sid, rec in known.items():
            if sid not in self.term_key and rec[1] and rec[3] and sid not in seen:
                self.term_key[sid] = rec[1]

    # -- grades ----------------------------------------------------------------------

    def _grade_map(self) -> dict[str, object]:
        if not hasattr(self, "_grades"):
            self._grades = {
                yg.grade_code: yg.pk
                for yg in YearGroup.objects.filter(district=self.district).exclude(grade_code="")
            }
        return self._grades

    def year_group_for(self, grades: str):
        """The year group of a student's (first) grade: the district's mapping, or a new
        year group named after the grade when the district has none for it yet."""
        grade = grades.split(",", 1)[0].strip()
        if not grade:
            return None
        mapping = self._grade_map()
        if grade in mapping:
            return mapping[grade]
        if grade not in self.plan.year_groups_new:
            self.plan.year_groups_new[grade] = grade_name(grade, self.district)
        return ("new", grade)

    # -- classes ---------------------------------------------------------------------

    def classes(self):
        file = "classes.csv"
        known = self.records.get(Entity.CLASS, {})
        current = {
            c["pk"]: c
            for c in Classroom.objects.filter(district=self.district)
            .exclude(sis_id="")
            .values("pk", "name", "code", "school_id", "term_id", "year_group_id", "archived_at")
        }
        courses = {row[0] for row in self.bundle.rows("courses.csv")}
        courses_known = self.bundle.mode("courses.csv") != "absent"
        table = self.bundle.tables.get(file)
        seen = set()
        for row, line in zip(
            table.rows if table else (), table.lines if table else (), strict=True
        ):
            sid, status, title, code, _kind, school_sid, term_sids, grades, course = row
            seen.add(sid)
            record = known.get(sid)
            self.class_school[sid] = school_sid
            if status == "tobedeleted":
                if record and record[3]:
                    self._class_archive(sid, record, current)
                continue
            school = self.school_key.get(school_sid)
            if school is None:
                self.error(
                    f"schoolSourcedId {school_sid} is not a school in orgs.csv.", file, line, sid
                )
                continue
            terms = [t.strip() for t in term_sids.split(",") if t.strip()]
            missing_terms = [t for t in terms if t not in self.term_key]
            if missing_terms:
                self.error(
                    f"termSourcedIds {', '.join(missing_terms)} not in academicSessions.csv.",
                    file,
                    line,
                    sid,
                )
                continue
            if courses_known and self._bulk("courses.csv") and course not in courses:
                self.error(f"courseSourcedId {course} is not in courses.csv.", file, line, sid)
                continue
            year_group = None
            grade_list = [g for g in grades.split(",") if g.strip()]
            if len(grade_list) == 1:
                year_group = self.year_group_for(grade_list[0])
            fields = {
                "name": title[:120],
                "code": code[:60],
                "school": school,
                "term": self.term_key[terms[0]] if terms else None,
                "year_group": year_group,
            }
            # Of the SIS's values, not of ids made here (see users()).
            dig = digest(title, code, school_sid, terms[0] if terms else "", ",".join(grade_list))
            target = current.get(record[1]) if record else None
            if target is None:
                self.class_key[sid] = ("new", sid)
                self.plan.classes_create.append((sid, fields))
                self.plan.records.append(
                    (record[0] if record else None, Entity.CLASS, sid, ("new", sid), dig)
                )
                self.plan.note(Entity.CLASS, ChangeAction.CREATE, sid, title)
                continue
            self.class_key[sid] = target["pk"]
            if record[2] == dig and record[3] and not target["archived_at"]:
                self.plan.counts[Entity.CLASS]["unchanged"] += 1
                continue
            before = {
                "name": target["name"],
                "code": target["code"],
                "school": target["school_id"],
                "term": target["term_id"],
                "year_group": target["year_group_id"],
            }
            changed = {k: [before[k], v] for k, v in fields.items() if before[k] != v}
            update = {k: v for k, v in fields.items() if before[k] != v}
            if target["archived_at"]:
                update["archived_at"] = None
                self.plan.note(Entity.CLASS, ChangeAction.RESTORE, sid, title, changed)
            elif changed:
                self.plan.note(Entity.CLASS, ChangeAction.UPDATE, sid, title, _readable(changed))
            else:
                self.plan.counts[Entity.CLASS]["unchanged"] += 1
            if update:
                self.plan.classes_update.append((target["pk"], update))
            self.plan.records.append(
                (record[0] if record else None, Entity.CLASS, sid, target["pk"], dig)
            )
        for sid, rec in self._missing(Entity.CLASS, file, seen):
            self._class_archive(sid, rec, current)
        for sid, rec in known.items():
            if sid not in seen and rec[3] and rec[1] in current:
                self.class_key[sid] = rec[1]
                self.class_school[sid] = current[rec[1]]["school_id"]

    def _class_archive(self, sid, record, current):
        self.plan.records_inactive.append(record[0])
        target = current.get(record[1])
        if target and not target["archived_at"]:
            self.plan.classes_update.append((target["pk"], {"archived_at": "now"}))
            self.plan.note(Entity.CLASS, ChangeAction.DEACTIVATE, sid, target["name"])

    # -- users -----------------------------------------------------------------------

    def _roles_v12(self) -> dict[str, tuple[str, list[str]]]:
        """1.2 keeps memberships in roles.csv: a user's primary role, and every org."""
        found: dict[str, list] = {}
        table = self.bundle.tables.get("roles.csv")
        users = {row[0] for row in self.bundle.rows("users.csv")}
        for row, line in zip(
            table.rows if table else (), table.lines if table else (), strict=True
        ):
            sid, status, user_sid, role_type, role, org = row
            if status == "tobedeleted":
                continue
            if user_sid not in users and user_sid not in self.records.get(Entity.USER, {}):
                self.error(f"userSourcedId {user_sid} is not in users.csv.", "roles.csv", line, sid)
                continue
            entry = found.setdefault(user_sid, [None, []])
            if role_type == "primary" or entry[0] is None:
                entry[0] = role
            entry[1].append(org)
        return {sid: (role, orgs) for sid, (role, orgs) in found.items()}

    def users(self):
        file = "users.csv"
        version = self.bundle.version
        table = self.bundle.tables.get(file)
        rows = table.rows if table else []
        lines = table.lines if table else []
        known = self.records.get(Entity.USER, {})
        roles_v12 = self._roles_v12() if version == spec.V1_2 else {}
        self.bundle.release("roles.csv")  # what it said is in roles_v12 now
        activation = self.connection.activation_emails
        new_status = Status.ACTIVE if activation == ActivationEmails.NONE else Status.INVITED
        # Which rostered accounts still exist, and their roles: one narrow query. Whole
        # rows are read only for the accounts this run changes.
        roles_now = dict(
            User.objects.filter(district=self.district, pk__in=_record_targets(self.connection))
            .values_list("pk", "role")
            .iterator(chunk_size=10000)
        )

        desired = set()
        seen = set()
        agents = {}
        gone = []
        compare, news = [], []
        unchanged = 0
        for row, line in zip(rows, lines, strict=True):
            (sid, status, enabled, org_sids, role_code, username, given, family, identifier,
             email, agent_sids, grades, primary_org, preferred_given, preferred_family) = row  # fmt: skip
            seen.add(sid)
            record = known.get(sid)
            if status == "tobedeleted":
                if record and record[3]:
                    gone.append((sid, record))
                continue
            if version == spec.V1_2:
                role_code, orgs = roles_v12.get(sid, (None, None))
                if role_code is None:
                    if record is None:
                        self.error(
                            "This user has no row in roles.csv, so their role and school are "
                            "unknown.",
                            file,
                            line,
                            sid,
                        )
                        continue
                    orgs = None
            else:
                orgs = [o.strip() for o in org_sids.split(",") if o.strip()]
            role = ROLES[role_code] if role_code else None
            schools = None
            school_sids = ()
            if orgs is not None:
                unknown = [o for o in orgs if o not in self.org_types]
                if unknown:
                    self.error(
                        f"orgSourcedIds {', '.join(unknown)} not in orgs.csv.", file, line, sid
                    )
                    continue
                school_sids = sorted({o for o in orgs if o in self.school_key})
                schools = [self.school_key[o] for o in school_sids]
                if role == Role.SCHOOL_ADMIN and not schools:
                    role = Role.DISTRICT_ADMIN  # an administrator of the district org itself
            if email and not EMAIL.match(email):
                self.plan.warnings.append(
                    {
                        "message": f"email {email!r} is not an email address; the account was "
                        "kept without one.",
                        "file": file,
                        "line": line,
                        "sourced_id": sid,
                    }
                )
                email = ""
            # A 1.2 delta may carry a user without their roles: they keep the stored one.
            known_role = role or (roles_now.get(record[1]) if record else None)
            grade = grades.split(",", 1)[0].strip() if known_role == Role.STUDENT else ""
            fields = {
                "role": role,
                "first_name": (preferred_given or given)[:100],
                "last_name": (preferred_family or family)[:100],
                "username": username[:150],
                "email": email[:254],
                "sis_id": (identifier or sid)[:255],
                "enabled": enabled == "true",
                "year_group_id": self.year_group_for(grade) if grade else None,
                "schools": schools,
            }
            # The digest is of what the SIS says (sourcedIds and grade codes, never ids made
            # here), so it is the same on every run until the SIS changes something.
            dig = digest(
                role,
                *list(fields.values())[1:7],
                ",".join(school_sids) if orgs is not None else "=",
                grade,
            )
            if role is not None:
                self.user_role[sid] = role
            if agent_sids:
                agents[sid] = [a.strip() for a in agent_sids.split(",") if a.strip()]
            # Decided here, so the values of the many unchanged accounts are not kept.
            desired.add(sid)
            target_id = record[1] if record and record[1] in roles_now else None
            if target_id is None:
                news.append((sid, line, record, fields, dig))
                continue
            self.user_key[sid] = target_id
            self.user_role.setdefault(sid, roles_now[target_id])
            if record[2] == dig and record[3]:
                unchanged += 1
            else:
                compare.append((sid, record, fields, dig))

        plan = self.plan
        if unchanged:
            plan.counts[Entity.USER]["unchanged"] += unchanged
        gone.extend(self._missing(Entity.USER, file, seen))
        # Existing accounts first, so they keep their usernames over newcomers'. Their
        # rows are read a chunk at a time: a promotion changes nearly everyone.
        for start in range(0, len(compare), COMPARE_CHUNK):
            chunk = compare[start : start + COMPARE_CHUNK]
            ids = [record[1] for _sid, record, _f, _d in chunk]
            current, schools_now = _user_rows(ids), _schools_of(ids)
            for sid, record, fields, dig in chunk:
                self._user_update(sid, record, current[record[1]], fields, dig, schools_now)
            compare[start : start + COMPARE_CHUNK] = [None] * len(chunk)
        for index, (sid, line, record, fields, dig) in enumerate(news):
            self._user_new(sid, line, record, fields, dig, new_status)
            news[index] = None  # a first sync holds 100,000 of these: freed as they go
        current = _user_rows([rec[1] for _sid, rec in gone if rec[1]])
        for sid, rec in gone:
            self._user_deactivate(sid, rec, current)
        for sid, rec in known.items():
            if sid not in desired and rec[3] and rec[1] in roles_now:
                self.user_key.setdefault(sid, rec[1])
                self.user_role.setdefault(sid, roles_now[rec[1]])
        self._links(agents, desired)

    @property
    def taken(self) -> dict:
        """Every username of the district (lowercase) and its account: read once, when a
        run first creates an account or changes a username."""
        if not hasattr(self, "_taken"):
            self._taken = {
                name.lower(): pk
                for pk, name in User.objects.filter(district=self.district)
                .values_list("pk", "username")
                .iterator(chunk_size=10000)
            }
        return self._taken

    def _username(self, wanted: str, own_pk) -> str:
        """The SIS username, or it with 2, 3... added when another account holds it
        (usernames are unique per district; the SIS's are unique only in the SIS)."""
        taken = self.taken
        base = wanted or "user"
        candidate, n = base, 1
        while taken.get(candidate.lower(), own_pk) != own_pk:
            n += 1
            candidate = f"{base}{n}"
        taken[candidate.lower()] = own_pk
        return candidate

    def _user_new(self, sid, line, record, fields, dig, new_status):
        plan = self.plan
        if fields["role"] is None:
            self.error("This user has no role.", "users.csv", line, sid)
            return
        label = f"{fields['first_name']} {fields['last_name']}"
        linked = self._link_candidate(fields)
        if linked is not None:
            self.user_key[sid] = linked.pk
            username = self._username(fields["username"], linked.pk)
            update = self._user_values(fields, username, status=None)
            if linked.status == Status.DEACTIVATED or not fields["enabled"]:
                update["status"] = Status.DEACTIVATED if not fields["enabled"] else new_status
            plan.users_link.append((linked.pk, sid, update))
            if fields["schools"] is not None:
                plan.user_schools[linked.pk] = fields["schools"]
            plan.records.append((record[0] if record else None, Entity.USER, sid, linked.pk, dig))
            plan.note(
                Entity.USER,
                ChangeAction.LINK,
                sid,
                label,
                {"account": [f"{linked.username} ({linked.get_source_display()})", "now rostered"]},
            )
            return
        key = ("new", sid)
        self.user_key[sid] = key
        username = self._username(fields["username"], key)
        if username.lower() != fields["username"].lower():
            self._username_warning(sid, fields["username"], username, line)
            dig = ""
        values = self._user_values(
            fields, username, status=new_status if fields["enabled"] else Status.DEACTIVATED
        )
        plan.users_create.append((sid, values))
        plan.user_schools[key] = fields["schools"] or []
        plan.records.append((record[0] if record else None, Entity.USER, sid, key, dig))
        plan.note(Entity.USER, ChangeAction.CREATE, sid, label, _readable_user(values))

    def _username_warning(self, sid, wanted, given, line=None):
        self.plan.warnings.append(
            {
                "message": f"username {wanted} is taken by another account; this account "
                f"has {given} until it is free.",
                "file": "users.csv",
                "line": line,
                "sourced_id": sid,
            }
        )

    def _user_values(self, fields, username, *, status) -> dict:
        values = {
            "role": fields["role"],
            "first_name": fields["first_name"],
            "last_name": fields["last_name"],
            "username": username,
            "email": fields["email"],
            "sis_id": fields["sis_id"],
            "year_group_id": fields["year_group_id"],
        }
        if fields["role"] is None:
            del values["role"]
        if status is not None:
            values["status"] = status
        return values

    def _link_candidate(self, fields):
        """An account made here before the SIS knew it: linked only when exactly one
        unrostered account has this email and the same role (DESIGN §3). Linking hands the
        role to the SIS, so an admin is never linked to a teacher row and demoted."""
        if not fields["email"]:
            return None
        if not hasattr(self, "_unrostered"):
            self._unrostered = defaultdict(list)
            for user in (
                User.objects.filter(district=self.district, managed_by_sis=False)
                .exclude(email="")
                .only("pk", "email", "role", "username", "status", "source")
            ):
                self._unrostered[user.email.lower()].append(user)
        matches = [
            u for u in self._unrostered.get(fields["email"].lower(), []) if u.role == fields["role"]
        ]
        if len(matches) != 1:
            return None
        user = matches[0]
        self._unrostered[fields["email"].lower()] = []  # linked once per run
        return user

    def _user_update(self, sid, record, target, fields, dig, schools_now):
        plan = self.plan
        pk = target[0]
        before = dict(zip(USER_FIELDS[:-1], target[1:-1], strict=True))
        username = (
            target[4]
            if target[4].lower() == fields["username"].lower()
            else self._username(fields["username"], pk)
        )
        after = self._user_values(fields, username, status=None)
        has_password = not target[-1].startswith("!")
        if not fields["enabled"]:
            after["status"] = Status.DEACTIVATED
        elif before["status"] == Status.DEACTIVATED:
            after["status"] = Status.ACTIVE if has_password else Status.INVITED
        changed = {k: [before[k], v] for k, v in after.items() if before[k] != v}
        if changed:
            plan.users_update.append((pk, {k: v[1] for k, v in changed.items()}))
        schools = fields["schools"]
        if schools is not None and set(schools) != schools_now.get(pk, set()):
            plan.user_schools[pk] = schools
            changed["schools"] = [sorted(schools_now.get(pk, ())), schools]
        if username.lower() != fields["username"].lower():
            self._username_warning(sid, fields["username"], username)
            dig = ""  # compared again next run, when the name the SIS wants may be free
        plan.records.append((record[0] if record else None, Entity.USER, sid, pk, dig))
        label = f"{fields['first_name']} {fields['last_name']}"
        if changed:
            action = ChangeAction.UPDATE
            if "status" in changed and after["status"] != Status.DEACTIVATED:
                action = ChangeAction.RESTORE
            elif "status" in changed:
                action = ChangeAction.DEACTIVATE
            plan.note(Entity.USER, action, sid, label, _readable(changed))
        else:
            plan.counts[Entity.USER]["unchanged"] += 1

    def _user_deactivate(self, sid, record, current):
        self.plan.records_inactive.append(record[0])
        target = current.get(record[1])
        if target and target[7] != Status.DEACTIVATED:
            self.plan.users_update.append((target[0], {"status": Status.DEACTIVATED}))
            self.plan.note(
                Entity.USER,
                ChangeAction.DEACTIVATE,
                sid,
                f"{target[2]} {target[3]}",
                {"status": [target[7], Status.DEACTIVATED]},
            )

    def _links(self, agents, desired):
        """Guardian links as the SIS gives them, for the users this file carries."""
        wanted = set()
        for sid, agent_list in agents.items():
            for agent in agent_list:
                pair = None
                if self.user_role.get(sid) == Role.STUDENT:
                    pair = (agent, sid)
                elif self.user_role.get(sid) == Role.GUARDIAN:
                    pair = (sid, agent)
                if pair is None or agent not in self.user_role:
                    if agent not in self.user_role:
                        self.error(
                            f"agentSourcedIds {agent} is not in users.csv.", "users.csv", None, sid
                        )
                    continue
                if (
                    self.user_role.get(pair[0]) == Role.GUARDIAN
                    and self.user_role.get(pair[1]) == Role.STUDENT
                ):
                    wanted.add(pair)
        ids = {key: sid for sid, key in self.user_key.items() if not isinstance(key, tuple)}
        existing = set()
        rows = GuardianLink.objects.filter(district=self.district, managed_by_sis=True)
        for pk, guardian_id, student_id in rows.values_list("pk", "guardian_id", "student_id"):
            g, s = ids.get(guardian_id), ids.get(student_id)
            if g is None or s is None:
                continue
            existing.add((g, s))
            # Either side may list the link: a delta drops it only when it carries both
            # people and neither lists the other any more.
            if (g, s) not in wanted and (
                self._bulk("users.csv") or (g in desired and s in desired)
            ):
                self.plan.links_remove.append(pk)
        for pair in wanted - existing:
            self.plan.links_add.append(pair)
        self.plan.counts["guardian_link"]["created"] += len(wanted - existing)
        self.plan.counts["guardian_link"]["removed"] += len(self.plan.links_remove)

    # -- enrollments -----------------------------------------------------------------

    def enrollments(self):
        """Memberships are diffed as (class, user) pairs, not by sourcedId: a rostered
        class holds only what the SIS enrols, and pairs cost a fraction of the memory."""
        file = "enrollments.csv"
        table = self.bundle.tables.get(file)
        if table is None:
            return
        rostered = {k for k in self.class_key.values() if not isinstance(k, tuple)}
        students, teachers = self._memberships(rostered)
        want_students, want_teachers = set(), set()
        gone_students, gone_teachers = set(), set()
        ignored = 0
        for row, line in zip(table.rows, table.lines, strict=True):
            sid, status, class_sid, _school_sid, user_sid, role, _primary = row
            class_key = self.class_key.get(class_sid)
            user_key = self.user_key.get(user_sid)
            if class_key is None or user_key is None:
                if status == "tobedeleted":
                    continue
                what = (
                    f"classSourcedId {class_sid} is not in classes.csv"
                    if class_key is None
                    else f"userSourcedId {user_sid} is not in users.csv"
                )
                self.error(f"{what}.", file, line, sid)
                continue
            if role not in ("student", "teacher"):
                ignored += 1
                continue
            pair = pair_key(class_key, user_key)
            target = want_students if role == "student" else want_teachers
            if status == "tobedeleted":
                (gone_students if role == "student" else gone_teachers).add(pair)
            else:
                target.add(pair)
        if ignored:
            self.plan.counts[Entity.ENROLLMENT]["ignored"] += ignored
        bulk = self._bulk(file)
        for want, gone, have, adds, removes in (
            (want_students, gone_students, students, self.plan.enrollments_add,
             self.plan.enrollments_remove),
            (want_teachers, gone_teachers, teachers, self.plan.teachers_add,
             self.plan.teachers_remove),
        ):  # fmt: skip
            new = want - have
            adds.extend(new)
            drop = (have - want) if bulk else (gone & have)
            removes.extend(drop)
            counts = self.plan.counts[Entity.ENROLLMENT]
            counts["created"] += len(new)
            counts["removed"] += len(drop)
            counts["unchanged"] += len(want) - len(new)
        self._enrollment_changes()

    def _memberships(self, classrooms):
        """The rostered classes' members now, as packed (class, user) ints."""
        students = {
            pair_key(classroom_id, student_id)
            for classroom_id, student_id in Enrollment.objects.filter(
                district=self.district, classroom_id__in=classrooms
            )
            .values_list("classroom_id", "student_id")
            .iterator(chunk_size=10000)
        }
        teachers = {
            pair_key(classroom_id, user_id)
            for classroom_id, user_id in Classroom.teachers.through.objects.filter(
                classroom_id__in=classrooms
            )
            .values_list("classroom_id", "user_id")
            .iterator(chunk_size=10000)
        }
        return students, teachers

    def _enrollment_changes(self):
        """A few enrolment changes by name, so the review shows what the counts mean."""
        names = {sid: key for sid, key in self.class_key.items()}
        by_key = {v: k for k, v in names.items()}
        users = {v: k for k, v in self.user_key.items()}
        for key in self.plan.enrollments_add[:CHANGES_KEPT]:
            pair = pair_split(key)
            self.plan.changes.append(
                (
                    Entity.ENROLLMENT,
                    ChangeAction.CREATE,
                    f"{by_key.get(pair[0], '')}/{users.get(pair[1], '')}",
                    f"Student {users.get(pair[1], '')} into class {by_key.get(pair[0], '')}",
                    {},
                )
            )


# A membership of two existing rows is one int (class id and user id side by side), not a
# tuple: 400,000 of them in a set and a dict cost a third of the memory.
PAIR_SHIFT = 40


def pair_key(class_key, user_key):
    if isinstance(class_key, int) and isinstance(user_key, int):
        return class_key << PAIR_SHIFT | user_key
    return (class_key, user_key)


def pair_split(key) -> tuple:
    if isinstance(key, int):
        return key >> PAIR_SHIFT, key & ((1 << PAIR_SHIFT) - 1)
    return key


def _record_targets(connection):
    return RosterRecord.objects.filter(connection=connection, entity=Entity.USER).values(
        "target_id"
    )


def _by_ids(queryset, field: str, ids: list):
    """Rows whose `field` is one of `ids`, a few thousand ids per query."""
    for start in range(0, len(ids), 5000):
        yield from queryset.filter(**{f"{field}__in": ids[start : start + 5000]})


def _user_rows(user_ids) -> dict[int, tuple]:
    rows = User.objects.values_list("pk", *USER_FIELDS[:-1], "password")
    return {row[0]: row for row in _by_ids(rows, "pk", list(user_ids))}


def _schools_of(user_ids) -> dict[int, set]:
    found = defaultdict(set)
    if not user_ids:
        return found
    rows = User.schools.through.objects.values_list("user_id", "school_id")
    for user_id, school_id in _by_ids(rows, "user_id", list(user_ids)):
        found[user_id].add(school_id)
    return found


def _readable(changed: dict) -> dict:
    return {k: [_plain(v[0]), _plain(v[1])] for k, v in changed.items()}


def _readable_user(values: dict) -> dict:
    return {k: [None, _plain(v)] for k, v in values.items() if v not in ("", None)}


def _plain(value):
    if isinstance(value, tuple):
        return f"new {value[1]}"
    if value is None or isinstance(value, str | int | bool | float):
        return value
    return str(value)


def grade_name(grade: str, district) -> str:
    if grade in spec.GRADE_NAMES:
        return spec.GRADE_NAMES[grade]
    word = district.get_terminology_display()
    return f"{word} {int(grade)}" if grade.isdigit() else f"{word} {grade}"
