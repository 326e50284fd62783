"""The fundraising dashboard: the figures for a known set of gifts, who may see it, and its cost."""

import csv
import datetime
import io
import itertools
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from barnstorm.donations import dashboard
from barnstorm.donations.models import (
    DonationPage,
    Frequency,
    PageRecipient,
    PlanStatus,
    RecurringPlan,
    SavedPaymentMethod,
)
from barnstorm.donations.services import (
    ContributionInput,
    DonorInput,
    Split,
    contribution_record,
    contribution_refund,
)
from barnstorm.lib.charts import Point, axis_step, bar_chart

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")  # the site's TIME_ZONE in the test settings
MARCH = dashboard.span_of_days(first_day=datetime.date(2026, 3, 1), last_day=datetime.date(2026, 3, 31))
_keys = itertools.count(1)


def local(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=NEW_YORK)


def give(committee, name, amount_cents, when, *, splits=None, page=None, refcode="", **extra):
    data = ContributionInput(
        donor=DonorInput(
            given_name=name.title(),
            family_name="Donor",
            email=f"{name}@example.com",
            zip_code="50309",
            employer="Self-employed",
            occupation="Farmer",
        ),
        amount_cents=amount_cents,
        method=extra.pop("method", "card"),
        source=extra.pop("source", "web"),
        splits=splits or [Split(committee.pk, 10000)],
        idempotency_key=f"dashboard-{next(_keys)}",
        received_at=when,
        page_id=page.pk if page else None,
        refcode=refcode,
        attested=True,
        send_receipt=False,
        **extra,
    )
    return contribution_record(data=data).contribution


def plan_for(person, amount_cents, frequency, splits, status=PlanStatus.ACTIVE):
    method = SavedPaymentMethod.objects.create(person=person, processor="test", reference=f"tpm_{next(_keys)}")
    return RecurringPlan.objects.create(
        person=person,
        payment_method=method,
        amount_cents=amount_cents,
        frequency=frequency,
        splits=splits,
        status=status,
        next_charge_at=local(3, 20, month=4),
    )


@pytest.fixture
def split_page(committee, second_committee):
    page = DonationPage.objects.create(slug="split", title="Split the ticket")
    PageRecipient.objects.create(page=page, committee=committee, share_bp=5000, position=0)
    PageRecipient.objects.create(page=page, committee=second_committee, share_bp=5000, position=1)
    return page


@pytest.fixture
def march(committee, second_committee, page, split_page, make_person):
    """Five gifts on March 2 and 3 (a split, a refund, a recurring installment, a repeat donor), and two outside."""
    give(committee, "dana", 5000, local(10, 12, month=2), page=page)  # before March: Dana gives again
    dana = give(committee, "dana", 2700, local(2, 10), page=page, refcode="email_0302")
    # 11:30 pm in Iowa's campaign office is already March 3 in UTC: still March 2 here.
    eli = give(
        committee,
        "eli",
        10000,
        local(2, 23, 30),
        page=split_page,
        refcode="sms_0302",
        splits=[Split(committee.pk, 5000), Split(second_committee.pk, 5000)],
    )
    fay = give(committee, "fay", 1000, local(3, 9, 15), method="check", source="staff", check_number="101")
    gus = give(committee, "gus", 4000, local(3, 12), page=page, refcode="email_0302")
    contribution_refund(contribution=gus, amount_cents=1500, reason="Asked for part back")
    hana = make_person(email="hana@example.com", given_name="Hana", family_name="Donor")
    monthly = plan_for(hana, 2000, Frequency.MONTHLY, [[committee.pk, 10000]])
    give(committee, "hana", 2000, local(3, 20), page=page, source="recurring", recurring_plan_id=monthly.pk)
    plan_for(dana.person, 1000, Frequency.WEEKLY, [[committee.pk, 5000], [second_committee.pk, 5000]])
    plan_for(eli.person, 10000, Frequency.MONTHLY, [[committee.pk, 10000]], status=PlanStatus.CANCELLED)
    give(committee, "ivan", 50000, local(1, 0, 30, month=4), page=page)  # April, in New York
    return {"fay": fay, "gus": gus}


# The figures --------------------------------------------------------------------------------


def test_the_summary_counts_gifts_donors_and_money_net_of_refunds(march):
    summary = dashboard.fundraising_summary(span=MARCH)

    assert summary.contributions == 5
    assert summary.donors == 5
    assert summary.gross_cents == 2700 + 10000 + 1000 + 4000 + 2000
    assert summary.refunded_cents == 1500
    assert summary.net_cents == 18200
    assert summary.recurring_net_cents == 2000
    assert summary.average_cents == 3940
    assert summary.median_cents == 2700


