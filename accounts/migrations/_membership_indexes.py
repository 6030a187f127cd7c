"""Names of the membership table's indexes that migrations 0009, 0016 and 0017 manage by
SQL (the table is auto-created, so Django's index state does not hold them)."""

SCHOOL_USER = "accounts_user_schools_school_user"
SINGLE = {
    "accounts_user_schools_user_id_b39e1580": "user_id",
    "accounts_user_schools_school_id_30a95d20": "school_id",
}
