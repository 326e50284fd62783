"""Reads for the volunteer's side of the field: the campaigns open to join (phone banks, texting,
canvasses) and how many contacts they have left, and the script as it is read to one person on
one call.

Who may see what: any signed-in supporter may join any active campaign; a contact's page is
only ever found among the contacts the volunteer holds (`services.contacts_held`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import phonenumbers
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from barnstorm.field.models import (
    CampaignKind,
    CampaignStatus,
    Choice,
    Contact,
    ContactStatus,
    FieldCampaign,
    Step,
    StepKind,
)
from barnstorm.field.personal import PersonalTextError, personal_context, personal_text
from barnstorm.field.services import AnswerInput

# Above this many contacts left a page says "plenty": counting a million rows to print a number
# nobody needs would make the list of phone banks as slow as the biggest campaign.
PLENTY = 1000


def _with_remaining(campaigns: QuerySet[FieldCampaign]) -> QuerySet[FieldCampaign]:
    """Annotate `remaining`: contacts not done yet, exact up to PLENTY, None ("plenty") above.

    The probe reads at most PLENTY + 1 index entries; the exact count runs only when the probe
    found fewer, so both stay cheap on the campaign's (campaign, status, id) index.
    """
    left = Contact.objects.filter(
        campaign=OuterRef("pk"), status__in=(ContactStatus.AVAILABLE, ContactStatus.LEASED)
    ).order_by()
    plenty = Exists(left.values("pk")[PLENTY : PLENTY + 1])
    # A grouped count of no rows is no row (NULL), not 0.
    exact = Coalesce(Subquery(left.values("campaign").annotate(n=Count("pk")).values("n")), Value(0))
    return campaigns.annotate(
        remaining=Case(When(plenty, then=Value(None)), default=exact, output_field=IntegerField())
    )


def phone_banks_visible() -> QuerySet[FieldCampaign]:
    """The phone banks a volunteer may open: every one that has been launched."""
    return FieldCampaign.objects.filter(kind=CampaignKind.PHONE).exclude(status=CampaignStatus.DRAFT)


def phone_banks_open() -> QuerySet[FieldCampaign]:
    """The phone banks taking callers now, newest first, with their event and contacts left."""
    campaigns = phone_banks_visible().filter(status=CampaignStatus.ACTIVE).select_related("event")
    return _with_remaining(campaigns).order_by("-created_at", "-pk")


# The volunteers' home lists the kinds in this order, each under its own heading.
KINDS_LISTED = (CampaignKind.PHONE, CampaignKind.TEXT, CampaignKind.CANVASS)


def campaigns_open_by_kind() -> list[tuple[CampaignKind, list[FieldCampaign]]]:
    """Every campaign taking volunteers now, grouped by kind in KINDS_LISTED order (a kind with
    none has an empty list), newest first, with their event and contacts left: one query."""
    campaigns = FieldCampaign.objects.filter(status=CampaignStatus.ACTIVE, kind__in=KINDS_LISTED)
    rows = list(_with_remaining(campaigns.select_related("event")).order_by("-created_at", "-pk"))
    return [(kind, [campaign for campaign in rows if campaign.kind == kind]) for kind in KINDS_LISTED]


def phone_bank_with_remaining(campaign_id: int) -> QuerySet[FieldCampaign]:
    """One phone bank (as a queryset, for get_object_or_404) with its event and contacts left."""
    return _with_remaining(phone_banks_visible().filter(pk=campaign_id).select_related("event"))


def phone_banks_for_event(event) -> list[FieldCampaign]:
    """The phone banks of one event (a virtual phone bank party) that are taking callers now."""
    return list(phone_banks_open().filter(event_id=event.pk))


def phone_display(number: str) -> str:
    """A number as people read it aloud: national format at home, international otherwise."""
    try:
        parsed = phonenumbers.parse(number, "US")
    except phonenumbers.NumberParseException:
        return number
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if parsed.country_code == 1
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, style)


# The script ------------------------------------------------------------------------------------


# Personalisation is Django's template language over plain dicts of strings: `{{ person.given_name }}`,
# filters such as `|default:"there"`. No loaders and no tag libraries, so a script can't include a
# template or reach anything but the strings it is given.
def script_text_render(text: str, context: dict) -> str:
    """A step's text for this call, as plain text (the page escapes it). A broken tag in a
    script shows the text as written: it must never stop a volunteer's call."""
    try:
        return personal_text(text, context)
    except PersonalTextError:  # an organizer's typo, not a server error
        return text


@dataclass
class ScriptLine:
    step: Step
    text: str  # personalised, plain text
    # What the volunteer had entered, when the page comes back with an error.
    picked: Collection[int] = ()
    answer: str = ""

    @property
    def choices(self) -> list[Choice]:
        return list(self.step.choices.all())


def script_steps(script_id: int) -> list[Step]:
    """The steps of a script in order, with their choices (two queries)."""
    return list(Step.objects.filter(script_id=script_id).order_by("position").prefetch_related("choices"))


def script_lines(
    steps: list[Step],
    *,
    person,
    volunteer,
    picked: dict[int, list[int]] | None = None,
    texts: dict[int, str] | None = None,
) -> list[ScriptLine]:
    """The script as read to `person`: each step's text personalised, with any answers given."""
    context = personal_context(person=person, volunteer=volunteer)
    picked, texts = picked or {}, texts or {}
    return [
        ScriptLine(
            step=step,
            text=script_text_render(step.text, context),
            picked=set(picked.get(step.pk, ())),
            answer=texts.get(step.pk, ""),
        )
        for step in steps
    ]


def answers_posted(post, steps: list[Step], prefix: str) -> tuple[dict[int, list[int]], dict[int, str]]:
    """The choices picked (`<prefix><step id>` = choice ids) and free answers (= text) of a posted
    form: the caller page, a door of the walk list and a texting conversation name theirs apart."""
    picked: dict[int, list[int]] = {}
    texts: dict[int, str] = {}
    for step in steps:
        name = f"{prefix}{step.pk}"
        if step.kind == StepKind.FREE:
            texts[step.pk] = post.get(name, "")
        elif step.is_question:
            picked[step.pk] = list(dict.fromkeys(int(v) for v in post.getlist(name) if v.isdigit()))
    return picked, texts


def answers_from_form(steps: list[Step], picked: dict[int, list[int]], texts: dict[int, str]) -> list[AnswerInput]:
    """What the page sent, as answers to record (services.attempt_record drops those to steps
    a chosen `goto` skipped)."""
    answers = []
    for step in steps:
        if not step.is_question:
            continue
        if step.kind == StepKind.FREE:
            if texts.get(step.pk, "").strip():
                answers.append(AnswerInput(step_id=step.pk, text=texts[step.pk]))
        elif picked.get(step.pk):
            answers.append(AnswerInput(step_id=step.pk, choice_ids=list(picked[step.pk])))
    return answers
