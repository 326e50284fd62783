"""What a mailing achieved: message counts per subject, actions attributed by refcode, and hours."""

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from barnstorm.donations.models import Contribution, ContributionStatus
from barnstorm.events.models import Event, EventKind, Rsvp, RsvpStatus
from barnstorm.mailings import selectors, services
from barnstorm.mailings.models import Delivery, Mailing

_keys = itertools.count(1)


def give(person, refcode, cents=2700, status=ContributionStatus.PAID):
    return Contribution.objects.create(
        person=person,
        amount_cents=cents,
        status=status,
        method="card",
        source="web",
        received_at=timezone.now(),
        idempotency_key=f"test-{next(_keys)}",
        refcode=refcode,
    )


@pytest.fixture
def ab_mailing(supporters, make_mailing, organizer):
    """Started, two subjects, everyone in the sample: each of the 12 has variant A or B."""
    mailing = make_mailing(subjects=("First subject", "Second subject"), ab_sample_percent=100)
    services.mailing_start(mailing=mailing, actor=organizer)  # batches not run: on_commit not executed
    mailing.refresh_from_db()
    return mailing


@pytest.fixture
def event(supporters):
    start = timezone.now() + timedelta(days=3)
    return Event.objects.create(
        title="Canvass",
        kind=EventKind.CANVASS,
        host=supporters[14],
        starts_at=start,
        ends_at=start + timedelta(hours=2),
    )


def test_a_gift_with_the_variant_refcode_counts_for_the_mailing_and_for_that_variant(ab_mailing, supporters):
    give(supporters[0], f"mail-{ab_mailing.pk}-a", cents=5000)

    results = selectors.mailing_results(mailing=ab_mailing)

    assert (results.actions.contributions, results.actions.dollars_cents) == (1, 5000)
    a, b = results.variants
    assert (a.letter, a.actions.contributions, a.actions.dollars_cents) == ("A", 1, 5000)
    assert (b.actions.contributions, b.actions.dollars_cents) == (0, 0)
    assert selectors.mailing_dollars_by_variant(mailing=ab_mailing) == {0: 5000, 1: 0}


def test_only_the_mailings_own_refcodes_and_counted_statuses_are_attributed(ab_mailing, supporters):
    other = Mailing.objects.create(
        pk=int(f"{ab_mailing.pk}0"), name="Other", from_name="x", from_address="x@example.com", html_body="x"
    )
    give(supporters[0], ab_mailing.refcode, cents=1000)  # the mailing's own: totals only
    give(supporters[1], f"mail-{ab_mailing.pk}-b", cents=2000, status=ContributionStatus.PARTIALLY_REFUNDED)
    give(supporters[2], f"mail-{ab_mailing.pk}-a", cents=4000, status=ContributionStatus.REFUNDED)
    give(supporters[3], other.refcode, cents=8000)  # mail-<id>0 starts with mail-<id>, but is not ours
    give(supporters[4], f"{ab_mailing.refcode}x", cents=16000)
    give(supporters[5], "", cents=32000)

    results = selectors.mailing_results(mailing=ab_mailing)

    assert (results.actions.contributions, results.actions.dollars_cents) == (2, 3000)
    assert [v.actions.dollars_cents for v in results.variants] == [0, 2000]


def test_rsvps_and_signups_are_attributed_by_the_same_rule(ab_mailing, supporters, event, make_person):
    Rsvp.objects.create(event=event, person=supporters[0], refcode=f"mail-{ab_mailing.pk}-b")
    Rsvp.objects.create(event=event, person=supporters[1], refcode=ab_mailing.refcode)
    Rsvp.objects.create(
        event=event, person=supporters[2], refcode=f"mail-{ab_mailing.pk}-b", status=RsvpStatus.CANCELLED
    )
    Rsvp.objects.create(event=event, person=supporters[3], refcode="mail-999999")
    make_person(email="new@example.com", referral_code=f"mail-{ab_mailing.pk}-a")
    make_person(email="other@example.com", referral_code="newsletter")

    results = selectors.mailing_results(mailing=ab_mailing)

    assert (results.actions.rsvps, results.actions.signups) == (2, 1)
    a, b = results.variants
    assert (a.actions.rsvps, a.actions.signups, a.actions.total) == (0, 1, 1)
    assert (b.actions.rsvps, b.actions.signups, b.actions.total) == (1, 0, 1)


