"""Organizers' writes for field campaigns that the core services don't have: saving a script with
its steps, choices and branching; saving a campaign with its sending numbers and canned
responses; starting, pausing, resuming and closing it; reassigning contacts within a campaign.

Every rule about what a script or campaign may be lives here, once: the staff forms only parse
input and show these errors on the fields they name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from barnstorm.field import services
from barnstorm.field.models import (
    Answer,
    CampaignKind,
    CampaignStatus,
    CannedResponse,
    Choice,
    Contact,
    ContactStatus,
    FieldCampaign,
    Script,
    SendingNumber,
    Step,
    StepKind,
)
from barnstorm.field.personal import personal_text_error
from barnstorm.field.selectors_staff import script_running_campaign
from barnstorm.people.normalize import normalize_phone

# Scripts ---------------------------------------------------------------------------------------

CHOICE_KINDS = (StepKind.SINGLE, StepKind.MULTIPLE)
# Steps are moved out of the way here while a script is renumbered (positions are unique).
_PARKING = 16000


@dataclass
class ChoiceInput:
    label: str
    id: int | None = None  # an existing choice: kept (its answers stay attached), relabelled
    goto: int | None = None  # the index, in the steps given, of the step this answer jumps to


@dataclass
class StepInput:
    kind: str
    text: str
    name: str = ""
    id: int | None = None  # an existing step of the script
    choices: list[ChoiceInput] = field(default_factory=list)


def step_error_key(index: int) -> str:
    """The key of a step's errors: `step-<index in the steps given>`."""
    return f"step-{index}"


