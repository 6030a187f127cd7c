"""Valid, coherent objects in one call; SubFactories keep every object in one district."""

import factory
from django.contrib.auth.hashers import make_password

from accounts.models import Role, Status, User
from schools.models import Classroom, District, School, YearGroup

PASSWORD = "correct-horse-battery"
_PASSWORD_HASH = None


def password_hash() -> str:
    """One real Argon2 hash shared by factory users: hashing per user would slow the suite."""
    global _PASSWORD_HASH
    if _PASSWORD_HASH is None:
        _PASSWORD_HASH = make_password(PASSWORD)
    return _PASSWORD_HASH


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District

    name = factory.Sequence(lambda n: f"District {n}")
    slug = factory.Sequence(lambda n: f"district{n}")


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"School {n}")


class YearGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = YearGroup

    district = factory.SubFactory(DistrictFactory)
    ordinal = factory.Sequence(lambda n: n)
    name = factory.LazyAttribute(lambda o: f"Year {o.ordinal}")


class ClassroomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Classroom

    district = factory.SubFactory(DistrictFactory)
    school = factory.SubFactory(SchoolFactory, district=factory.SelfAttribute("..district"))
    name = factory.Sequence(lambda n: f"Class {n}")


class UserFactory(factory.django.DjangoModelFactory):
    """An active user who can sign in with PASSWORD."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    district = factory.SubFactory(DistrictFactory)
    role = Role.TEACHER
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    status = Status.ACTIVE
    password = factory.LazyFunction(password_hash)


class InvitedUserFactory(UserFactory):
    status = Status.INVITED
    password = factory.LazyFunction(lambda: make_password(None))