def test_a_donor_who_gave_before_the_range_is_a_repeat_donor(march):
    summary = dashboard.fundraising_summary(span=MARCH)

    assert (summary.new_donors, summary.repeat_donors) == (4, 1)


def test_the_median_of_an_even_number_of_gifts_is_the_mean_of_the_middle_two(march):
    second = dashboard.span_of_days(first_day=datetime.date(2026, 3, 2), last_day=datetime.date(2026, 3, 2))
    third = dashboard.span_of_days(first_day=datetime.date(2026, 3, 3), last_day=datetime.date(2026, 3, 3))

    assert dashboard.fundraising_summary(span=second).median_cents == (2700 + 10000) // 2
    assert dashboard.fundraising_summary(span=third).median_cents == 2000


def test_days_are_the_sites_days_and_every_day_has_a_bucket(march):
    days = dashboard.totals_by_day(span=MARCH)

    assert len(days) == 31
    by_day = {b.start: (b.net_cents, b.contributions) for b in days}
    assert by_day[datetime.date(2026, 3, 2)] == (12700, 2)
    assert by_day[datetime.date(2026, 3, 3)] == (1000 + 2500 + 2000, 3)
    assert sum(b.net_cents for b in days) == 18200


def test_hours_of_a_day_are_local_and_a_daylight_saving_day_has_23(march):
    start, end = dashboard.hours_of(day=datetime.date(2026, 3, 2))
    hours = dashboard.totals_by_hour(start=start, end=end)

    assert len(hours) == 24
    assert hours[10].start == local(2, 10) and hours[10].net_cents == 2700
    assert hours[23].net_cents == 10000
    assert sum(h.net_cents for h in hours) == 12700
    start, end = dashboard.hours_of(day=datetime.date(2026, 3, 8))
    assert len(dashboard.totals_by_hour(start=start, end=end)) == 23


def test_the_hourly_chart_defaults_to_the_last_48_hours(march):
    start, end = dashboard.hours_of(now=local(4, 9, 40))
    hours = dashboard.totals_by_hour(start=start, end=end)

    assert len(hours) == 48
    assert (hours[0].start, hours[-1].start) == (local(2, 10), local(4, 9))
    assert [h.net_cents for h in hours if h.net_cents] == [2700, 10000, 1000, 2500, 2000]


def test_a_split_gift_counts_its_share_for_each_committee(march, committee, second_committee):
    rows = {r.label: (r.net_cents, r.contributions) for r in dashboard.totals_by_committee(span=MARCH)}

    assert rows == {committee.name: (2700 + 5000 + 1000 + 2500 + 2000, 5), second_committee.name: (5000, 1)}


def test_one_committees_dashboard_counts_only_its_share(march, committee, second_committee):
    theirs = dashboard.fundraising_summary(span=MARCH, committee_id=second_committee.pk)
    ours = dashboard.fundraising_summary(span=MARCH, committee_id=committee.pk)

    assert (theirs.gross_cents, theirs.contributions, theirs.donors, theirs.median_cents) == (5000, 1, 1, 5000)
    assert (ours.net_cents, ours.contributions, ours.median_cents, ours.average_cents) == (13200, 5, 2700, 2940)
    assert [d.net_cents for d in dashboard.totals_by_day(span=MARCH, committee_id=second_committee.pk)][1] == 5000


def test_pages_and_refcodes_are_ranked_by_money_raised(march, page, split_page):
    pages = [(r.key, r.net_cents, r.contributions, r.donors) for r in dashboard.totals_by_page(span=MARCH)]
    refcodes = [(r.label, r.net_cents, r.contributions) for r in dashboard.totals_by_refcode(span=MARCH)]

    assert pages == [(split_page.pk, 10000, 1, 1), (page.pk, 2700 + 2500 + 2000, 3, 3), (None, 1000, 1, 1)]
    assert refcodes == [("sms_0302", 10000, 1), ("email_0302", 5200, 2), ("", 3000, 2)]
    assert [r.label for r in dashboard.totals_by_refcode(span=MARCH, top=2)] == ["sms_0302", "email_0302"]


def test_recurring_revenue_is_active_plans_per_month(march, committee, second_committee):
    weekly_per_month = 1000 * 52 / 12

    everything = dashboard.recurring_monthly_revenue()
    assert everything == dashboard.Recurring(active_plans=2, monthly_cents=round(2000 + weekly_per_month))
    assert dashboard.recurring_monthly_revenue(committee_id=second_committee.pk) == dashboard.Recurring(
        active_plans=1, monthly_cents=round(weekly_per_month / 2)
    )
    assert dashboard.recurring_monthly_revenue(committee_id=committee.pk).monthly_cents == round(
        2000 + weekly_per_month / 2
    )