def test_message_counts_come_from_the_delivery_columns_per_variant(ab_mailing):
    now = timezone.now()
    rows = Delivery.objects.filter(mailing=ab_mailing)
    a_rows = list(rows.filter(variant=0).order_by("id").values_list("pk", flat=True))
    b_rows = list(rows.filter(variant=1).order_by("id").values_list("pk", flat=True))
    rows.filter(pk__in=a_rows[:4] + b_rows[:2]).update(status="sent", sent_at=now)
    Delivery.objects.filter(pk__in=a_rows[:3]).update(opened_at=now)
    Delivery.objects.filter(pk__in=a_rows[:1] + b_rows[:1]).update(opened_at=now, clicked_at=now)
    Delivery.objects.filter(pk=a_rows[3]).update(bounced_at=now)
    Delivery.objects.filter(pk=b_rows[1]).update(unsubscribed_at=now, complained_at=now)

    results = selectors.mailing_results(mailing=ab_mailing)

    c = results.counts
    assert (c.recipients, c.sent, c.delivered, c.opens, c.clicks) == (12, 6, 5, 4, 2)
    assert (c.unsubscribes, c.bounces, c.complaints) == (1, 1, 1)
    a, b = results.variants
    assert (a.counts.recipients, a.counts.sent, a.counts.delivered, a.counts.opens, a.counts.clicks) == (
        len(a_rows),
        4,
        3,
        3,
        1,
    )
    assert a.counts.open_percent == 100.0
    assert (b.counts.sent, b.counts.opens, b.counts.unsubscribes, b.counts.complaints) == (2, 1, 1, 1)
    assert results.unassigned.recipients == 0


def test_opens_and_clicks_are_counted_by_hour_from_the_start(ab_mailing):
    started = ab_mailing.started_at.replace(minute=10)
    Mailing.objects.filter(pk=ab_mailing.pk).update(started_at=started)
    ab_mailing.refresh_from_db()
    ids = list(Delivery.objects.filter(mailing=ab_mailing).order_by("id").values_list("pk", flat=True))
    Delivery.objects.filter(pk__in=ids[:2]).update(opened_at=started + timedelta(minutes=5))
    Delivery.objects.filter(pk=ids[2]).update(
        opened_at=started + timedelta(hours=5), clicked_at=started + timedelta(hours=5)
    )
    Delivery.objects.filter(pk=ids[3]).update(opened_at=started + timedelta(hours=60))  # after the 48 hours

    hours = selectors.mailing_hours(mailing=ab_mailing, now=started + timedelta(days=5))

    assert len(hours) == 48
    assert hours[0].start == started.replace(minute=0, second=0, microsecond=0)
    assert (hours[0].opens, hours[0].clicks) == (2, 0)
    assert (hours[5].opens, hours[5].clicks) == (1, 1)
    assert sum(h.opens for h in hours) == 3


def test_the_hours_stop_at_now_while_the_send_is_young(ab_mailing):
    hours = selectors.mailing_hours(mailing=ab_mailing, now=ab_mailing.started_at + timedelta(minutes=90))
    assert 2 <= len(hours) <= 3


def test_links_are_listed_with_their_clicks(ab_mailing):
    ab_mailing.links.filter(index=1).update(clicks=7)

    links = selectors.mailing_results(mailing=ab_mailing).links

    assert [(link.url, link.clicks) for link in links] == [
        ("http://127.0.0.1:8000/donate/main/", 0),
        ("https://news.example.org/story", 7),
    ]


def test_the_list_rows_carry_sent_opens_clicks_and_dollars(ab_mailing, supporters, make_mailing):
    draft = make_mailing(name="Draft")
    now = timezone.now()
    Delivery.objects.filter(mailing=ab_mailing).update(status="sent", sent_at=now)
    Delivery.objects.filter(mailing=ab_mailing, variant=0).update(opened_at=now)
    first = Delivery.objects.filter(mailing=ab_mailing).order_by("id").first()
    Delivery.objects.filter(pk=first.pk).update(clicked_at=now)
    give(supporters[0], f"mail-{ab_mailing.pk}-a", cents=2500)
    give(supporters[1], ab_mailing.refcode, cents=1000)
    give(supporters[2], f"mail-{ab_mailing.pk}0", cents=9900)

    rows = {m.pk: m for m in selectors.mailing_list_rows()}

    opened = Delivery.objects.filter(mailing=ab_mailing, variant=0).count()
    assert (rows[ab_mailing.pk].sent, rows[ab_mailing.pk].opens, rows[ab_mailing.pk].clicks) == (12, opened, 1)
    assert rows[ab_mailing.pk].dollars_cents == 3500
    assert (rows[draft.pk].sent, rows[draft.pk].dollars_cents) == (0, 0)


def test_progress_counts_deliveries_by_status(ab_mailing):
    ids = list(Delivery.objects.filter(mailing=ab_mailing).order_by("id").values_list("pk", flat=True))
    Delivery.objects.filter(pk__in=ids[:3]).update(status="sent")
    Delivery.objects.filter(pk=ids[3]).update(status="suppressed")

    progress = selectors.mailing_progress(mailing=ab_mailing)

    assert (progress.count("sent"), progress.count("suppressed"), progress.count("queued")) == (3, 1, 8)
    assert (progress.total, progress.finished, progress.percent) == (12, 4, 33)
