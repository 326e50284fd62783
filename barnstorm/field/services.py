"""Writes for field campaigns: launching one, leasing contacts to volunteers, recording what
happened on each call, text or door.

Assignment is the part that breaks in the field, so it is one statement: a lease is an UPDATE of
the contacts a subquery picks, with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent
volunteers each take different rows without waiting for each other; SQLite runs writers one at a
time, so the same statement without the locking clause is just as exclusive there. A lease has
an end: `contacts_expire_leases` (every minute, and whenever the pool looks empty) returns what
a volunteer never finished, so nobody who walks away orphans anybody.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from barnstorm.activity.services import activity_record
from barnstorm.field.models import (
    FINAL_DISPOSITIONS,
    Answer,
    Attempt,
    CampaignKind,
    CampaignStatus,
    Choice,
    Contact,
    ContactStatus,
    Disposition,
    FieldCampaign,
    Step,
    StepKind,
)
from barnstorm.field.permissions import may_act_on
from barnstorm.lib.bulk import insert_from_select
from barnstorm.people.models import PhoneNumber, PostalAddress
from barnstorm.segments.models import SnapshotMember
from barnstorm.segments.services import segment_snapshot_create

# Launch --------------------------------------------------------------------------------------


def campaign_launch(*, campaign: FieldCampaign, actor) -> FieldCampaign:
    """Take the target segment's people who can be reached this way, as the campaign's contacts.

    Phone banks get each person's best number that is not do-not-call; texting only numbers with
    consent and no opt-out; a canvass only people with a geocoded address. Launching twice adds
    nobody twice.
    """
    with transaction.atomic():
        campaign = FieldCampaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.segment_id is None:
            raise ValidationError({"segment": "Choose who to contact before launching."})
        if campaign.status != CampaignStatus.DRAFT:
            return campaign
        snapshot = segment_snapshot_create(
            query={"type": "in_segment", "segment": campaign.segment_id},
            segment=campaign.segment,
            purpose=f"Field campaign {campaign.pk}",
            actor=actor,
        )
        _contacts_insert(campaign, snapshot.pk)
        campaign.snapshot = snapshot
        campaign.status = CampaignStatus.ACTIVE
        campaign.save(update_fields=["snapshot", "status"])
    return campaign


def _contacts_insert(campaign: FieldCampaign, snapshot_id: int) -> int:
    """One INSERT … SELECT: the reachable members of the snapshot, one row each."""
    in_snapshot = Exists(SnapshotMember.objects.filter(snapshot_id=snapshot_id, person_id=OuterRef("person_id")))
    if campaign.kind == CampaignKind.CANVASS:
        rows = PostalAddress.objects.filter(in_snapshot, is_primary=True, latitude__isnull=False).annotate(
            dial=Value("")
        )
    else:
        usable = (
            Q(do_not_call=False)
            if campaign.kind == CampaignKind.PHONE
            else Q(sms_consent=True, sms_opted_out_at__isnull=True)
        )
        # One number a person: the primary (or, without one, the first) of the usable ones.
        better = PhoneNumber.objects.filter(usable, person_id=OuterRef("person_id")).filter(
            Q(is_primary__gt=OuterRef("is_primary")) | Q(is_primary=OuterRef("is_primary"), pk__lt=OuterRef("pk"))
        )
        rows = PhoneNumber.objects.filter(in_snapshot, usable).exclude(Exists(better)).annotate(dial=F("number"))
    return insert_from_select(
        Contact,
        rows.order_by("person_id").values_list("person_id", "dial"),
        fields=["person", "phone"],
        campaign=campaign.pk,
        status=ContactStatus.AVAILABLE.value,
        attempts=0,
        last_disposition="",
    )


# Leasing -------------------------------------------------------------------------------------


# The pick is a materialised CTE, not `id IN (subquery … LIMIT n)`: PostgreSQL may run such a
# subquery again for each row it updates, and each run — the rows before now taken — picks
# others, so one "give me 25" could take every contact (seen on a fresh CI database).
LEASE_SQL = """
WITH picked AS MATERIALIZED (
    SELECT c.id FROM {contact} c
    WHERE c.campaign_id = %s AND c.id >= %s AND c.status = %s
      AND (c.available_at IS NULL OR c.available_at <= %s)
      AND NOT EXISTS (
          SELECT 1 FROM {attempt} a
          WHERE a.person_id = c.person_id AND a.channel = %s AND a.created_at > %s
      )
    ORDER BY c.id
    LIMIT %s
    {lock}
)
UPDATE {contact} SET status = %s, leased_to_id = %s, leased_until = %s
WHERE id IN (SELECT id FROM picked) AND status = %s
RETURNING id
"""


def _lease(campaign: FieldCampaign, volunteer, count: int, now: datetime, floor: int = 0) -> list[int]:
    sql = LEASE_SQL.format(
        contact=Contact._meta.db_table,
        attempt=Attempt._meta.db_table,
        lock="FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else "",
    )
    # Raw SQL gets datetimes as the ORM would store them (SQLite: UTC text), whatever their zone.
    moment = connection.ops.adapt_datetimefield_value
    until = moment(now + timedelta(minutes=campaign.lease_minutes))
    recent = moment(now - timedelta(hours=campaign.retry_hours))
    now = moment(now)
    params = [
        campaign.pk, floor, ContactStatus.AVAILABLE, now, campaign.kind, recent, count,
        ContactStatus.LEASED, volunteer.pk, until,
        ContactStatus.AVAILABLE,
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


# Where the pool's first available contact probably is. Contacts are handed out in id order, so
# the ones before are mostly taken; on PostgreSQL a scan from the start would step over every
# taken row's stale index entries until vacuum clears them (measured: 25 ms at 35,000 taken,
# growing). A hint only: a lease that finds too few above it looks again from the start, and
# anything put back into the pool clears it.
FLOOR_SECONDS = 600


def _floor_key(campaign_id: int) -> str:
    return f"field-lease-floor:{campaign_id}"


def _floor(campaign: FieldCampaign) -> int:
    return cache.get(_floor_key(campaign.pk)) or 0


def contacts_pool_rescan(campaign_id: int | None) -> None:
    """Forget where the pool's free contacts begin: the next lease looks from the start."""
    if campaign_id is None:
        cache.delete_many([_floor_key(pk) for pk in FieldCampaign.objects.values_list("pk", flat=True)])
    else:
        cache.delete(_floor_key(campaign_id))


