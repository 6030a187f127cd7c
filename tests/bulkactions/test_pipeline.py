"""From file to accounts: validation results, commit, outcomes, audit and emails."""

from accounts.models import AuditEvent, Status, User
from bulkactions.models import ImportStatus, RowOutcome, RowStatus
from schools.models import Enrollment

STUDENTS = """First name,Last name,Email,Year,School,Classes
Sam,Okafor,sam@alpha.example,Year 7,Alpha High,7A
 Lia ,Chen,lia@alpha.example,8,Beta Academy,
Max,Roe,not-an-email,Year 12,Nowhere,
"""


def test_valid_file_creates_students_with_schools_classes_audit_and_invitations(
    run_import, commit, district, classroom, mailoutbox
):
    job = run_import(STUDENTS.rsplit("Max", 1)[0])
    assert job.status == ImportStatus.REVIEW
    assert (job.valid_rows, job.warning_rows, job.error_rows) == (1, 1, 0)
    lia = job.rows.get(number=3)
    assert lia.values["first_name"] == "Lia"
    assert lia.warnings == {"first_name": ["We removed spaces before or after this value"]}

    job = commit(job)
    assert job.status == ImportStatus.DONE
    assert job.created_count == 2
    sam = User.objects.get(district=district, email="sam@alpha.example")
    assert sam.username == "sam.okafor"
    assert sam.status == Status.INVITED
    assert sam.school_names == "Alpha High"
    assert sam.year_group.name == "Year 7"
    assert "okafor" in sam.search_text
    assert Enrollment.objects.filter(student=sam, classroom=classroom).exists()
    assert AuditEvent.objects.filter(action="accounts.user.created", target_id=sam.pk).exists()
    assert set(job.rows.values_list("outcome", flat=True)) == {RowOutcome.CREATED}
    invitations = {m.to[0]: m for m in mailoutbox if m.subject.startswith("Activate")}
    assert set(invitations) == {"sam@alpha.example", "lia@alpha.example"}
    assert "/activate/" in invitations["sam@alpha.example"].body
    (summary,) = [m for m in mailoutbox if m.to == ["ada@alpha.example"]]
    assert summary.subject == "Import finished: 2 accounts created – Alpha District"
    assert "Created: 2" in summary.body
    (name, content, mimetype) = summary.attachments[0]
    assert mimetype == "text/csv"
    assert "sam.okafor" in content


def test_errors_are_reported_per_field_and_block_commit(run_import, commit):
    job = run_import(STUDENTS)
    assert job.error_rows == 1
    row = job.rows.get(number=4)
    assert row.status == RowStatus.ERROR
    assert row.errors["email"] == [
        "Enter an email address in the correct format, like name@school.org"
    ]
    assert "Enter a year group of this district: Year 7, Year 8, Year 9" in row.errors["year_group"]
    assert row.errors["schools"][0].startswith("There is no school called “Nowhere”")
    import pytest
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        commit(job)
    job = commit(job, skip_errors=True)
    assert job.status == ImportStatus.DONE
    assert (job.created_count, job.skipped_count) == (2, 1)