def _steps_check(steps: list[StepInput]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for index, step in enumerate(steps):
        problems = []
        if step.kind not in StepKind.values:
            problems.append(_("Choose what kind of step this is."))
        if not step.text.strip():
            problems.append(_("Write what the volunteer reads or asks."))
        if step.kind in StepKind.values and step.kind != StepKind.TEXT and not step.name.strip():
            problems.append(_("Give the question a short name: results and segments show it."))
        labels = [c.label.strip() for c in step.choices]
        if not all(labels):
            problems.append(_("Every answer needs a label."))
        if step.kind in CHOICE_KINDS:
            if len(labels) < 2:
                problems.append(_("A question with answers to pick needs at least two answers."))
            duplicates = sorted({label for label in labels if [x.lower() for x in labels].count(label.lower()) > 1})
            if duplicates:
                problems.append(_("Two answers are both “%(label)s”.") % {"label": duplicates[0]})
        elif labels:
            problems.append(_("A text block or free-text question has no answers to pick: clear them."))
        for choice in step.choices:
            if choice.goto is not None and not (index < choice.goto < len(steps)):
                problems.append(
                    _("“%(label)s” must go to a later step of this script.") % {"label": choice.label.strip()}
                )
        if problems:
            errors[step_error_key(index)] = problems
    return errors


def script_save(*, name: str, steps: list[StepInput], actor, script: Script | None = None) -> Script:
    """Create or change a script: its name and its steps in the order given, with their choices
    and branching. Steps and choices given with an id are changed in place (their answers stay
    with them); those left out are deleted.

    Refused: a question without a short name, a question to pick from with fewer than two
    answers, a jump to the same or an earlier step, removing steps while a campaign is running on
    the script (volunteers may have it open), and removing a step or an answer already given.
    """
    errors = _steps_check(steps)
    if not name.strip():
        errors["name"] = [_("Give the script a name.")]
    if not steps:
        errors.setdefault("__all__", []).append(_("Add at least one step."))
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        if script is None:
            script = Script.objects.create(name=name.strip()[:200], created_by=actor)
            existing: dict[int, Step] = {}
        else:
            script = Script.objects.select_for_update().get(pk=script.pk)
            existing = {s.pk: s for s in script.steps.prefetch_related("choices")}
        _removals_check(script, existing, steps)

        if script.name != name.strip():
            script.name = name.strip()[:200]
            script.save(update_fields=["name"])
        kept = {s.id for s in steps if s.id is not None}
        Step.objects.filter(script=script).exclude(pk__in=kept).delete()
        # Out of the way of the final positions, still distinct, before each step takes its own.
        Step.objects.filter(pk__in=kept).update(position=F("position") + _PARKING)

        saved: list[Step] = []
        for position, given in enumerate(steps):
            values = {"position": position, "kind": given.kind, "name": given.name.strip(), "text": given.text.strip()}
            if given.id is None:
                step = Step.objects.create(script=script, **values)
            else:
                step = existing[given.id]
                for attribute, value in values.items():
                    setattr(step, attribute, value)
                step.save(update_fields=list(values))
            saved.append(step)

        for step, given in zip(saved, steps, strict=True):
            old = {c.pk: c for c in step.choices.all()} if given.id is not None else {}
            keep = {c.id for c in given.choices if c.id is not None}
            Choice.objects.filter(step=step).exclude(pk__in=keep).delete()
            for position, choice_input in enumerate(given.choices):
                goto = saved[choice_input.goto] if choice_input.goto is not None else None
                values = {"position": position, "label": choice_input.label.strip()[:200], "goto": goto}
                if choice_input.id is None:
                    Choice.objects.create(step=step, **values)
                else:
                    choice = old[choice_input.id]
                    for attribute, value in values.items():
                        setattr(choice, attribute, value)
                    choice.save(update_fields=list(values))
    return script


def _removals_check(script: Script, existing: dict[int, Step], steps: list[StepInput]) -> None:
    """Refuse ids that are not the script's own, and removals the answers or a running campaign forbid."""
    errors: dict[str, list[str]] = {}
    seen: set[int] = set()
    for index, given in enumerate(steps):
        if given.id is not None and given.id in seen:
            errors[step_error_key(index)] = [_("This step is given twice: reload the page.")]
            continue
        if given.id is not None:
            seen.add(given.id)
        if given.id is not None and given.id not in existing:
            errors[step_error_key(index)] = [_("This step is not part of the script any more: reload the page.")]
            continue
        old_choices = {c.pk for c in existing[given.id].choices.all()} if given.id is not None else set()
        if any(c.id is not None and c.id not in old_choices for c in given.choices):
            errors[step_error_key(index)] = [_("An answer here is not part of this step any more: reload the page.")]
    if errors:
        raise ValidationError(errors)

    for index, given in enumerate(steps):
        was = existing.get(given.id) if given.id is not None else None
        if was is not None and was.is_question and given.kind == StepKind.TEXT and was.answers.exists():
            errors[step_error_key(index)] = [_("This question has answers already: it can't become a text block.")]
    if errors:
        raise ValidationError(errors)

    kept_steps = {s.id for s in steps if s.id is not None}
    removed_steps = set(existing) - kept_steps
    if removed_steps:
        running = script_running_campaign(script=script)
        if running is not None:
            raise ValidationError(
                _(
                    "Steps can't be removed while “%(campaign)s” is %(status)s on this script: volunteers may "
                    "have it open, and their answers would have nowhere to go. Close the campaign first, or "
                    "make a new script."
                )
                % {"campaign": running.name, "status": running.get_status_display().lower()}
            )
        answered = (
            Step.objects.filter(pk__in=removed_steps, answers__isnull=False).order_by("position").distinct().first()
        )
        if answered is not None:
            raise ValidationError(
                _("“%(step)s” already has answers, so it can't be removed.") % {"step": answered},
            )
    kept_choices = {c.id for s in steps for c in s.choices if c.id is not None}
    removed_choices = {c.pk for pk in kept_steps for c in existing[pk].choices.all()} - kept_choices
    answered_choice = Answer.objects.filter(choice_id__in=removed_choices).select_related("choice").first()
    if answered_choice is not None:
        raise ValidationError(
            _("The answer “%(choice)s” has been given already, so it can't be removed (rename it instead).")
            % {"choice": answered_choice.choice}
        )


# Campaigns ---------------------------------------------------------------------------------------

CAMPAIGN_FIELDS = [
    "name", "kind", "description", "script", "segment", "event",
    "batch_size", "lease_minutes", "retry_hours", "max_attempts", "initial_message",
]  # fmt: skip
# Fixed once contacts have been taken: they were picked for this kind, script and target.
FIXED_AFTER_LAUNCH = ("kind", "script", "segment")
LIMITS = {
    "batch_size": (1, 100),  # contacts_lease never hands out more than 100 at once
    "lease_minutes": (5, 24 * 60),
    "retry_hours": (0, 24 * 30),
    "max_attempts": (1, 20),
}


@dataclass
class CannedInput:
    title: str
    body: str
    id: int | None = None


def _campaign_check(fields: dict) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not str(fields.get("name") or "").strip():
        errors["name"] = [_("Give the campaign a name.")]
    if fields.get("kind") not in CampaignKind.values:
        errors["kind"] = [_("Choose a phone bank, texting or a canvass.")]
    if fields.get("script") is None:
        errors["script"] = [_("Choose the script volunteers follow.")]
    for name, (low, high) in LIMITS.items():
        value = fields.get(name)
        if value is None or not low <= value <= high:
            errors[name] = [_("Between %(low)s and %(high)s.") % {"low": low, "high": high}]
    error = personal_text_error(fields.get("initial_message") or "")
    if error:
        errors["initial_message"] = [_("The first text doesn't read as a template: %(error)s") % {"error": error}]
    return errors


def _fixed_check(campaign: FieldCampaign, fields: dict) -> dict[str, list[str]]:
    """After launch, the kind, script and target stay as they were."""
    if campaign.status == CampaignStatus.DRAFT:
        return {}
    now = {"kind": campaign.kind, "script": campaign.script_id, "segment": campaign.segment_id}
    return {
        name: [_("It can't change once the campaign has been launched.")]
        for name in FIXED_AFTER_LAUNCH
        if now[name] != getattr(fields.get(name), "pk", fields.get(name))
    }


def _value(campaign: FieldCampaign, name: str):
    try:
        return getattr(campaign, name)
    except ObjectDoesNotExist:  # a relation a new campaign doesn't have yet
        return None


def campaign_save(
    *,
    fields: dict,
    actor,
    campaign: FieldCampaign | None = None,
    sending_numbers: list[SendingNumber] | None = None,
    canned_responses: list[CannedInput] | None = None,
) -> FieldCampaign:
    """Create or change a campaign: its settings (CAMPAIGN_FIELDS), the numbers it texts from and
    its canned responses (those left out are deleted). The kind, script and target are fixed once
    it has launched. `None` for the numbers or responses leaves them as they are."""
    errors = _campaign_check(fields)
    canned = [c for c in canned_responses or () if c.title.strip() or c.body.strip()]
    if any(not (c.title.strip() and c.body.strip()) for c in canned):
        errors["canned_responses"] = [_("Each canned response needs a title and a text.")]
    for c in canned:
        error = personal_text_error(c.body)
        if error:
            errors.setdefault("canned_responses", []).append(
                _("“%(title)s” doesn't read as a template: %(error)s") % {"title": c.title, "error": error}
            )
    if errors:
        raise ValidationError(errors)
    # A field left out keeps the campaign's value (or, for a new one, the model's default).
    current = campaign or FieldCampaign()
    values = {name: fields[name] if name in fields else _value(current, name) for name in CAMPAIGN_FIELDS}
    values["name"] = values["name"].strip()
    with transaction.atomic():
        if campaign is None:
            campaign = FieldCampaign.objects.create(**values, created_by=actor)
        else:
            campaign = FieldCampaign.objects.select_for_update().get(pk=campaign.pk)
            errors = _fixed_check(campaign, fields)
            if errors:
                raise ValidationError(errors)
            for name, value in values.items():
                setattr(campaign, name, value)
            campaign.save(update_fields=CAMPAIGN_FIELDS)
        if sending_numbers is not None:
            campaign.sending_numbers.set(sending_numbers)
        if canned_responses is not None:
            _canned_save(campaign, canned)
    return campaign


def _canned_save(campaign: FieldCampaign, canned: list[CannedInput]) -> None:
    keep = {c.id for c in canned if c.id is not None}
    campaign.canned_responses.exclude(pk__in=keep).delete()
    own = {c.pk: c for c in campaign.canned_responses.all()}
    for given in canned:
        title, body = given.title.strip()[:100], given.body.strip()
        response = own.get(given.id)
        if response is None:
            CannedResponse.objects.create(campaign=campaign, title=title, body=body)
        elif (response.title, response.body) != (title, body):
            response.title, response.body = title, body
            response.save(update_fields=["title", "body"])


def campaign_start(*, campaign: FieldCampaign, actor) -> FieldCampaign:
    """Launch a draft once it has what it needs: a target, a script with steps, and for texting a
    first text and a number to send it from. The contacts are taken by services.campaign_launch."""
    campaign = FieldCampaign.objects.get(pk=campaign.pk)
    if campaign.status != CampaignStatus.DRAFT:
        raise ValidationError(_("This campaign has already been launched."))
    problems = []
    if campaign.segment_id is None:
        problems.append(_("Choose who to contact before launching."))
    if not campaign.script.steps.exists():
        problems.append(_("The script has no steps yet."))
    if campaign.kind == CampaignKind.TEXT:
        if not campaign.initial_message.strip():
            problems.append(_("Write the first text before launching."))
        if not campaign.sending_numbers.filter(is_active=True).exists():
            problems.append(_("Add a number to send the texts from before launching."))
    if problems:
        raise ValidationError(problems)
    return services.campaign_launch(campaign=campaign, actor=actor)


def _status_change(campaign: FieldCampaign, *, allowed: tuple[str, ...], to: str, refusal: str) -> FieldCampaign:
    campaign = FieldCampaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status not in allowed:
        raise ValidationError(refusal % {"status": campaign.get_status_display().lower()})
    campaign.status = to
    campaign.save(update_fields=["status"])
    return campaign


@transaction.atomic
def campaign_pause(*, campaign: FieldCampaign, actor) -> FieldCampaign:
    """No new batches while paused; volunteers may still finish the contacts they hold."""
    return _status_change(
        campaign,
        allowed=(CampaignStatus.ACTIVE,),
        to=CampaignStatus.PAUSED,
        refusal=_("Only a running campaign can be paused (this one is %(status)s)."),
    )


@transaction.atomic
def campaign_resume(*, campaign: FieldCampaign, actor) -> FieldCampaign:
    return _status_change(
        campaign,
        allowed=(CampaignStatus.PAUSED,),
        to=CampaignStatus.ACTIVE,
        refusal=_("Only a paused campaign can be resumed (this one is %(status)s)."),
    )


@transaction.atomic
def campaign_close(*, campaign: FieldCampaign, actor) -> int:
    """Close for good and return every contact a volunteer holds to the pool. Returns how many."""
    campaign = _status_change(
        campaign,
        allowed=(CampaignStatus.DRAFT, CampaignStatus.ACTIVE, CampaignStatus.PAUSED),
        to=CampaignStatus.CLOSED,
        refusal=_("This campaign is %(status)s already."),
    )
    holders = (
        Contact.objects.filter(campaign=campaign, status=ContactStatus.LEASED, leased_to__isnull=False)
        .order_by()
        .values("leased_to")
        .distinct()
    )
    return sum(
        services.contacts_release(campaign=campaign, volunteer=volunteer)
        for volunteer in get_user_model().objects.filter(pk__in=holders)
    )


def campaign_contacts_reassign(*, campaign: FieldCampaign, contact_ids, to, actor) -> int:
    """Hand contacts of this campaign (held or waiting, never done) to volunteer `to`, with a fresh
    lease, through services.contacts_reassign, which ignores other campaigns' contacts."""
    if campaign.status not in (CampaignStatus.ACTIVE, CampaignStatus.PAUSED):
        raise ValidationError(_("Contacts can only be reassigned while the campaign runs or is paused."))
    if to is None:
        raise ValidationError(_("Choose an active volunteer to give the contacts to."))
    moved = services.contacts_reassign(campaign=campaign, contact_ids=contact_ids, to=to, actor=actor)
    if not moved:
        raise ValidationError(_("Choose the contacts to reassign."))
    return moved


# Sending numbers -----------------------------------------------------------------------------------


def sending_number_add(*, number: str, daily_cap: int, actor, campaign: FieldCampaign | None = None) -> SendingNumber:
    """A new number to text from (stored in E.164), optionally added at once to a campaign's pool."""
    try:
        e164 = normalize_phone(number)
    except ValidationError as error:
        raise ValidationError({"number": error.messages}) from error
    if daily_cap is None or daily_cap < 1:
        raise ValidationError({"daily_cap": [_("At least one text a day.")]})
    try:
        with transaction.atomic():
            sending = SendingNumber.objects.create(number=e164, daily_cap=daily_cap)
            if campaign is not None:
                sending.campaigns.add(campaign)
    except IntegrityError as error:
        raise ValidationError({"number": [_("%(number)s is already a sending number.") % {"number": e164}]}) from error
    return sending