@dataclass
class Batch:
    contacts: list[Contact] = field(default_factory=list)
    new: int = 0
    exhausted: bool = False  # nobody left to give: "no more contacts"


def contacts_lease(
    *, campaign: FieldCampaign, volunteer, count: int | None = None, now: datetime | None = None
) -> Batch:
    """Give `volunteer` up to `count` contacts: the ones they still hold first, then new ones.

    No contact is ever held by two volunteers: the rows are taken by one UPDATE that only
    matches available rows.
    """
    now = now or timezone.now()
    count = min(count or campaign.batch_size, 100)
    if campaign.status != CampaignStatus.ACTIVE:
        raise ValidationError("This campaign isn't taking volunteers right now.")
    contacts_lease_renew(campaign=campaign, volunteer=volunteer, now=now)
    held = contacts_held(campaign=campaign, volunteer=volunteer, now=now)
    batch = Batch(contacts=list(held))
    wanted = count - len(batch.contacts)
    if wanted > 0:
        floor = _floor(campaign)
        ids = _lease(campaign, volunteer, wanted, now, floor)
        if len(ids) < wanted and floor:
            ids += _lease(campaign, volunteer, wanted - len(ids), now)  # the floor is only a hint
        if len(ids) < wanted and contacts_expire_leases(campaign=campaign, now=now):
            ids += _lease(campaign, volunteer, wanted - len(ids), now)
        if ids:
            cache.set(_floor_key(campaign.pk), min(ids), FLOOR_SECONDS)
        batch.new = len(ids)
        batch.contacts += list(Contact.objects.filter(pk__in=ids).select_related("person").order_by("id"))
        batch.exhausted = len(ids) < wanted
    return batch


