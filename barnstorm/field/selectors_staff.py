"""Reads for the organizers' field pages: the campaign and script lists, who holds which contacts,
and each campaign's dashboard. Every figure is counted in the database, in a fixed number of
queries however many rows there are.

Definitions the dashboard uses:

- A contact is *held* while it is leased and its lease hasn't ended (an ended lease is going back
  to the pool, whether or not `contacts_expire_leases` has run yet).
- An attempt *reached* someone when its disposition is "reached"; *contacts reached* counts
  distinct contacts with such an attempt.
- Answers are counted per attempt: a response's *share* is the attempts that gave it out of the
  attempts that answered the question (for several-answer questions shares add up past 100%).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from barnstorm.field.models import (
    Answer,
    Attempt,
    CampaignKind,
    CampaignStatus,
    Contact,
    ContactStatus,
    Disposition,
    FieldCampaign,
    Script,
    SendingNumber,
    Step,
    StepKind,
    TextDirection,
    TextMessage,
)
from barnstorm.people.models import PhoneNumber

RUNNING = (CampaignStatus.ACTIVE, CampaignStatus.PAUSED)
LEADERBOARD_DAYS = 7
LEADERBOARD_SIZE = 10
MAX_DAYS = 90  # of the per-day chart
RECENT_FREE_TEXT = 5


def _count(queryset: QuerySet, link: str = "campaign") -> Coalesce:
    """COUNT of `queryset`'s rows whose `link` is the outer row: a subquery per column, no joins
    that multiply each other."""
    rows = queryset.filter(**{link: OuterRef("pk")}).order_by().values(link).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(rows), 0, output_field=IntegerField())


# Campaigns ------------------------------------------------------------------------------------------


def campaign_list_rows(*, now: datetime | None = None) -> QuerySet[FieldCampaign]:
    """Every campaign, newest first, with its contacts (total, done, held) and attempts: one query."""
    now = now or timezone.now()
    return (
        FieldCampaign.objects.select_related("script", "segment")
        .defer("initial_message", "segment__query", "segment__description")
        .annotate(
            contacts_total=_count(Contact.objects.all()),
            contacts_done=_count(Contact.objects.filter(status=ContactStatus.DONE)),
            contacts_held=_count(Contact.objects.filter(status=ContactStatus.LEASED, leased_until__gt=now)),
            attempt_count=_count(Attempt.objects.all()),
        )
        .order_by("-created_at", "-pk")
    )


def campaigns_for_pages() -> QuerySet[FieldCampaign]:
    """Campaigns with what their pages show alongside them."""
    return FieldCampaign.objects.select_related("script", "segment", "event", "snapshot", "created_by")


def campaign_launched_at(*, campaign: FieldCampaign) -> datetime | None:
    """When the campaign took its contacts: the moment of its snapshot of the target."""
    return campaign.snapshot.created_at if campaign.snapshot_id else None


def sending_numbers_with_campaigns() -> list[SendingNumber]:
    return list(SendingNumber.objects.prefetch_related("campaigns").order_by("number"))


# Scripts --------------------------------------------------------------------------------------------


def script_list_rows() -> QuerySet[Script]:
    """Every script with its steps, questions, campaigns and running campaigns: one query."""
    return (
        Script.objects.select_related("created_by")
        .annotate(
            step_count=_count(Step.objects.all(), "script"),
            question_count=_count(Step.objects.exclude(kind=StepKind.TEXT), "script"),
            campaign_count=_count(FieldCampaign.objects.all(), "script"),
            running_count=_count(FieldCampaign.objects.filter(status__in=RUNNING), "script"),
        )
        .order_by("name", "pk")
    )


def script_steps(*, script: Script) -> list[Step]:
    """The steps in order, each with its choices (and where they jump): two queries."""
    return list(script.steps.prefetch_related("choices__goto").order_by("position"))


def script_running_campaign(*, script: Script) -> FieldCampaign | None:
    """A campaign running (or paused, to run again) on the script: while there is one, volunteers
    may have the script open, so its steps stay."""
    return script.campaigns.filter(status__in=RUNNING).order_by("-created_at").first()


# Who holds what -------------------------------------------------------------------------------------


@dataclass
class Holder:
    volunteer: object  # the User
    contacts: list[Contact] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.contacts)

    @property
    def name(self) -> str:
        return volunteer_name(self.volunteer)

    @property
    def first_lease_end(self) -> datetime | None:
        """The soonest any of their leases ends: the oldest batch they hold."""
        return min((c.leased_until for c in self.contacts), default=None)


def campaign_holders(*, campaign: FieldCampaign, now: datetime | None = None) -> list[Holder]:
    """The volunteers holding contacts of the campaign now, with those contacts: one query."""
    now = now or timezone.now()
    held = (
        Contact.objects.filter(
            campaign=campaign, status=ContactStatus.LEASED, leased_until__gt=now, leased_to__isnull=False
        )
        .select_related("person", "leased_to__person")
        .order_by("leased_to__username", "leased_until", "id")
    )
    holders: dict[int, Holder] = {}
    for contact in held:
        holders.setdefault(contact.leased_to_id, Holder(volunteer=contact.leased_to)).contacts.append(contact)
    return list(holders.values())


def held_contact_ids(*, campaign: FieldCampaign, volunteer_ids, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(
        Contact.objects.filter(
            campaign=campaign, status=ContactStatus.LEASED, leased_until__gt=now, leased_to_id__in=list(volunteer_ids)
        ).values_list("pk", flat=True)
    )


def volunteer_matches(*, who: str) -> list:
    """Active accounts whose username is `who` or, failing that, whose email is (case ignored).
    More than one means the email is ambiguous: ask for the username."""
    who = who.strip()
    if not who:
        return []
    users = get_user_model().objects.filter(is_active=True)
    by_name = list(users.filter(username__iexact=who)[:1])
    return by_name or list(users.filter(email__iexact=who).order_by("pk")[:2])


# The dashboard --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactCounts:
    total: int
    waiting: int  # available now or later (retry wait), and leases that have run out
    held: int
    done: int
    reached: int

    @property
    def done_percent(self) -> float | None:
        return 100 * self.done / self.total if self.total else None


@dataclass(frozen=True)
class DispositionCount:
    value: str
    label: str
    count: int


@dataclass(frozen=True)
class ResponseCount:
    label: str
    count: int
    share: float | None  # percent of the attempts that answered the question


@dataclass(frozen=True)
class QuestionResult:
    step: Step
    respondents: int  # attempts with an answer to it
    responses: list[ResponseCount]  # one per choice, in the script's order (empty for free text)
    recent_texts: list[str]  # free text: the latest few


@dataclass(frozen=True)
class VolunteerCount:
    volunteer_id: int | None
    name: str
    attempts: int
    reached: int


@dataclass(frozen=True)
class DayCount:
    day: date
    attempts: int
    reached: int


@dataclass(frozen=True)
class OptOuts:
    texted: int
    opted_out: int

    @property
    def rate(self) -> float | None:
        """Percent of the contacts texted."""
        return 100 * self.opted_out / self.texted if self.texted else None


@dataclass(frozen=True)
class Dashboard:
    contacts: ContactCounts
    attempts: int
    dispositions: list[DispositionCount]
    questions: list[QuestionResult]
    volunteers: list[VolunteerCount]
    days: list[DayCount]
    leaderboard: list[VolunteerCount]
    opt_outs: OptOuts | None  # texting campaigns only


REACHED = Q(disposition=Disposition.REACHED)


def _contact_counts(campaign: FieldCampaign, now: datetime) -> ContactCounts:
    held = Q(status=ContactStatus.LEASED, leased_until__gt=now)
    counts = Contact.objects.filter(campaign=campaign).aggregate(
        total=Count("pk"),
        held=Count("pk", filter=held),
        done=Count("pk", filter=Q(status=ContactStatus.DONE)),
    )
    reached = (
        Attempt.objects.filter(campaign=campaign).filter(REACHED).aggregate(n=Count("contact", distinct=True))["n"]
    )
    return ContactCounts(
        total=counts["total"],
        waiting=counts["total"] - counts["held"] - counts["done"],
        held=counts["held"],
        done=counts["done"],
        reached=reached,
    )


def _dispositions(campaign: FieldCampaign) -> list[DispositionCount]:
    counts = dict(
        Attempt.objects.filter(campaign=campaign)
        .order_by()
        .values("disposition")
        .annotate(n=Count("pk"))
        .values_list("disposition", "n")
    )
    return [DispositionCount(d.value, str(d.label), counts.get(d.value, 0)) for d in Disposition]


def _questions(campaign: FieldCampaign) -> list[QuestionResult]:
    """Each question of the script with its responses: three queries, and one per free-text question."""
    steps = list(campaign.script.steps.exclude(kind=StepKind.TEXT).prefetch_related("choices").order_by("position"))
    answers = Answer.objects.filter(attempt__campaign=campaign).order_by()
    per_choice = dict(
        (choice_id, n)
        for choice_id, n in answers.filter(choice__isnull=False)
        .values("choice_id")
        .annotate(n=Count("pk"))
        .values_list("choice_id", "n")
    )
    respondents = dict(
        answers.values("step_id").annotate(n=Count("attempt_id", distinct=True)).values_list("step_id", "n")
    )
    results = []
    for step in steps:
        answered = respondents.get(step.pk, 0)
        responses = [
            ResponseCount(
                label=choice.label,
                count=per_choice.get(choice.pk, 0),
                share=100 * per_choice.get(choice.pk, 0) / answered if answered else None,
            )
            for choice in step.choices.all()
        ]
        recent = []
        if step.kind == StepKind.FREE and answered:
            recent = list(
                answers.filter(step=step)
                .order_by("-attempt__created_at", "-pk")
                .values_list("text", flat=True)[:RECENT_FREE_TEXT]
            )
        results.append(QuestionResult(step=step, respondents=answered, responses=responses, recent_texts=recent))
    return results


NAME_PARTS = ("first_name", "last_name", "person__given_name", "person__family_name", "username")


def _name(parts: dict) -> str:
    """The account's name, else its person's, else the username."""
    for first, last in (("first_name", "last_name"), ("person__given_name", "person__family_name")):
        full = " ".join(p for p in (parts.get(first), parts.get(last)) if p)
        if full:
            return full
    return parts.get("username") or "—"


def volunteer_name(user) -> str:
    person = getattr(user, "person", None)
    return _name(
        {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "person__given_name": person.given_name if person else "",
            "person__family_name": person.family_name if person else "",
            "username": user.get_username(),
        }
    )


def _volunteer_name(row: dict) -> str:
    if row["volunteer"] is None:
        return "—"
    return _name({part: row[f"volunteer__{part}"] for part in NAME_PARTS})


def _per_volunteer(attempts: QuerySet[Attempt], limit: int | None = None) -> list[VolunteerCount]:
    rows = (
        attempts.order_by()
        .values("volunteer", *(f"volunteer__{part}" for part in NAME_PARTS))
        .annotate(attempt_count=Count("pk"), reached=Count("pk", filter=REACHED))
        .order_by("-attempt_count", "-reached", "volunteer__username")
    )
    if limit is not None:
        rows = rows[:limit]
    return [VolunteerCount(r["volunteer"], _volunteer_name(r), r["attempt_count"], r["reached"]) for r in rows]


def volunteer_leaderboard(
    *, campaign: FieldCampaign | None = None, now: datetime | None = None, days: int = LEADERBOARD_DAYS
) -> list[VolunteerCount]:
    """The volunteers with the most attempts in the last `days` days (of one campaign, or all),
    with how many of them reached someone. Staff only: volunteers don't see each other's counts."""
    now = now or timezone.now()
    attempts = Attempt.objects.filter(created_at__gt=now - timedelta(days=days), volunteer__isnull=False)
    if campaign is not None:
        attempts = attempts.filter(campaign=campaign)
    return _per_volunteer(attempts, limit=LEADERBOARD_SIZE)


def _per_day(campaign: FieldCampaign, now: datetime) -> list[DayCount]:
    """Attempts and reached per local day, from the first attempt to today while the campaign runs
    (to the last attempt once it has stopped), the last MAX_DAYS days at most; days without any are 0."""
    zone = timezone.get_current_timezone()
    counts = {
        row["day"]: row
        for row in Attempt.objects.filter(campaign=campaign)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .order_by()
        .values("day")
        .annotate(attempts=Count("pk"), reached=Count("pk", filter=REACHED))
    }
    if not counts:
        return []
    last = timezone.localtime(now, zone).date() if campaign.status in RUNNING else max(counts)
    last = max(last, max(counts))
    first = max(min(counts), last - timedelta(days=MAX_DAYS - 1))
    days = []
    day = first
    while day <= last:
        row = counts.get(day)
        days.append(DayCount(day, row["attempts"] if row else 0, row["reached"] if row else 0))
        day += timedelta(days=1)
    return days


def campaign_opt_outs(*, campaign: FieldCampaign) -> OptOuts | None:
    """The opt-out rate of a texting campaign (None for the other kinds).

    - Texted: the campaign's contacts that were sent at least one text (an outgoing TextMessage
      of the contact that did not fail).
    - Opted out: of those, the ones whose number texted (the contact's phone, on the contact's
      person) has `sms_opted_out_at` at or after the campaign launched (`campaign_launched_at`).
      Opt-outs are recorded by people.services.phone_sms_opt_out, which marks the number on
      everyone who has it, so a STOP to another campaign's text in the same period counts too.
    - Rate: opted out ÷ texted.
    """
    if campaign.kind != CampaignKind.TEXT:
        return None
    launched_at = campaign_launched_at(campaign=campaign)
    sent = TextMessage.objects.filter(contact=OuterRef("pk"), direction=TextDirection.OUT).exclude(status="failed")
    texted = Contact.objects.filter(Exists(sent), campaign=campaign)
    opted_out = 0
    counts = texted.aggregate(n=Count("pk"))
    if launched_at is not None:
        stopped = PhoneNumber.objects.filter(
            person_id=OuterRef("person_id"), number=OuterRef("phone"), sms_opted_out_at__gte=launched_at
        )
        opted_out = texted.filter(Exists(stopped)).count()
    return OptOuts(texted=counts["n"], opted_out=opted_out)


def campaign_dashboard(*, campaign: FieldCampaign, now: datetime | None = None) -> Dashboard:
    """Everything the campaign's dashboard shows, in a handful of queries (plus one per free-text
    question)."""
    now = now or timezone.now()
    attempts = Attempt.objects.filter(campaign=campaign)
    return Dashboard(
        contacts=_contact_counts(campaign, now),
        attempts=attempts.count(),
        dispositions=_dispositions(campaign),
        questions=_questions(campaign),
        volunteers=_per_volunteer(attempts),
        days=_per_day(campaign, now),
        leaderboard=volunteer_leaderboard(campaign=campaign, now=now),
        opt_outs=campaign_opt_outs(campaign=campaign),
    )