def test_an_empty_range_is_all_zeros(committee):
    summary = dashboard.fundraising_summary(span=MARCH)

    assert (summary.contributions, summary.net_cents, summary.median_cents, summary.average_cents) == (0, 0, 0, 0)
    assert dashboard.totals_by_page(span=MARCH) == []


def test_the_default_range_is_the_last_30_days_including_today():
    span = dashboard.default_span(today=datetime.date(2026, 3, 31))

    assert (span.first_day, span.last_day, span.days) == (datetime.date(2026, 3, 2), datetime.date(2026, 3, 31), 30)
    assert span.start == local(2, 0) and span.end == local(1, 0, month=4)


# The page -----------------------------------------------------------------------------------

MARCH_QUERY = {"start": "2026-03-01", "end": "2026-03-31", "day": "2026-03-02"}


def test_staff_see_the_figures_and_charts(staff_client, march):
    response = staff_client.get(reverse("donations:dashboard"), MARCH_QUERY)

    assert response.status_code == 200
    page = response.content.decode()
    assert "$182" in page  # raised, net of the $15 refund
    assert "$197 given, $15 refunded" in page
    assert "sms_0302" in page and "Split the ticket" in page
    assert page.count("<svg") == 2
    assert "Monday, March 2: $127" in page  # the day's tooltip
    assert "Raised each hour, Monday, March 2, 2026" in page


def test_one_committee_can_be_chosen(staff_client, march, second_committee):
    response = staff_client.get(reverse("donations:dashboard"), {**MARCH_QUERY, "committee": second_committee.pk})

    assert response.context["figures"].summary.net_cents == 5000
    assert response.context["figures"].committee == second_committee


def test_a_bad_range_shows_the_error_and_the_default_range(staff_client, committee):
    response = staff_client.get(reverse("donations:dashboard"), {"start": "2026-03-31", "end": "2026-03-01"})

    assert response.status_code == 200
    assert "The first day must come before the last." in response.content.decode()
    assert response.context["figures"].span == dashboard.default_span()


def test_the_refcode_table_downloads_as_csv(staff_client, march, committee):
    give(committee, "mallory", 100, local(4, 8), refcode="=HYPERLINK(1)")

    response = staff_client.get(reverse("donations:dashboard_refcodes_csv"), MARCH_QUERY)

    assert response["Content-Type"] == "text/csv"
    assert 'filename="refcodes-20260301-20260331.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["refcode", "contributions", "donors", "gross", "refunded", "net"]
    assert rows[1] == ["sms_0302", "1", "1", "100.00", "0.00", "100.00"]
    assert rows[2] == ["email_0302", "2", "2", "67.00", "15.00", "52.00"]
    assert ["'=HYPERLINK(1)", "1", "1", "1.00", "0.00", "1.00"] in rows


@pytest.mark.parametrize("name", ["donations:dashboard", "donations:dashboard_refcodes_csv"])
def test_outsiders_are_refused_and_visitors_sent_to_log_in(client, outsider_client, name):
    assert outsider_client.get(reverse(name)).status_code == 403
    client.logout()
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_page_costs_the_same_queries_for_3_or_30_contributions(staff_client, committee, second_committee, page):
    yesterday = datetime.datetime.now(tz=NEW_YORK) - datetime.timedelta(days=1)
    splits = [Split(committee.pk, 5000), Split(second_committee.pk, 5000)]

    def queries_with(count: int) -> int:
        for i in range(count):
            give(committee, f"donor{next(_keys)}", 1000 + i, yesterday, page=page, refcode=f"email_{i}", splits=splits)
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(reverse("donations:dashboard")).status_code == 200
        return len(queries)

    few = queries_with(3)
    many = queries_with(27)

    assert many == few
    assert few <= 16


# The charts ---------------------------------------------------------------------------------


def test_the_axis_steps_are_round_dollar_amounts():
    assert axis_step(0) == 100
    assert axis_step(12_700) == 5_000  # $127: gridlines every $50
    assert axis_step(1_234_567) == 500_000


def test_a_bar_chart_scales_bars_to_the_axis_and_thins_its_labels():
    points = [Point(f"d{i}", 100 * i, f"Day {i}") for i in range(31)]

    chart = bar_chart(points, title="Raised each day")

    assert [t.label for t in chart.ticks] == ["$0", "$10", "$20", "$30"]
    tallest = chart.bars[30]
    assert tallest.y == chart.plot_top and tallest.tooltip == "Day 30: $30"
    assert chart.bars[0].height == 0 and chart.bars[0].label == "d0"
    assert 4 <= sum(1 for bar in chart.bars if bar.label) <= 16
    assert "the highest is Day 30, $30" in chart.summary
