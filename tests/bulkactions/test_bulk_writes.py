"""The bulk write helpers the importer, the bulk action runner and rostering share: they
must write exactly what Django's own paths would, only faster."""

import json

import pytest

from accounts.models import Role, User
from bulkactions.importing import bulk
from tests.factories import UserFactory, YearGroupFactory


@pytest.mark.parametrize("count", [1, 2, 3, 1999, 2000, 2001, 10_000, 100_001])
def test_batches_are_even_cover_every_id_in_order_and_pair_up(settings, count, monkeypatch):
    settings.BULK_WRITE_THREADS = 2
    monkeypatch.setattr(bulk, "is_postgres", lambda: True)
    ids = list(range(count))
    batches = bulk.batches_split(ids, 2000)
    assert [i for batch in batches for i in batch] == ids
    assert max(map(len, batches)) - min(map(len, batches)) <= 1
    assert max(map(len, batches)) <= 2000
    if count >= 2:
        assert len(batches) % 2 == 0  # both connections finish together


@pytest.mark.parametrize(
    "value",
    [
        {},
        {"status": "active"},
        {"year_group_id": 7},
        {"flag": True},  # not the same text as {"flag": 1}
        {"flag": 1},
        {"a": None, "b": "x"},
        {"a": [1, 2]},
        {"a": 1.5},
        {"a": 1, "b": 2, "c": 3},
        {"name": "Zoë Núñez"},
        [1, 2],
        "text",
    ],
)
def test_json_for_copy_reads_back_as_the_same_value(value):
    text = bulk._json(value)
    assert json.loads(text) == value
    assert json.loads(text) == json.loads(json.dumps(value))
    assert type(json.loads(text)) is type(value)
    if isinstance(value, dict) and "flag" in value:
        assert type(json.loads(text)["flag"]) is type(value["flag"])  # True is not 1


def test_json_for_copy_takes_choices_and_non_text_keys():
    from accounts.models import Role

    assert json.loads(bulk._json({"role": Role.STUDENT, 7: [Role.TEACHER]})) == {
        "role": "student",
        "7": ["teacher"],
    }


def test_any_of_selects_what_in_selects_on_fields_and_foreign_keys(district):
    year = YearGroupFactory(district=district, ordinal=7, name="Year 7")
    people = [UserFactory(district=district, role=Role.STUDENT, year_group=year) for _ in range(4)]
    UserFactory(district=district, role=Role.STUDENT)
    wanted = [people[0].pk, people[2].pk, 10**9]
    assert set(User.objects.filter(pk__any_of=wanted)) == {people[0], people[2]}
    assert User.objects.filter(year_group_id__any_of=[year.pk]).count() == 4
    assert not User.objects.filter(pk__any_of=[]).exists()


def test_maker_builds_the_instance_django_would(district):
    year = YearGroupFactory(district=district, ordinal=8, name="Year 8")
    make = bulk.Maker(User, district_id=district.pk, source="import")
    made = make(first_name="Ana", last_name="Díaz", username="ana.diaz", year_group_id=year.pk)
    usual = User(
        district=district, first_name="Ana", last_name="Díaz", username="ana.diaz", source="import"
    )
    usual.year_group_id = year.pk
    fields = [f.attname for f in User._meta.concrete_fields if f.attname != "created_at"]
    assert [getattr(made, f) for f in fields] == [getattr(usual, f) for f in fields]
    assert made._state.adding and made.pk is None
    made.save()
    assert User.objects.get(username="ana.diaz").year_group == year


def test_rows_update_sets_only_rows_still_matching(district):
    people = [
        UserFactory(district=district, role=Role.STUDENT, first_name=f"P{n}") for n in range(3)
    ]
    User.objects.filter(pk=people[1].pk).update(role=Role.TEACHER)
    for person in people:
        person.last_name = "Changed"
    written = bulk.rows_update(User, ["last_name"], people, role=Role.STUDENT)
    assert written == 2
    names = dict(User.objects.filter(pk__in=[p.pk for p in people]).values_list("pk", "last_name"))
    assert names[people[0].pk] == names[people[2].pk] == "Changed"
    assert names[people[1].pk] != "Changed"


def test_write_behind_runs_calls_in_order_and_raises_the_first_error(settings, monkeypatch):
    import sys

    settings.BULK_WRITE_THREADS = 2
    monkeypatch.setattr(bulk, "is_postgres", lambda: True)
    interval = sys.getswitchinterval()
    done = []

    def fail():
        raise ValueError("the server refused batch 3")

    with pytest.raises(ValueError, match="batch 3"):
        with bulk.WriteBehind(district=None) as write:
            for n in (1, 2):
                write(lambda n=n: done.append(n))
            write(fail)
            for n in (4, 5):  # refused at a submit, or skipped by the thread
                write(lambda n=n: done.append(n))
    assert done == [1, 2]
    assert sys.getswitchinterval() == interval  # given back

    with bulk.WriteBehind(district=None) as write:
        for n in range(20):
            write(lambda n=n: done.append(n))
    assert done[2:] == list(range(20))


def test_write_behind_runs_inline_with_one_connection(settings):
    import threading

    settings.BULK_WRITE_THREADS = 1
    threads = []
    with bulk.WriteBehind(district=None) as write:
        write(lambda: threads.append(threading.current_thread()))
    assert threads == [threading.current_thread()]
