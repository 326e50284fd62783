"""A campaign's dashboard: every figure matches what was counted by hand on a small campaign."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from barnstorm.field.models import Attempt, TextDirection, TextMessage
from barnstorm.field.selectors_staff import (
    campaign_dashboard,
    campaign_opt_outs,
    campaigns_for_pages,
    volunteer_leaderboard,
)
from barnstorm.field.services import AnswerInput, attempt_record, contacts_lease
from barnstorm.people.models import PhoneNumber
from barnstorm.people.services import phone_sms_opt_out


def _answers(script, support=None, issues=(), notes=""):
    steps = {s.name: s for s in script.steps.all()}
    answers = []
    if support:
        answers.append(
            AnswerInput(step_id=steps["Support"].pk, choice_ids=[steps["Support"].choices.get(label=support).pk])
        )
    if issues:
        choices = [steps["Issues"].choices.get(label=label).pk for label in issues]
        answers.append(AnswerInput(step_id=steps["Issues"].pk, choice_ids=choices))
    if notes:
        answers.append(AnswerInput(step_id=steps["Notes"].pk, text=notes))
    return answers


@pytest.fixture
def worked_campaign(callable_people, make_campaign, make_volunteer, script):
    """Vera holds 5 and calls 3: reached (Strong support; Jobs, Climate; a note), reached (Against;
    Jobs), no answer. Will holds 2 and calls both: reached (Strong support), refused."""
    campaign = make_campaign(max_attempts=3)
    vera, will = make_volunteer("vera"), make_volunteer("will")
    mine = contacts_lease(campaign=campaign, volunteer=vera, count=5).contacts
    theirs = contacts_lease(campaign=campaign, volunteer=will, count=2).contacts
    record = attempt_record
    record(
        contact=mine[0],
        volunteer=vera,
        disposition="reached",
        answers=_answers(script, "Strong support", ("Jobs", "Climate"), "Call back after 6"),
    )
    record(contact=mine[1], volunteer=vera, disposition="reached", answers=_answers(script, "Against", ("Jobs",)))
    record(contact=mine[2], volunteer=vera, disposition="no_answer")
    record(contact=theirs[0], volunteer=will, disposition="reached", answers=_answers(script, "Strong support"))
    record(contact=theirs[1], volunteer=will, disposition="refused")
    return campaign, vera, will


def test_attempts_contacts_and_dispositions(worked_campaign):
    campaign, _, _ = worked_campaign

    dashboard = campaign_dashboard(campaign=campaign)

    assert dashboard.attempts == 5
    c = dashboard.contacts
    # 30 contacts; done: 3 reached + 1 refused; held: Vera's 2 not yet called; the no-answer waits.
    assert (c.total, c.done, c.held, c.waiting, c.reached) == (30, 4, 2, 24, 3)
    assert round(c.done_percent, 2) == 13.33
    counts = {d.value: d.count for d in dashboard.dispositions}
    assert counts == {
        "reached": 3, "no_answer": 1, "left_message": 0, "wrong_number": 0, "refused": 1, "moved": 0,
        "do_not_contact": 0, "not_home": 0,
    }  # fmt: skip


def test_answers_by_response_with_counts_and_shares(worked_campaign):
    campaign, _, _ = worked_campaign

    questions = {q.step.name: q for q in campaign_dashboard(campaign=campaign).questions}

    assert list(questions) == ["Support", "Issues", "Notes"]  # the script's order, no text blocks
    support = questions["Support"]
    assert support.respondents == 3
    assert [(r.label, r.count, round(r.share, 1)) for r in support.responses] == [
        ("Strong support", 2, 66.7), ("Lean support", 0, 0.0), ("Undecided", 0, 0.0), ("Against", 1, 33.3),
    ]  # fmt: skip
    issues = questions["Issues"]  # several answers each: shares of the 2 attempts that answered
    assert issues.respondents == 2
    assert [(r.label, r.count, r.share) for r in issues.responses] == [
        ("Jobs", 2, 100.0), ("Health care", 0, 0.0), ("Climate", 1, 50.0),
    ]  # fmt: skip
    notes = questions["Notes"]
    assert (notes.respondents, notes.responses, notes.recent_texts) == (1, [], ["Call back after 6"])


def test_a_question_nobody_answered_has_no_shares(callable_people, make_campaign):
    campaign = make_campaign()

    support = campaign_dashboard(campaign=campaign).questions[0]

    assert support.respondents == 0
    assert {r.share for r in support.responses} == {None}


def test_per_volunteer_most_attempts_first(worked_campaign):
    campaign, vera, will = worked_campaign

    rows = campaign_dashboard(campaign=campaign).volunteers

    assert [(r.volunteer_id, r.name, r.attempts, r.reached) for r in rows] == [
        (vera.pk, "Vera", 3, 2),
        (will.pk, "Will", 2, 1),
    ]


def test_per_day_from_the_first_attempt_to_today_with_empty_days(worked_campaign):
    campaign, vera, _ = worked_campaign
    first = Attempt.objects.filter(volunteer=vera, disposition="no_answer").get()
    Attempt.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(days=2))
    today = timezone.localdate()

    days = campaign_dashboard(campaign=campaign).days

    assert [(d.day, d.attempts, d.reached) for d in days] == [
        (today - timedelta(days=2), 1, 0),
        (today - timedelta(days=1), 0, 0),
        (today, 4, 3),
    ]


def test_no_attempts_no_days(callable_people, make_campaign):
    assert campaign_dashboard(campaign=make_campaign()).days == []


def test_the_leaderboard_counts_the_last_seven_days_only(worked_campaign, callable_people, make_campaign):
    campaign, vera, will = worked_campaign
    old = Attempt.objects.filter(volunteer=will).order_by("pk")[:1].get()
    Attempt.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))  # Will's reached call

    board = campaign_dashboard(campaign=campaign).leaderboard

    assert [(r.name, r.attempts, r.reached) for r in board] == [("Vera", 3, 2), ("Will", 1, 0)]
    assert [(r.name, r.attempts) for r in volunteer_leaderboard()] == [("Vera", 3), ("Will", 1)]  # all campaigns


def test_the_opt_out_rate_of_a_texting_campaign(callable_people, make_campaign, make_volunteer):
    """Texted: 3 contacts (a failed text doesn't count). Opted out since launch: 1 of them (a
    second opted out before the launch — set by hand, as the launch itself would have left them
    out — and a third was never texted). 1 / 3."""
    campaign = make_campaign(kind="text")
    contacts = list(campaign.contacts.order_by("pk")[:6])
    for contact, status in zip(contacts[:4], ("sent", "delivered", "queued", "failed"), strict=True):
        TextMessage.objects.create(
            campaign=campaign,
            contact=contact,
            person_id=contact.person_id,
            direction=TextDirection.OUT,
            body="Hi!",
            from_number="+15155550100",
            to_number=contact.phone,
            status=status,
        )
    phone_sms_opt_out(number=contacts[0].phone)  # texted, then STOP
    launched = campaign.snapshot.created_at
    PhoneNumber.objects.filter(number=contacts[1].phone).update(sms_opted_out_at=launched - timedelta(minutes=5))
    phone_sms_opt_out(number=contacts[3].phone)  # the text failed: never reached them
    phone_sms_opt_out(number=contacts[5].phone)  # never texted

    opt_outs = campaign_opt_outs(campaign=campaign)

    assert (opt_outs.texted, opt_outs.opted_out) == (3, 1)
    assert round(opt_outs.rate, 1) == 33.3
    assert campaign_dashboard(campaign=campaign).opt_outs == opt_outs


def test_other_kinds_have_no_opt_out_rate_and_none_texted_has_no_rate(callable_people, make_campaign):
    assert campaign_opt_outs(campaign=make_campaign(kind="phone")) is None
    assert campaign_opt_outs(campaign=make_campaign(kind="text")).rate is None


def test_the_dashboard_takes_the_same_queries_however_many_attempts(worked_campaign, make_volunteer):
    campaign, vera, _ = worked_campaign

    def queries():
        page_campaign = campaigns_for_pages().get(pk=campaign.pk)
        with CaptureQueriesContext(connection) as captured:
            campaign_dashboard(campaign=page_campaign)
        return captured

    before = queries()
    for name in ("xavi", "yara"):
        volunteer = make_volunteer(name)
        for contact in contacts_lease(campaign=campaign, volunteer=volunteer, count=5).contacts:
            attempt_record(contact=contact, volunteer=volunteer, disposition="reached")
    after = queries()

    assert len(after) == len(before)
