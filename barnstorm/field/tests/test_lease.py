"""Assignment: batches are leased to one volunteer at a time, expire, and run out cleanly."""

from datetime import timedelta

import pytest
from django.utils import timezone

from barnstorm.field.models import Contact, ContactStatus, Disposition
from barnstorm.field.services import (
    attempt_record,
    contacts_expire_leases,
    contacts_lease,
    contacts_reassign,
    contacts_release,
)


def test_a_batch_is_the_volunteers_alone(callable_people, make_campaign, make_volunteer):
    campaign = make_campaign(batch_size=10)
    vera, will = make_volunteer("vera"), make_volunteer("will")

    first = contacts_lease(campaign=campaign, volunteer=vera)
    second = contacts_lease(campaign=campaign, volunteer=will)

    assert len(first.contacts) == len(second.contacts) == 10
    assert not {c.pk for c in first.contacts} & {c.pk for c in second.contacts}
    assert {c.leased_to_id for c in Contact.objects.filter(pk__in=[c.pk for c in first.contacts])} == {vera.pk}


def test_asking_again_gives_the_same_batch_not_a_second_one(callable_people, make_campaign, make_volunteer):
    campaign = make_campaign(batch_size=5)
    vera = make_volunteer()
    first = contacts_lease(campaign=campaign, volunteer=vera)
    again = contacts_lease(campaign=campaign, volunteer=vera)

    assert [c.pk for c in again.contacts] == [c.pk for c in first.contacts]
    assert again.new == 0
    assert Contact.objects.filter(status=ContactStatus.LEASED).count() == 5


def test_an_expired_lease_returns_the_unreached_contacts(callable_people, make_campaign, make_volunteer):
    campaign = make_campaign(batch_size=5, lease_minutes=30)
    vera, will = make_volunteer("vera"), make_volunteer("will")
    batch = contacts_lease(campaign=campaign, volunteer=vera)
    attempt_record(contact=batch.contacts[0], volunteer=vera, disposition=Disposition.REACHED)

    later = timezone.now() + timedelta(minutes=31)
    assert contacts_expire_leases(now=later) == 4
    assert Contact.objects.get(pk=batch.contacts[0].pk).status == ContactStatus.DONE
    taken = contacts_lease(campaign=campaign, volunteer=will, count=30, now=later)
    assert {c.pk for c in batch.contacts[1:]} <= {c.pk for c in taken.contacts}


def test_a_volunteer_who_leaves_gives_everything_back(callable_people, make_campaign, make_volunteer):
    campaign = make_campaign(batch_size=8)
    vera = make_volunteer()
    contacts_lease(campaign=campaign, volunteer=vera)

    assert contacts_release(campaign=campaign, volunteer=vera) == 8
    assert not Contact.objects.filter(status=ContactStatus.LEASED).exists()


def test_the_pool_runs_out_clearly(callable_people, make_campaign, make_volunteer):
    campaign = make_campaign()
    first = contacts_lease(campaign=campaign, volunteer=make_volunteer("vera"), count=25)
    second = contacts_lease(campaign=campaign, volunteer=make_volunteer("will"), count=25)
    third = contacts_lease(campaign=campaign, volunteer=make_volunteer("xena"), count=25)

    assert (len(first.contacts), first.exhausted) == (25, False)
    assert (len(second.contacts), second.exhausted) == (5, True)
    assert (len(third.contacts), third.exhausted) == (0, True)


def test_nobody_is_called_twice_in_a_day_even_by_two_campaigns(callable_people, make_campaign, make_volunteer):
    first, second = make_campaign(), make_campaign()
    vera = make_volunteer()
    batch = contacts_lease(campaign=first, volunteer=vera, count=10)
    for contact in batch.contacts:
        attempt_record(contact=contact, volunteer=vera, disposition=Disposition.NO_ANSWER)
    called = {c.person_id for c in batch.contacts}

    other = contacts_lease(campaign=second, volunteer=make_volunteer("will"), count=30)
    assert not called & {c.person_id for c in other.contacts}
    assert len(other.contacts) == 20
    # In the first campaign the unanswered wait for the retry time too.
    rest = contacts_lease(campaign=first, volunteer=make_volunteer("xena"), count=30)
    assert len(rest.contacts) == 20 and not called & {c.person_id for c in rest.contacts}

    tomorrow = timezone.now() + timedelta(hours=25)
    retried = contacts_lease(campaign=first, volunteer=make_volunteer("yuri"), count=30, now=tomorrow)
    assert called <= {c.person_id for c in retried.contacts}


