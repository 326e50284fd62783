"""Demo mailings (`barnstorm seed`): sent mailings whose results agree with the people they reached."""

import datetime
import io
import re

import pytest
from django.db.models import Count, F, Q

from barnstorm.activity.models import Activity
from barnstorm.donations.models import Contribution
from barnstorm.events.models import Rsvp
from barnstorm.lib import seeding
from barnstorm.mailings.models import Delivery, DeliveryStatus, Link, Mailing, MailingStatus, Topic, TopicOptOut
from barnstorm.people.models import EmailAddress, EmailStatus

pytestmark = pytest.mark.django_db

# A fixed "now" in the past: anything dated after it would be made up.
NOW = datetime.datetime(2026, 5, 20, 18, 0, tzinfo=datetime.UTC)
PEOPLE = 300
STEPS = ("people", "donations", "events", "mailings")


def seed_demo(people: int = PEOPLE, seed: int = 2026) -> None:
    context = seeding.SeedContext(people=people, seed=seed, now=NOW, out=io.StringIO())
    for step in seeding.seed_steps():
        if step.name in STEPS:
            step.demo(context)


@pytest.fixture
def demo():
    seed_demo()


def test_mailings_run_after_gifts_and_rsvps_and_before_the_ladder():
    names = [step.name for step in seeding.seed_steps()]

    assert names.index("donations") < names.index("mailings")
    assert names.index("events") < names.index("mailings") < names.index("engagement")


def test_six_sent_mailings_to_saved_segments_one_an_ab_test(demo):
    mailings = Mailing.objects.annotate(variant_count=Count("variants"))

    assert mailings.count() == 6
    assert set(mailings.values_list("status", flat=True)) == {MailingStatus.SENT}
    for mailing in mailings:
        assert mailing.segment_id and mailing.snapshot_id
        assert mailing.recipients == mailing.deliveries.count() > 0
        assert mailing.started_at < mailing.finished_at < NOW
        assert mailing.links.exists()
    ab = mailings.get(variant_count=2)
    assert ab.ab_winner in (0, 1) and ab.ab_decided_at > ab.started_at
    assert set(ab.deliveries.values_list("variant", flat=True)) == {0, 1}
    assert set(Topic.objects.values_list("name", flat=True)) == {"Fundraising", "Events & volunteering"}
    assert mailings.filter(topic__name="Fundraising").count() == 2
    assert mailings.exclude(exclusions=None).exists()


def test_each_person_gets_a_mailing_once_and_only_while_subscribed(demo):
    deliveries = Delivery.objects.all()
    assert deliveries.values("mailing", "person").distinct().count() == deliveries.count()

    status = {
        address: (person_id, state, changed_at)
        for address, person_id, state, changed_at in EmailAddress.objects.filter(is_primary=True).values_list(
            "address", "person_id", "status", "status_changed_at"
        )
    }
    sent = deliveries.filter(status=DeliveryStatus.SENT)
    assert sent.count() > 0.8 * deliveries.count()
    for person_id, address, sent_at in sent.values_list("person_id", "address", "sent_at"):
        owner, state, changed_at = status[address]
        assert owner == person_id
        assert state == EmailStatus.SUBSCRIBED or changed_at > sent_at, (address, state, changed_at, sent_at)
    # Nor after turning the mailing's topic off on the preferences page.
    for opt_out in TopicOptOut.objects.all():
        assert not sent.filter(
            person_id=opt_out.person_id, mailing__topic=opt_out.topic_id, sent_at__gte=opt_out.created_at
        ).exists()


def test_opens_outnumber_clicks_and_each_is_in_the_activity_log(demo):
    sent = Delivery.objects.filter(status=DeliveryStatus.SENT)
    opened, clicked = sent.exclude(opened_at=None), sent.exclude(clicked_at=None)

    assert opened.count() > clicked.count() > 0
    assert 0.15 < opened.count() / sent.count() < 0.4
    assert not clicked.filter(Q(opened_at=None) | Q(opened_at__gt=F("clicked_at"))).exists()
    assert not opened.filter(Q(opened_at__lte=F("sent_at")) | Q(opened_at__gte=NOW)).exists()
    assert Activity.objects.filter(kind="email_opened").count() == opened.count()
    assert Activity.objects.filter(kind="email_clicked").count() == sum(Link.objects.values_list("clicks", flat=True))
    assert Activity.objects.filter(kind="email_clicked").values("person").distinct().count() == (
        clicked.values("person").distinct().count()
    )


