"""Demo fundraising (`barnstorm seed`): a campaign's history that went through the services."""

import datetime
import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Max, Min, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from barnstorm.activity.models import Activity
from barnstorm.donations.models import (
    CaseAction,
    CaseKind,
    Committee,
    ComplianceCase,
    Contribution,
    DonationPage,
    LineItem,
    PaymentAttempt,
    RecurringPlan,
    Refund,
    SavedPaymentMethod,
    Source,
    TestProcessorCharge,
)
from barnstorm.donations.seed import DAYS, PRIMARY_NIGHT_DAYS_AGO
from barnstorm.lib import seeding
from barnstorm.people.models import Person

pytestmark = pytest.mark.django_db

# A fixed "now" in the past: anything the seed forgot to move back would show up after it.
NOW = datetime.datetime(2026, 5, 20, 18, 0, tzinfo=datetime.UTC)
PEOPLE = 300


def seed_demo(people: int, seed: int = 2026) -> str:
    """The people and donations steps, as `barnstorm seed` runs them, at a fixed moment."""
    out = io.StringIO()
    context = seeding.SeedContext(people=people, seed=seed, now=NOW, out=out)
    for step in seeding.seed_steps():
        if step.name in ("people", "donations"):
            step.demo(context)
    return out.getvalue()


@pytest.fixture
def demo():
    """A small seeded campaign: 300 supporters, about 60 of them donors."""
    seed_demo(PEOPLE)


def _wipe() -> None:
    Refund.objects.all().delete()
    ComplianceCase.objects.all().delete()
    PaymentAttempt.objects.all().delete()
    Contribution.objects.all().delete()
    RecurringPlan.objects.all().delete()
    SavedPaymentMethod.objects.all().delete()
    TestProcessorCharge.objects.all().delete()
    DonationPage.objects.all().delete()
    Committee.objects.all().delete()
    Activity.objects.all().delete()
    Person.objects.all().delete()


def test_the_command_gives_after_the_people_step():
    call_command("seed", "--people", "60", stdout=io.StringIO())

    steps = [step.name for step in seeding.seed_steps()]
    assert steps.index("people") < steps.index("donations")
    assert Contribution.objects.exists()


def test_two_committees_and_three_pages_one_split(demo):
    house, president = Committee.objects.get(fec_id="C00000001"), Committee.objects.get(fec_id="C00000002")
    assert (house.report_form, house.office, president.report_form, president.office) == ("F3", "H", "F3P", "P")
    pages = DonationPage.objects.prefetch_related("recipients")
    assert pages.count() == 3
    assert all(page.suggested_amounts_cents for page in pages)
    split = [[r.share_bp for r in page.recipients.all()] for page in pages if page.recipients.count() == 2]
    assert split == [[5000, 5000]]


def test_a_fifth_of_supporters_give_about_27_dollars_each_time(demo):
    totals = Contribution.objects.aggregate(n=Count("id"), donors=Count("person", distinct=True))

    assert 0.25 * PEOPLE <= totals["n"] <= 0.6 * PEOPLE
    assert 0.1 * PEOPLE <= totals["donors"] <= 0.3 * PEOPLE
    assert Contribution.objects.filter(amount_cents__lte=5000).count() > 0.8 * totals["n"]


def test_every_gift_went_through_the_services(demo):
    contributions = Contribution.objects.count()

    # contribution_record wrote the line items, the donation activity and the donor's match.
    assert LineItem.objects.values("contribution").distinct().count() == contributions
    assert Activity.objects.filter(kind="donation").count() == contributions
    # Card gifts were charged (once) by the test processor through donation_checkout.
    cards = Contribution.objects.filter(source__in=[Source.WEB, Source.RECURRING])
    assert PaymentAttempt.objects.filter(contribution__in=cards).count() == cards.count()
    assert set(cards.values_list("processor", flat=True)) == {"test"}
    charged = set(TestProcessorCharge.objects.values_list("charge_id", flat=True))
    assert set(cards.values_list("charge_id", flat=True)) <= charged
    assert Contribution.objects.filter(source=Source.STAFF, method="check").exclude(check_number="").exists()


def test_recurring_plans_with_their_installments(demo):
    plans = RecurringPlan.objects.annotate(n=Count("contributions"))

    assert plans.filter(frequency="monthly").exists()
    assert plans.filter(n__gte=2).exists()
    assert all(plan.installments == plan.n for plan in plans)
    assert Contribution.objects.filter(source=Source.RECURRING).exists()
    assert not plans.filter(status="active", next_charge_at__lte=NOW).exists()  # nothing left due


def test_compliance_stories_refunds_and_a_charge_back_or_two(demo):
    cases = Counter(ComplianceCase.objects.values_list("kind", "action"))

    assert cases[(CaseKind.OVER_LIMIT, CaseAction.REDESIGNATED)] >= 1
    assert cases[(CaseKind.OVER_LIMIT, CaseAction.REFUND_QUEUED)] >= 1
    assert cases[(CaseKind.OVER_LIMIT, CaseAction.REFUSED)] >= 1
    assert cases[(CaseKind.BEST_EFFORTS, CaseAction.FOLLOW_UP_SENT)] >= 1
    assert Refund.objects.exists()
    refunded = Contribution.objects.filter(refunded_cents__gt=0)
    assert refunded.count() == Refund.objects.values("contribution").distinct().count()


def test_the_history_covers_90_days_with_a_primary_night_rush(demo):
    span = Contribution.objects.aggregate(first=Min("received_at"), last=Max("received_at"))
    assert NOW - datetime.timedelta(days=DAYS) <= span["first"] and span["last"] < NOW

    tz = timezone.get_default_timezone()
    busiest = (
        Contribution.objects.annotate(hour=TruncHour("received_at", tzinfo=tz))
        .values("hour")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    assert busiest["hour"].date() == timezone.localdate(NOW) - datetime.timedelta(days=PRIMARY_NIGHT_DAYS_AGO)
    assert 19 <= busiest["hour"].hour <= 23


def test_what_happened_is_dated_when_it_happened(demo):
    assert not Contribution.objects.filter(created_at__gt=NOW).exists()
    assert not Contribution.objects.exclude(receipt_sent_at=F("received_at")).exists()
    for model in (PaymentAttempt, TestProcessorCharge, RecurringPlan, SavedPaymentMethod, Refund, ComplianceCase):
        assert not model.objects.filter(created_at__gt=NOW).exists(), model.__name__
    assert not Activity.objects.filter(occurred_at__gt=NOW).exists()
    assert not RecurringPlan.objects.filter(ended_at__gt=NOW).exists()
    for refund in Refund.objects.select_related("contribution"):
        assert refund.created_at > refund.contribution.received_at


def test_the_same_seed_gives_the_same_history():
    def history():
        totals = Contribution.objects.aggregate(n=Count("id"), given=Sum("amount_cents"), back=Sum("refunded_cents"))
        return (
            totals,
            sorted(Counter(ComplianceCase.objects.values_list("kind", "action")).items()),
            sorted(RecurringPlan.objects.values_list("amount_cents", "frequency", "installments")),
            sorted(Contribution.objects.values_list("refcode", "amount_cents")),
        )

    seed_demo(150, seed=7)
    first = history()
    _wipe()

    seed_demo(150, seed=7)

    assert history() == first
    assert first[0]["n"] > 0