def contacts_lease_renew(*, campaign: FieldCampaign, volunteer, now: datetime | None = None) -> int:
    """A volunteer still at work keeps their batch: each call they record or batch they ask for
    gives what they hold a fresh lease (one UPDATE). Only a volunteer who goes quiet loses it."""
    now = now or timezone.now()
    return Contact.objects.filter(
        campaign=campaign, leased_to=volunteer, status=ContactStatus.LEASED, leased_until__gt=now
    ).update(leased_until=Greatest(F("leased_until"), Value(now + timedelta(minutes=campaign.lease_minutes))))


def contacts_held(*, campaign: FieldCampaign, volunteer, now: datetime | None = None):
    now = now or timezone.now()
    return (
        Contact.objects.filter(
            campaign=campaign, leased_to=volunteer, status=ContactStatus.LEASED, leased_until__gt=now
        )
        .select_related("person")
        .order_by("id")
    )


def contacts_expire_leases(*, campaign: FieldCampaign | None = None, now: datetime | None = None) -> int:
    """Return contacts whose lease has run out to the pool. Returns how many."""
    now = now or timezone.now()
    expired = Contact.objects.filter(status=ContactStatus.LEASED, leased_until__lte=now)
    if campaign is not None:
        expired = expired.filter(campaign=campaign)
    returned = expired.update(status=ContactStatus.AVAILABLE, leased_to=None, leased_until=None)
    if returned:
        contacts_pool_rescan(campaign.pk if campaign is not None else None)
    return returned


def contacts_release(*, campaign: FieldCampaign, volunteer) -> int:
    """A volunteer stops: what they hold goes back at once, untouched."""
    returned = Contact.objects.filter(campaign=campaign, leased_to=volunteer, status=ContactStatus.LEASED).update(
        status=ContactStatus.AVAILABLE, leased_to=None, leased_until=None
    )
    contacts_pool_rescan(campaign.pk)
    return returned


def contacts_reassign(*, campaign: FieldCampaign, contact_ids, to, actor, now: datetime | None = None) -> int:
    """An organizer hands contacts of `campaign` (held or waiting) to another volunteer, with a
    fresh lease. Contacts of other campaigns, finished ones and inactive accounts are refused."""
    now = now or timezone.now()
    if not to.is_active:
        raise ValidationError("That account is switched off.")
    return Contact.objects.filter(
        pk__in=list(contact_ids), campaign=campaign, status__in=(ContactStatus.AVAILABLE, ContactStatus.LEASED)
    ).update(status=ContactStatus.LEASED, leased_to=to, leased_until=now + timedelta(minutes=campaign.lease_minutes))


# Recording -----------------------------------------------------------------------------------


@dataclass
class AnswerInput:
    step_id: int
    choice_ids: list[int] = field(default_factory=list)
    text: str = ""


def attempt_record(
    *,
    contact: Contact,
    volunteer,
    disposition: str,
    answers: list[AnswerInput] = (),
    notes: str = "",
    now: datetime | None = None,
) -> Attempt:
    """What happened with one contact: the disposition, the answers, and where the contact goes.

    Only the volunteer holding the contact (or an organizer) may record it. A final disposition
    finishes the contact; otherwise it returns to the pool after the campaign's retry wait, until
    its attempts run out. "Do not contact" also marks the number do-not-call (a phone bank) or
    opted out of texts (texting) everywhere.
    """
    from barnstorm.people.services import phone_do_not_call_set, phone_sms_opt_out

    now = now or timezone.now()
    if disposition not in Disposition.values:
        raise ValidationError({"disposition": "Choose what happened."})
    with transaction.atomic():
        contact = Contact.objects.select_for_update().select_related("campaign").get(pk=contact.pk)
        campaign = contact.campaign
        is_staff = getattr(volunteer, "is_organizer", False)
        if not may_act_on(contact, volunteer, now):
            raise PermissionDenied("This contact is not in your batch any more.")
        cleaned = _answers_clean(campaign, answers)
        attempt = Attempt.objects.create(
            contact=contact,
            campaign=campaign,
            person_id=contact.person_id,
            volunteer=volunteer,
            channel=campaign.kind,
            disposition=disposition,
            notes=notes.strip(),
        )
        Answer.objects.bulk_create(
            Answer(attempt=attempt, person_id=contact.person_id, step=step, choice=choice, text=text)
            for step, choice, text in cleaned
        )
        contact.attempts += 1
        contact.last_disposition = disposition
        contact.leased_to, contact.leased_until = None, None
        if disposition in FINAL_DISPOSITIONS or contact.attempts >= campaign.max_attempts:
            contact.status = ContactStatus.DONE
        else:
            contact.status = ContactStatus.AVAILABLE
            contact.available_at = now + timedelta(hours=campaign.retry_hours)
        contact.save(
            update_fields=["attempts", "last_disposition", "leased_to", "leased_until", "status", "available_at"]
        )
        if not is_staff:
            contacts_lease_renew(campaign=campaign, volunteer=volunteer, now=now)
        if disposition == Disposition.DO_NOT_CONTACT and contact.phone:
            restrict = phone_sms_opt_out if campaign.kind == CampaignKind.TEXT else phone_do_not_call_set
            restrict(number=contact.phone, actor=volunteer)
        _attempt_activity(attempt, cleaned, volunteer)
    return attempt


