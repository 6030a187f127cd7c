"""What the 1EdTech OneRoster 1.1 and 1.2 CSV bindings say: file names, columns in spec
order, which must be non-blank, and the vocabularies (see shared/ONEROSTER.md, §1-2).

REST payloads are flattened into these same CSV rows (rest.py), so these tables are the
one definition of a valid record whatever the source.
"""

V1_1 = "1.1"
V1_2 = "1.2"
VERSIONS = (V1_1, V1_2)

# Files the sync reads, in the order references resolve (an enrollment needs its class...).
ROSTER_FILES = (
    "orgs.csv",
    "academicSessions.csv",
    "courses.csv",
    "classes.csv",
    "users.csv",
    "roles.csv",
    "enrollments.csv",
    "demographics.csv",
)

_COMMON = ["sourcedId", "status", "dateLastModified"]

COLUMNS = {
    V1_1: {
        "orgs.csv": [*_COMMON, "name", "type", "identifier", "parentSourcedId"],
        "academicSessions.csv": [
            *_COMMON,
            "title",
            "type",
            "startDate",
            "endDate",
            "parentSourcedId",
            "schoolYear",
        ],
        "courses.csv": [
            *_COMMON,
            "schoolYearSourcedId",
            "title",
            "courseCode",
            "grades",
            "orgSourcedId",
            "subjects",
            "subjectCodes",
        ],
        "classes.csv": [
            *_COMMON,
            "title",
            "grades",
            "courseSourcedId",
            "classCode",
            "classType",
            "location",
            "schoolSourcedId",
            "termSourcedIds",
            "subjects",
            "subjectCodes",
            "periods",
        ],
        "users.csv": [
            *_COMMON,
            "enabledUser",
            "orgSourcedIds",
            "role",
            "username",
            "userIds",
            "givenName",
            "familyName",
            "middleName",
            "identifier",
            "email",
            "sms",
            "phone",
            "agentSourcedIds",
            "grades",
            "password",
        ],
        "enrollments.csv": [
            *_COMMON,
            "classSourcedId",
            "schoolSourcedId",
            "userSourcedId",
            "role",
            "primary",
            "beginDate",
            "endDate",
        ],
        "demographics.csv": [
            *_COMMON,
            "birthDate",
            "sex",
            "americanIndianOrAlaskaNative",
            "asian",
            "blackOrAfricanAmerican",
            "nativeHawaiianOrOtherPacificIslander",
            "white",
            "demographicRaceTwoOrMoreRaces",
            "hispanicOrLatinoEthnicity",
            "countryOfBirthCode",
            "stateOfBirthAbbreviation",
            "cityOfBirth",
            "publicSchoolResidenceStatus",
        ],
    }
}
# 1.2: users lose orgSourcedIds and role (memberships move to roles.csv); other files keep
# their 1.1 headers.
COLUMNS[V1_2] = {
    **COLUMNS[V1_1],
    "users.csv": [
        *_COMMON,
        "enabledUser",
        "username",
        "userIds",
        "givenName",
        "familyName",
        "middleName",
        "identifier",
        "email",
        "sms",
        "phone",
        "agentSourcedIds",
        "grades",
        "password",
        "userMasterIdentifier",
        "preferredGivenName",
        "preferredMiddleName",
        "preferredFamilyName",
        "primaryOrgSourcedId",
        "pronouns",
    ],
    "roles.csv": [
        *_COMMON,
        "userSourcedId",
        "roleType",
        "role",
        "beginDate",
        "endDate",
        "orgSourcedId",
        "userProfileSourcedId",
    ],
}

REQUIRED = {
    "orgs.csv": ["sourcedId", "name", "type"],
    "academicSessions.csv": ["sourcedId", "title", "type", "startDate", "endDate", "schoolYear"],
    "courses.csv": ["sourcedId", "title", "orgSourcedId"],
    "classes.csv": [
        "sourcedId",
        "title",
        "courseSourcedId",
        "classType",
        "schoolSourcedId",
        "termSourcedIds",
    ],
    "users.csv": ["sourcedId", "enabledUser", "username", "givenName", "familyName"],
    "roles.csv": ["sourcedId", "userSourcedId", "roleType", "role", "orgSourcedId"],
    "enrollments.csv": ["sourcedId", "classSourcedId", "schoolSourcedId", "userSourcedId", "role"],
    "demographics.csv": ["sourcedId"],
}
# 1.1 users also need their role and orgs (1.2 has them in roles.csv).
REQUIRED_V1_1_USERS = ["role", "orgSourcedIds"]

# Files a bundle must carry for a sync to make sense (manifest may still say "absent" in a
# delta, which means "no changes", never "delete everything").
REQUIRED_FILES = {
    V1_1: ("orgs.csv", "academicSessions.csv", "classes.csv", "users.csv", "enrollments.csv"),
    V1_2: (
        "orgs.csv",
        "academicSessions.csv",
        "classes.csv",
        "users.csv",
        "roles.csv",
        "enrollments.csv",
    ),
}

STATUSES = {"active", "tobedeleted"}
# 1.0 leftover still seen in dirty data; read as tobedeleted.
STATUS_ALIASES = {"inactive": "tobedeleted"}

ORG_TYPES = {"department", "school", "district", "local", "state", "national"}
SESSION_TYPES = {"gradingPeriod", "semester", "schoolYear", "term"}
CLASS_TYPES = {"homeroom", "scheduled"}
USER_ROLES = {
    V1_1: {
        "administrator",
        "aide",
        "guardian",
        "parent",
        "proctor",
        "relative",
        "student",
        "teacher",
    },
    V1_2: {
        "aide",
        "counselor",
        "districtAdministrator",
        "guardian",
        "parent",
        "principal",
        "proctor",
        "relative",
        "siteAdministrator",
        "student",
        "systemAdministrator",
        "teacher",
    },
}
ROLE_TYPES = {"primary", "secondary"}
ENROLLMENT_ROLES = {"administrator", "proctor", "student", "teacher"}
# CEDS entry-grade codes (ceds.ed.gov TermId 7100), in school order.
GRADES = (
    "IT",
    "PR",
    "PK",
    "TK",
    "KG",
    "01",
    "02",
    "03",
    "04",
    "05",
    "06",
    "07",
    "08",
    "09",
    "10",
    "11",
    "12",
    "13",
    "PS",
    "UG",
    "Other",
)
GRADE_NAMES = {
    "IT": "Infant/toddler",
    "PR": "Preschool",
    "PK": "Pre-kindergarten",
    "TK": "Transitional kindergarten",
    "KG": "Kindergarten",
    "PS": "Postsecondary",
    "UG": "Ungraded",
    "Other": "Other",
}
BOOLEANS = {"true", "false"}
MANIFEST_MODES = {"bulk", "delta", "absent"}
