import pytest
from django.core.exceptions import ValidationError

from barnstorm.accounts.models import User
from barnstorm.activity.models import Activity
from barnstorm.people.models import EmailStatus, GroupMembership, LocalGroup, Person, PhoneNumber
from barnstorm.people.services import (
    email_status_advance,
    email_status_set,
    group_member_add,
    person_merge,
    phone_sms_opt_out,
)

pytestmark = pytest.mark.django_db


def test_an_unsubscribe_takes_effect_at_once_and_is_logged(make_person):
    person = make_person(email="ann@example.com")
    assert email_status_set(address="ANN@example.com", status=EmailStatus.UNSUBSCRIBED) == 1
    assert person.emails.get().status == EmailStatus.UNSUBSCRIBED
    assert email_status_set(address="ann@example.com", status=EmailStatus.UNSUBSCRIBED) == 0
    assert Activity.objects.filter(person=person, kind="email_status").count() == 1


@pytest.mark.parametrize(
    ("before", "asked", "after"),
    [
        (EmailStatus.SUBSCRIBED, EmailStatus.UNSUBSCRIBED, EmailStatus.UNSUBSCRIBED),
        (EmailStatus.BOUNCING, EmailStatus.UNSUBSCRIBED, EmailStatus.BOUNCING),
        (EmailStatus.SPAM_COMPLAINT, EmailStatus.BOUNCING, EmailStatus.SPAM_COMPLAINT),
        (EmailStatus.UNSUBSCRIBED, EmailStatus.SPAM_COMPLAINT, EmailStatus.SPAM_COMPLAINT),
        (EmailStatus.UNSUBSCRIBED, EmailStatus.SUBSCRIBED, EmailStatus.UNSUBSCRIBED),
    ],
)
def test_less_mail_only_ever_moves_an_address_towards_final(make_person, before, asked, after):
    person = make_person(email="ann@example.com")
    email_status_set(address="ann@example.com", status=before)
    email_status_advance(address="ann@example.com", status=asked)
    assert person.emails.get().status == after


def test_a_staff_unsubscribe_leaves_a_bouncing_address_bouncing(staff_client, make_person):
    from django.urls import reverse

    person = make_person(email="ann@example.com")
    email_status_set(address="ann@example.com", status=EmailStatus.BOUNCING)
    email = person.emails.get()

    staff_client.post(reverse("people:consent", args=[person.pk]), {"action": "unsubscribe", "email": email.pk})

    assert person.emails.get().status == EmailStatus.BOUNCING  # else its owner could resubscribe it


def test_an_sms_opt_out_covers_every_person_with_the_number(make_person):
    a = make_person(email="a@example.com", phone="5155550134", sms_consent=True)
    b = make_person(email="b@example.com")
    PhoneNumber.objects.create(person=b, number="+15155550134", sms_consent=True)
    assert phone_sms_opt_out(number="(515) 555-0134") == 2
    assert not any(p.can_text for p in PhoneNumber.objects.all())
    assert Activity.objects.filter(kind="sms_opt_out", person__in=[a, b]).count() == 2


def test_merge_moves_every_related_record_and_keeps_one_primary(make_person, organizer):
    keep = make_person(email="ann@example.com", phone="5155550134", tags=["x"], lists=["L"])
    dup = make_person(email="ann2@example.com", tags=["x", "y"], lists=["L", "M"], zip_code="03301")
    PhoneNumber.objects.create(person=dup, number="+15155550134", is_primary=True)
    group = LocalGroup.objects.create(name="G", slug="g")
    group_member_add(group=group, person=dup, role="leader")
    user = User.objects.create_user("ann", password="pw-ann-123456", person=dup)
    dup_id = dup.pk
    person_merge(survivor=keep, other=dup, actor=organizer)
    assert not Person.objects.filter(pk=dup_id).exists()
    assert keep.emails.count() == 2 and keep.emails.filter(is_primary=True).count() == 1
    assert keep.phones.count() == 1  # the same number twice collapses to one
    assert keep.addresses.filter(is_primary=True).count() == 1 and keep.addresses.count() == 2
    assert sorted(keep.tags.values_list("name", flat=True)) == ["x", "y"]
    assert sorted(keep.lists.values_list("name", flat=True)) == ["L", "M"]
    assert GroupMembership.objects.get(person=keep).role == "leader"
    user.refresh_from_db()
    assert user.person_id == keep.pk
    assert Activity.objects.filter(person=keep, kind="signup").count() == 2
    assert Activity.objects.filter(person=keep, kind="merged", actor=organizer).exists()


def test_a_person_cannot_be_merged_into_themselves(make_person):
    person = make_person()
    with pytest.raises(ValidationError):
        person_merge(survivor=person, other=person)


def test_a_merge_keeps_the_survivors_row_keyed_by_person_and_drops_the_others(make_person):
    from barnstorm.people.services import person_merge
    from barnstorm.segments.models import Engagement

    survivor, other = make_person(email="keep@example.com"), make_person(email="dup@example.com")
    Engagement.objects.create(person=survivor, level=1, score=2.0)
    Engagement.objects.create(person=other, level=3, score=9.0)
    person_merge(survivor=survivor, other=other)
    assert list(Engagement.objects.values_list("person_id", "level")) == [(survivor.pk, 1)]


def test_a_merge_moves_a_row_keyed_by_person_when_the_survivor_has_none(make_person):
    from barnstorm.people.services import person_merge
    from barnstorm.segments.models import Engagement

    survivor, other = make_person(email="keep@example.com"), make_person(email="dup@example.com")
    Engagement.objects.create(person=other, level=2, score=5.0)
    person_merge(survivor=survivor, other=other)
    assert list(Engagement.objects.values_list("person_id", "level")) == [(survivor.pk, 2)]