def steps_on_path(steps: list[Step], picked: dict[int, list[int]]) -> set[int]:
    """The ids of the steps a contact goes through, given the choices picked on each question.

    Steps run in order, except that a picked choice with a `goto` further down jumps there,
    skipping the steps between (on a question with several answers, the first picked choice
    that jumps decides). A `goto` backwards, or out of the script, is ignored: no loops.
    The call page's script does the same in the browser, to hide the skipped steps.
    """
    index = {step.pk: i for i, step in enumerate(steps)}
    on_path: set[int] = set()
    i = 0
    while i < len(steps):
        step = steps[i]
        on_path.add(step.pk)
        following = i + 1
        chosen = picked.get(step.pk, ())
        for choice in step.choices.all():
            if choice.pk in chosen and index.get(choice.goto_id, -1) > i:
                following = index[choice.goto_id]
                break
        i = following
    return on_path


def _answers_clean(campaign: FieldCampaign, answers) -> list[tuple[Step, Choice | None, str]]:
    """The answers to keep, checked against the script. An answer to a step that a chosen `goto`
    skipped (entered before the volunteer changed their mind, or sent without the page's script)
    is not what the person said, so it is dropped — for calls, texts and doors alike."""
    ordered = list(campaign.script.steps.order_by("position").prefetch_related("choices"))
    steps = {s.pk: s for s in ordered}
    on_path = steps_on_path(ordered, {a.step_id: list(a.choice_ids) for a in answers})
    cleaned: list[tuple[Step, Choice | None, str]] = []
    for answer in answers:
        step = steps.get(answer.step_id)
        if step is None or not step.is_question:
            raise ValidationError({"answers": f"Question {answer.step_id} is not in this campaign's script."})
        if step.pk not in on_path:
            continue
        choices = {c.pk: c for c in step.choices.all()}
        if step.kind == StepKind.FREE:
            if answer.text.strip():
                cleaned.append((step, None, answer.text.strip()[:2000]))
            continue
        picked = [choices.get(pk) for pk in answer.choice_ids]
        if None in picked:
            raise ValidationError({"answers": f"That is not an answer to “{step}”."})
        if step.kind == StepKind.SINGLE and len(picked) > 1:
            raise ValidationError({"answers": f"“{step}” takes one answer."})
        cleaned.extend((step, choice, "") for choice in picked)
    return cleaned


def _attempt_activity(attempt: Attempt, cleaned, volunteer) -> None:
    campaign = attempt.campaign
    activity_record(
        person_id=attempt.person_id,
        kind="field_attempt",
        data={"campaign": campaign.pk, "channel": campaign.kind, "disposition": attempt.disposition},
        actor=volunteer,
    )
    for step, choice, text in cleaned:
        activity_record(
            person_id=attempt.person_id,
            kind="field_answer",
            data={
                "campaign": campaign.pk,
                "question": step.pk,
                "question_name": step.name or step.text[:100],
                "response": choice.label if choice else text[:200],
            },
            actor=volunteer,
        )
    if getattr(volunteer, "person_id", None):
        activity_record(
            person_id=volunteer.person_id,
            kind="field_volunteered",
            data={"campaign": campaign.pk, "channel": campaign.kind},
            actor=volunteer,
        )