def test_an_organizer_can_hand_a_batch_to_someone_else(callable_people, make_campaign, make_volunteer, organizer):
    campaign = make_campaign(batch_size=4)
    vera, will = make_volunteer("vera"), make_volunteer("will")
    batch = contacts_lease(campaign=campaign, volunteer=vera)

    other = make_campaign()
    stranger = contacts_lease(campaign=other, volunteer=vera, count=1).contacts[0]
    ids = [c.pk for c in batch.contacts[:2]] + [stranger.pk]
    moved = contacts_reassign(campaign=campaign, contact_ids=ids, to=will, actor=organizer)

    assert moved == 2
    assert [c.pk for c in contacts_lease(campaign=campaign, volunteer=will, count=2).contacts] == [
        c.pk for c in batch.contacts[:2]
    ]


@pytest.mark.django_db(transaction=True)
def test_volunteers_asking_at_once_never_share_a_contact(callable_people, make_campaign, make_volunteer, race):
    campaign = make_campaign(batch_size=4)
    volunteers = [make_volunteer(f"racer{i}") for i in range(8)]

    batches = race(8, lambda n: contacts_lease(campaign=campaign, volunteer=volunteers[n]).contacts)

    taken = {v.pk: [c.pk for c in batch] for v, batch in zip(volunteers, batches, strict=True)}
    all_ids = [pk for ids in taken.values() for pk in ids]
    assert len(all_ids) == len(set(all_ids)) == 30  # 8 × 4 asked, 30 there: all given, none twice
    for volunteer_id, ids in taken.items():
        assert set(Contact.objects.filter(pk__in=ids).values_list("leased_to_id", flat=True)) == {volunteer_id}


def test_a_volunteer_at_work_keeps_their_batch(callable_people, make_campaign, make_volunteer):
    campaign = make_campaign(batch_size=5, lease_minutes=30)
    vera = make_volunteer()
    start = timezone.now()
    batch = contacts_lease(campaign=campaign, volunteer=vera, now=start)
    # Twenty minutes per call: without renewal the batch would lapse after the second call.
    for minutes, contact in zip((20, 40, 60), batch.contacts, strict=False):
        attempt_record(
            contact=contact, volunteer=vera, disposition=Disposition.REACHED, now=start + timedelta(minutes=minutes)
        )

    at_70 = start + timedelta(minutes=70)
    assert contacts_expire_leases(now=at_70) == 0
    again = contacts_lease(campaign=campaign, volunteer=vera, now=at_70)
    assert [c.pk for c in again.contacts[:2]] == [c.pk for c in batch.contacts[3:]]  # still theirs, first


def test_contacts_given_back_are_handed_out_before_later_ones(callable_people, make_campaign, make_volunteer):
    campaign = make_campaign(batch_size=5)
    vera, will, xena = make_volunteer("vera"), make_volunteer("will"), make_volunteer("xena")
    given_back = [c.pk for c in contacts_lease(campaign=campaign, volunteer=vera).contacts]
    contacts_lease(campaign=campaign, volunteer=will)  # the pool's first free contact is now further on
    contacts_release(campaign=campaign, volunteer=vera)

    assert [c.pk for c in contacts_lease(campaign=campaign, volunteer=xena).contacts] == given_back


def test_the_beat_task_returns_lapsed_batches(callable_people, make_campaign, make_volunteer):
    from barnstorm.field import tasks

    campaign = make_campaign(batch_size=3)
    batch = contacts_lease(campaign=campaign, volunteer=make_volunteer(), now=timezone.now() - timedelta(hours=2))

    assert tasks.contacts_expire_leases.delay().get() == 3
    assert set(Contact.objects.filter(pk__in=[c.pk for c in batch.contacts]).values_list("status", flat=True)) == {
        ContactStatus.AVAILABLE
    }


def test_a_lease_at_a_time_given_in_another_zone_is_the_same_lease(callable_people, make_campaign, make_volunteer):
    import zoneinfo

    campaign = make_campaign(batch_size=3)
    vera = make_volunteer()
    chicago = timezone.now().astimezone(zoneinfo.ZoneInfo("America/Chicago"))
    batch = contacts_lease(campaign=campaign, volunteer=vera, now=chicago)

    # The ORM reads back what the raw UPDATE wrote: held, with a lease ending in 30 minutes.
    held = Contact.objects.filter(leased_to=vera, leased_until__gt=timezone.now() + timedelta(minutes=29))
    assert held.count() == 3 == len(batch.contacts)


def test_contacts_are_never_reassigned_to_a_switched_off_account(
    callable_people, make_campaign, make_volunteer, organizer
):
    from django.core.exceptions import ValidationError

    campaign = make_campaign(batch_size=2)
    batch = contacts_lease(campaign=campaign, volunteer=make_volunteer("vera"))
    gone = make_volunteer("will")
    gone.is_active = False
    gone.save(update_fields=["is_active"])

    with pytest.raises(ValidationError, match="switched off"):
        contacts_reassign(campaign=campaign, contact_ids=[c.pk for c in batch.contacts], to=gone, actor=organizer)
    assert not Contact.objects.filter(leased_to=gone).exists()