def test_bounces_and_unsubscribes_stop_the_address(demo):
    bounced = Delivery.objects.exclude(bounced_at=None)
    assert bounced.exists()
    assert not bounced.exclude(opened_at=None).exists()

    for field, status in [
        ("bounced_at", EmailStatus.BOUNCING),
        ("unsubscribed_at", EmailStatus.UNSUBSCRIBED),
        ("complained_at", EmailStatus.SPAM_COMPLAINT),
    ]:
        for mailing_id, address, when in Delivery.objects.exclude(**{field: None}).values_list(
            "mailing", "address", field
        ):
            email = EmailAddress.objects.get(address=address)
            assert (email.status, email.status_changed_at) == (status, when)
            assert Activity.objects.filter(
                kind="email_status", occurred_at=when, data__address=address, data__mailing=mailing_id
            ).exists()
            # Nothing was sent to it afterwards.
            assert not Delivery.objects.filter(address=address, sent_at__gt=when).exists()


def test_gifts_and_rsvps_after_a_mailing_carry_its_refcode(demo):
    attributed = Contribution.objects.filter(refcode__startswith="mail-")
    assert attributed.exists()

    refcode = re.compile(r"mail-(\d+)-([ab])")
    for gift in attributed:
        mailing_id, letter = refcode.fullmatch(gift.refcode).groups()
        delivery = Delivery.objects.get(mailing_id=mailing_id, person_id=gift.person_id)
        assert Mailing.objects.get(pk=mailing_id).topic.name == "Fundraising"
        assert "ab"[delivery.variant] == letter
        assert delivery.sent_at < delivery.clicked_at < gift.received_at
        donation = Activity.objects.get(kind="donation", data__contribution_id=gift.pk)
        assert donation.data["refcode"] == gift.refcode
    for rsvp in Rsvp.objects.filter(refcode__startswith="mail-"):
        mailing_id, letter = refcode.fullmatch(rsvp.refcode).groups()
        delivery = Delivery.objects.get(mailing_id=mailing_id, person_id=rsvp.person_id)
        assert delivery.sent_at < delivery.clicked_at < rsvp.created_at


def test_the_same_seed_gives_the_same_mailings():
    context = seeding.SeedContext(people=120, seed=5, now=NOW, out=io.StringIO())
    steps = {step.name: step for step in seeding.seed_steps()}
    for name in ("people", "donations", "events"):
        steps[name].demo(context)
    before = {
        "emails": list(EmailAddress.objects.values_list("pk", "status", "status_changed_at")),
        "gifts": list(Contribution.objects.values_list("pk", "refcode")),
        "rsvps": list(Rsvp.objects.values_list("pk", "refcode")),
        "activity": Activity.objects.order_by("-pk").values_list("pk", flat=True).first(),
    }

    def mailings_step():
        steps["mailings"].demo(context)
        deliveries = Delivery.objects.values_list(
            "mailing__name", "person_id", "variant", "status", "sent_at", "opened_at", "clicked_at", "bounced_at"
        )
        gifts = Contribution.objects.filter(refcode__startswith="mail-").values_list("pk", flat=True)
        return sorted(deliveries), sorted(gifts)

    first = mailings_step()
    # Back to the moment before the step: no mailings, every address, gift and RSVP as it was.
    Mailing.objects.all().delete()
    Activity.objects.filter(pk__gt=before["activity"]).delete()
    for pk, status, changed_at in before["emails"]:
        EmailAddress.objects.filter(pk=pk).update(status=status, status_changed_at=changed_at)
    for pk, refcode in before["gifts"]:
        Contribution.objects.filter(pk=pk).update(refcode=refcode)
    for pk, refcode in before["rsvps"]:
        Rsvp.objects.filter(pk=pk).update(refcode=refcode)

    assert mailings_step() == first
    assert first[0]
