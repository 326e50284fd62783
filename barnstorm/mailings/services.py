"""Writes for mailings: composing, scheduling, the send pipeline, and what recipients do after.

The send, end to end:

1. `mailing_start` snapshots the target segment minus the exclusions (one INSERT … SELECT) and
   writes one Delivery row per recipient whose primary address is subscribed and who has not
   opted out of the mailing's topic (another INSERT … SELECT). With several subjects, a sample
   gets the variants and the rest wait ("held") for the winner.
2. Batches of delivery ids are queued as Celery tasks (`tasks.mailing_send_batch`). A batch claims
   its rows with one UPDATE … RETURNING (queued → sending), so two runs of the same batch never
   share a row. Before each chunk of messages it drops anyone who unsubscribed or bounced since
   (an unsubscribe stops every send at once) and checks the mailing wasn't paused or stopped.
3. Each message is rendered and handed to Django's email backend over one reused connection; the
   row is marked sent, on its own commit, as soon as the server accepts the message.

A worker that dies leaves at most its claimed rows in "sending". `mailings_recover` returns rows
claimed longer ago than the lease to the queue and queues their batches again. Only a message
whose 250 reply arrived in the instant before the worker died can go out twice; SMTP itself puts
a message in the server's hands only with that reply (RFC 1047), so there is no safer moment.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.db import connection, transaction
from django.db.models import Case, Exists, F, Max, Min, OuterRef, Q, Value, When
from django.db.models.functions import Mod
from django.utils import timezone

from barnstorm.activity.services import activity_record
from barnstorm.lib.bulk import insert_from_select
from barnstorm.mailings import render
from barnstorm.mailings.models import (
    Delivery,
    DeliveryStatus,
    Link,
    Mailing,
    MailingStatus,
    TopicOptOut,
    Variant,
)
from barnstorm.mailings.throttle import Throttle
from barnstorm.people.models import EmailAddress, EmailStatus
from barnstorm.people.services import email_status_advance
from barnstorm.segments.models import SnapshotMember
from barnstorm.segments.services import segment_snapshot_create

MAX_VARIANTS = 4
CHUNK = 100  # messages between checks for unsubscribes and pauses
UNFINISHED = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.HELD)


# Compose -------------------------------------------------------------------------------------


MAILING_FIELDS = (
    "name", "from_name", "from_address", "reply_to", "html_body", "text_body", "segment", "topic",
    "rate_limit", "ab_sample_percent", "ab_measure", "ab_wait_minutes",
)  # fmt: skip


@transaction.atomic
def mailing_save(*, fields: dict, subjects: list[str], exclusions=(), actor, mailing: Mailing | None = None) -> Mailing:
    """Create or change a draft. Refuses (ValidationError by field) bad templates or subjects, and
    values outside the model's limits (e.g. ab_sample_percent 1–100)."""
    subjects = [s.strip() for s in subjects if s and s.strip()]
    errors: dict[str, str | list[str]] = {}
    if not subjects:
        errors["subject_0"] = "Write a subject."
    elif len(subjects) > MAX_VARIANTS:
        errors["subject_0"] = f"At most {MAX_VARIANTS} subject variants."
    errors.update(
        render.template_errors(
            subjects=subjects, html_body=fields.get("html_body", ""), text_body=fields.get("text_body", "")
        )
    )
    if mailing is not None and not mailing.is_editable:
        errors["__all__"] = "A mailing that has started sending can no longer be changed."
    if mailing is None:
        mailing = Mailing(created_by=actor)
    for name in MAILING_FIELDS:
        if name in fields:
            setattr(mailing, name, fields[name])
    try:
        mailing.full_clean(exclude=["segment", "topic"])
    except ValidationError as error:
        # Reported together with the checks above, so a caller learns everything wrong at once.
        errors = {**error.message_dict, **errors}
    if errors:
        raise ValidationError(errors)
    mailing.save()
    mailing.exclusions.set(exclusions)
    mailing.variants.all().delete()
    Variant.objects.bulk_create(Variant(mailing=mailing, index=i, subject=s) for i, s in enumerate(subjects))
    return mailing


def _require_target(mailing: Mailing) -> None:
    if mailing.segment_id is None:
        raise ValidationError({"segment": "Choose who to send to before sending."})


@transaction.atomic
def mailing_schedule(*, mailing: Mailing, send_at: datetime, actor) -> Mailing:
    """Send it at `send_at`. A time already past is refused: the due check would start the
    mailing at once, which is "send now" under another name, and no organizer means that."""
    if send_at <= timezone.now():
        raise ValidationError({"send_at": "Choose a time in the future, or send it now."})
    mailing = Mailing.objects.select_for_update().get(pk=mailing.pk)
    _require_target(mailing)
    if not mailing.is_editable:
        raise ValidationError("This mailing has already started.")
    mailing.status, mailing.send_at = MailingStatus.SCHEDULED, send_at
    mailing.save(update_fields=["status", "send_at", "updated_at"])
    return mailing


@transaction.atomic
def mailing_unschedule(*, mailing: Mailing, actor) -> Mailing:
    mailing = Mailing.objects.select_for_update().get(pk=mailing.pk)
    if mailing.status == MailingStatus.SCHEDULED:
        mailing.status = MailingStatus.DRAFT
        mailing.save(update_fields=["status", "updated_at"])
    return mailing


# Start ---------------------------------------------------------------------------------------


def target_query(mailing: Mailing) -> dict:
    """The segment minus the exclusion segments, as one segment query."""
    query: dict = {"and": [{"type": "in_segment", "segment": mailing.segment_id}]}
    excluded = list(mailing.exclusions.values_list("pk", flat=True))
    if excluded:
        query["and"].append({"not": {"or": [{"type": "in_segment", "segment": pk} for pk in excluded]}})
    return query


def mailing_start(*, mailing: Mailing, actor=None) -> Mailing:
    """Take the recipients and queue the send. Starting an already started mailing does nothing."""
    with transaction.atomic():
        mailing = Mailing.objects.select_for_update().get(pk=mailing.pk)
        if mailing.status not in (MailingStatus.DRAFT, MailingStatus.SCHEDULED):
            return mailing
        _require_target(mailing)
        snapshot = segment_snapshot_create(
            query=target_query(mailing), segment=mailing.segment, purpose=f"Mailing {mailing.pk}", actor=actor
        )
        Link.objects.bulk_create(
            Link(mailing=mailing, index=i, url=url) for i, url in enumerate(render.links_in(mailing))
        )
        mailing.recipients = _deliveries_insert(mailing, snapshot.pk)
        mailing.snapshot = snapshot
        mailing.status = MailingStatus.SENDING
        mailing.started_at = mailing.heartbeat_at = timezone.now()
        mailing.save(update_fields=["snapshot", "recipients", "status", "started_at", "heartbeat_at", "updated_at"])
        transaction.on_commit(lambda: batches_enqueue(mailing_id=mailing.pk))
    return mailing


def _deliveries_insert(mailing: Mailing, snapshot_id: int) -> int:
    """One row per recipient, in one INSERT … SELECT: no recipient list passes through Python."""
    variants = mailing.variants.count()
    emails = EmailAddress.objects.filter(is_primary=True, status=EmailStatus.SUBSCRIBED).filter(
        Exists(SnapshotMember.objects.filter(snapshot_id=snapshot_id, person_id=OuterRef("person_id"))),
    )
    # A person with two primary addresses (data from before a merge) gets one message, at the first.
    emails = emails.exclude(
        Exists(
            EmailAddress.objects.filter(
                person_id=OuterRef("person_id"), is_primary=True, status=EmailStatus.SUBSCRIBED, pk__lt=OuterRef("pk")
            )
        )
    )
    if mailing.topic_id:
        emails = emails.exclude(
            Exists(TopicOptOut.objects.filter(topic_id=mailing.topic_id, person_id=OuterRef("person_id")))
        )
    if variants <= 1:
        variant, status = Value(0), Value(DeliveryStatus.QUEUED.value)
    else:
        # A stable pseudo-random bucket 0–99 per person: the sample is the buckets below the share.
        bucket = Mod(F("person_id") * 7919, 100)
        in_sample = Q(ab_bucket__lt=mailing.ab_sample_percent)
        emails = emails.annotate(ab_bucket=bucket)
        variant = Case(When(in_sample, then=Mod(F("ab_bucket"), variants)), default=None)
        status = Case(
            When(in_sample, then=Value(DeliveryStatus.QUEUED.value)), default=Value(DeliveryStatus.HELD.value)
        )
    rows = (
        emails.order_by("person_id")
        .annotate(v_ref=variant, s_ref=status)
        .values_list("person_id", "address", "v_ref", "s_ref")
    )
    return insert_from_select(
        Delivery, rows, fields=["person", "address", "variant", "status"], mailing=mailing.pk, error=""
    )


def batches_enqueue(*, mailing_id: int) -> int:
    """Queue a task for every range of queued delivery ids. Queuing one twice is harmless."""
    from barnstorm.mailings.tasks import mailing_send_batch

    bounds = Delivery.objects.filter(mailing_id=mailing_id, status=DeliveryStatus.QUEUED).aggregate(
        lo=Min("id"), hi=Max("id")
    )
    if bounds["lo"] is None:
        mailing_finish_if_done(mailing_id=mailing_id)
        return 0
    size = settings.MAILING_BATCH_SIZE
    count = 0
    for first in range(bounds["lo"], bounds["hi"] + 1, size):
        mailing_send_batch.delay(mailing_id, first, min(first + size - 1, bounds["hi"]))
        count += 1
    return count


# Send ----------------------------------------------------------------------------------------


@dataclass
class BatchResult:
    sent: int = 0
    suppressed: int = 0
    failed: int = 0
    released: int = 0


# The pick is a materialised CTE, not `id IN (subquery … LIMIT n)`, which PostgreSQL may run
# again per updated row (each run picking other rows). The condition is repeated in the UPDATE
# so that a row another run claimed in between is skipped (READ COMMITTED re-checks it).
CLAIM_SQL = """
WITH picked AS MATERIALIZED (
    SELECT id FROM {table}
    WHERE mailing_id = %s AND id BETWEEN %s AND %s AND {claimable}
    ORDER BY id LIMIT %s
)
UPDATE {table} SET status = %s, claimed_at = %s
WHERE id IN (SELECT id FROM picked) AND {claimable}
RETURNING id, person_id, address, variant
"""
CLAIMABLE = "(status = %s OR (status = %s AND claimed_at < %s))"


def _claim(mailing_id: int, first_id: int, last_id: int, now: datetime, limit: int) -> list[tuple]:
    """Take up to `limit` claimable rows of the range: queued ones, or ones a dead run held."""
    # Raw SQL gets datetimes as the ORM would store them (SQLite: UTC text), whatever their zone.
    moment = connection.ops.adapt_datetimefield_value
    stale = moment(now - timedelta(seconds=settings.MAILING_LEASE_SECONDS))
    now = moment(now)
    claimable = [DeliveryStatus.QUEUED, DeliveryStatus.SENDING, stale]
    sql = CLAIM_SQL.format(table=Delivery._meta.db_table, claimable=CLAIMABLE)
    with connection.cursor() as cursor:
        cursor.execute(sql, [mailing_id, first_id, last_id, *claimable, limit, DeliveryStatus.SENDING, now, *claimable])
        return sorted(cursor.fetchall())


def _chunk_size(rate: int) -> int:
    """Messages per claim: few enough that a throttled chunk is sent well within the lease."""
    if not rate:
        return CHUNK
    return max(1, min(CHUNK, rate * settings.MAILING_LEASE_SECONDS // 3))


def _refused_now(mailing: Mailing, chunk: list[render.Recipient]) -> set[int]:
    """Deliveries of the chunk whose address or person no longer takes this mail."""
    by_address = {r.address: r.delivery_id for r in chunk}
    refused = {
        by_address[address]
        for address in EmailAddress.objects.filter(address__in=list(by_address))
        .exclude(status=EmailStatus.SUBSCRIBED)
        .values_list("address", flat=True)
    }
    if mailing.topic_id:
        by_person = {r.person_id: r.delivery_id for r in chunk}
        refused |= {
            by_person[pk]
            for pk in TopicOptOut.objects.filter(topic_id=mailing.topic_id, person_id__in=list(by_person)).values_list(
                "person_id", flat=True
            )
        }
    return refused


def _mark_sent(delivery_id: int, now: datetime) -> None:
    # Its own statement and commit: once the server has the message, the row says so.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Delivery._meta.db_table} SET status = %s, sent_at = %s WHERE id = %s",
            [DeliveryStatus.SENT, connection.ops.adapt_datetimefield_value(now), delivery_id],
        )


def _mark(ids, status: str, error: str = "") -> int:
    if not ids:
        return 0
    return Delivery.objects.filter(pk__in=list(ids), status=DeliveryStatus.SENDING).update(
        status=status, error=error[:300]
    )


def _permanent(error: smtplib.SMTPException) -> bool:
    """A 5xx answer about this message (not the connection): retrying won't help."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


def batch_send(*, mailing_id: int, first_id: int, last_id: int) -> BatchResult:
    """Send the queued deliveries of one id range (the body of the batch task).

    Rows are claimed a chunk at a time, so a claim is never older than one chunk's sending time,
    and before each chunk the mailing's status and every recipient's consent are read afresh.
    """
    result = BatchResult()
    mailing = Mailing.objects.filter(pk=mailing_id).first()
    if mailing is None:
        return result
    compiled = render.Compiled(mailing, links=list(mailing.links.order_by("index").values_list("url", flat=True)))
    throttle = Throttle(mailing_id=mailing_id, rate=mailing.rate_limit)
    size = _chunk_size(mailing.rate_limit)
    backend = get_connection()
    try:
        while Mailing.objects.filter(pk=mailing_id, status=MailingStatus.SENDING).exists():
            claimed_at = timezone.now()
            rows = _claim(mailing_id, first_id, last_id, claimed_at, size)
            if not rows:
                break
            pending = {row[0] for row in rows}
            try:
                _send_chunk(mailing, compiled, rows, backend, throttle, pending, result)
            finally:
                # Whatever this run did not finish goes back to the queue, unless a later run has
                # taken it over since (then it is that run's to finish).
                result.released += Delivery.objects.filter(
                    pk__in=list(pending), status=DeliveryStatus.SENDING, claimed_at=claimed_at
                ).update(status=DeliveryStatus.QUEUED, claimed_at=None)
    finally:
        backend.close()
        Mailing.objects.filter(pk=mailing_id).update(heartbeat_at=timezone.now())
    mailing_finish_if_done(mailing_id=mailing_id)
    return result


def _send_chunk(mailing, compiled, rows, backend, throttle, pending: set[int], result: BatchResult) -> None:
    recipients = render.recipients_for(compiled, rows)
    refused = _refused_now(mailing, recipients)
    result.suppressed += _mark(refused, DeliveryStatus.SUPPRESSED)
    pending -= refused
    backend.open()  # no-op when already open: one connection for the whole batch
    for recipient in recipients:
        if recipient.delivery_id in refused:
            continue
        throttle.take(recipient.address)
        message = compiled.message(recipient, connection=backend)
        message.metadata = {"delivery": str(recipient.delivery_id)}  # comes back in ESP webhooks
        try:
            backend.send_messages([message])
        except smtplib.SMTPException as error:
            if not _permanent(error):
                raise
            result.failed += _mark([recipient.delivery_id], DeliveryStatus.FAILED, str(error))
        else:
            _mark_sent(recipient.delivery_id, timezone.now())
            result.sent += 1
        pending.discard(recipient.delivery_id)


def mailing_finish_if_done(*, mailing_id: int) -> bool:
    if Delivery.objects.filter(mailing_id=mailing_id, status__in=UNFINISHED).exists():
        return False
    return bool(
        Mailing.objects.filter(pk=mailing_id, status=MailingStatus.SENDING).update(
            status=MailingStatus.SENT, finished_at=timezone.now()
        )
    )


# Pause, resume, stop, recover ---------------------------------------------------------------


def _transition(mailing: Mailing, allowed: tuple, to: str) -> Mailing:
    with transaction.atomic():
        mailing = Mailing.objects.select_for_update().get(pk=mailing.pk)
        if mailing.status not in allowed:
            raise ValidationError(f"A {mailing.get_status_display().lower()} mailing can't be {to}.")
        mailing.status = to
        mailing.save(update_fields=["status", "updated_at"])
    return mailing


def mailing_pause(*, mailing: Mailing, actor) -> Mailing:
    """Batches in flight stop at their next chunk and put their unsent rows back."""
    return _transition(mailing, (MailingStatus.SENDING,), MailingStatus.PAUSED)


def mailing_resume(*, mailing: Mailing, actor) -> Mailing:
    mailing = _transition(mailing, (MailingStatus.PAUSED,), MailingStatus.SENDING)
    batches_enqueue(mailing_id=mailing.pk)
    return mailing


@transaction.atomic
def mailing_stop(*, mailing: Mailing, actor) -> Mailing:
    """Stop for good: nobody not yet sent to will get it."""
    mailing = _transition(mailing, (MailingStatus.SENDING, MailingStatus.PAUSED), MailingStatus.STOPPED)
    Delivery.objects.filter(mailing=mailing, status__in=(DeliveryStatus.QUEUED, DeliveryStatus.HELD)).update(
        status=DeliveryStatus.CANCELLED
    )
    mailing.finished_at = timezone.now()
    mailing.save(update_fields=["finished_at"])
    return mailing


def mailings_recover(*, mailing_id: int | None = None, now: datetime | None = None) -> int:
    """Requeue the work of dead workers. Returns the number of batches queued.

    Rows claimed longer ago than the lease go back to the queue, and so do the batches of a
    sending mailing that has made no progress for that long (its task messages were lost).
    Only a lease's age tells a dead worker from a slow one, so nothing younger is touched.
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.MAILING_LEASE_SECONDS)
    sending = Mailing.objects.filter(status=MailingStatus.SENDING)
    if mailing_id is not None:
        sending = sending.filter(pk=mailing_id)
    queued = 0
    for pk, heartbeat_at in sending.values_list("pk", "heartbeat_at"):
        dead = Delivery.objects.filter(mailing_id=pk, status=DeliveryStatus.SENDING, claimed_at__lte=stale).update(
            status=DeliveryStatus.QUEUED, claimed_at=None
        )
        if dead or heartbeat_at is None or heartbeat_at <= stale:
            Mailing.objects.filter(pk=pk).update(heartbeat_at=now)
            queued += batches_enqueue(mailing_id=pk)
    return queued


def mailings_start_due(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    started = []
    for mailing in Mailing.objects.filter(status=MailingStatus.SCHEDULED, send_at__lte=now):
        mailing_start(mailing=mailing, actor=mailing.created_by)
        started.append(mailing.pk)
    return started


# A/B -----------------------------------------------------------------------------------------


def variant_scores(*, mailing: Mailing) -> dict[int, float]:
    """Each variant's result by the mailing's measure: opens or clicks per message, or dollars."""
    from barnstorm.mailings.selectors import mailing_dollars_by_variant

    sent = Delivery.objects.filter(mailing=mailing, status=DeliveryStatus.SENT, variant__isnull=False)
    scores: dict[int, float] = {}
    if mailing.ab_measure == "dollars":
        return {v: float(cents) for v, cents in mailing_dollars_by_variant(mailing=mailing).items()}
    field = "opened_at" if mailing.ab_measure == "opens" else "clicked_at"
    for variant in range(mailing.variants.count()):
        of_variant = sent.filter(variant=variant)
        total = of_variant.count()
        scores[variant] = of_variant.filter(**{f"{field}__isnull": False}).count() / total if total else 0.0
    return scores


def mailing_ab_decide(*, mailing: Mailing, now: datetime | None = None, force: bool = False) -> int | None:
    """Pick the winning subject and release everyone held back to it. Returns the winner."""
    now = now or timezone.now()
    if mailing.ab_winner is not None or mailing.status != MailingStatus.SENDING or mailing.variants.count() < 2:
        return mailing.ab_winner
    if not force and mailing.started_at + timedelta(minutes=mailing.ab_wait_minutes) > now:
        return None
    scores = variant_scores(mailing=mailing)
    winner = max(sorted(scores), key=lambda v: scores[v]) if scores else 0
    with transaction.atomic():
        updated = Mailing.objects.filter(pk=mailing.pk, ab_winner__isnull=True).update(
            ab_winner=winner, ab_decided_at=now
        )
        if not updated:
            return Mailing.objects.values_list("ab_winner", flat=True).get(pk=mailing.pk)
        Delivery.objects.filter(mailing=mailing, status=DeliveryStatus.HELD).update(
            status=DeliveryStatus.QUEUED, variant=winner
        )
        transaction.on_commit(lambda: batches_enqueue(mailing_id=mailing.pk))
    return winner


def mailings_ab_decide_due(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    decided = []
    for mailing in Mailing.objects.filter(status=MailingStatus.SENDING, ab_winner__isnull=True):
        if mailing_ab_decide(mailing=mailing, now=now) is not None:
            decided.append(mailing.pk)
    return decided


# Test sends ----------------------------------------------------------------------------------


def mailing_test_send(*, mailing: Mailing, to: str, actor, person: dict | None = None) -> int:
    """Send every variant to `to`, as a sample person, marked [Test]; no delivery row, no tracking."""
    compiled = render.Compiled(mailing, track=False)
    person = {**render.SAMPLE_PERSON, **(person or {}), "email": to}
    messages = [
        compiled.message(render.Recipient(0, 0, to, v.index, person, {}), subject_prefix=f"[Test {v.letter}] ")
        for v in mailing.variants.all()
    ]
    return get_connection().send_messages(messages)


# After the send: opens, clicks, unsubscribes -----------------------------------------------


def delivery_opened(*, delivery_id: int, now: datetime | None = None) -> bool:
    """First open only (images reload); later opens change nothing."""
    now = now or timezone.now()
    if not Delivery.objects.filter(pk=delivery_id, opened_at__isnull=True).update(opened_at=now):
        return False
    delivery = Delivery.objects.only("person_id", "mailing_id").get(pk=delivery_id)
    activity_record(person_id=delivery.person_id, kind="email_opened", data={"mailing": delivery.mailing_id})
    return True


def delivery_clicked(*, delivery: Delivery, link: Link, now: datetime | None = None) -> None:
    """Every click counts for the link and lands in the activity log; the first also counts as an open."""
    now = now or timezone.now()
    Link.objects.filter(pk=link.pk).update(clicks=F("clicks") + 1)
    Delivery.objects.filter(pk=delivery.pk, clicked_at__isnull=True).update(clicked_at=now)
    Delivery.objects.filter(pk=delivery.pk, opened_at__isnull=True).update(opened_at=now)
    activity_record(
        person_id=delivery.person_id,
        kind="email_clicked",
        data={"mailing": delivery.mailing_id, "link": link.index, "url": link.url},
    )


def delivery_unsubscribe(*, delivery: Delivery, now: datetime | None = None) -> None:
    """Unsubscribe the address this delivery went to; every send in progress skips it from now.

    A bouncing or complained address stays as it is (see people.services.EMAIL_FINALITY); the delivery records
    the unsubscribe for the mailing's results either way.
    """
    now = now or timezone.now()
    with transaction.atomic():
        email_status_advance(
            address=delivery.address, status=EmailStatus.UNSUBSCRIBED, context={"mailing": delivery.mailing_id}
        )
        Delivery.objects.filter(pk=delivery.pk, unsubscribed_at__isnull=True).update(unsubscribed_at=now)


def email_event_record(*, address: str, event: str, delivery_id: int | None = None, now: datetime | None = None) -> int:
    """A bounce, spam complaint or unsubscribe reported by the provider or a bounce message.

    The address is never mailed again; the delivery it concerns (when the report names it, through
    the provider's metadata or the X-Barnstorm-Delivery header) records it for the mailing's results.
    The address's status only moves towards a more final one (see people.services.EMAIL_FINALITY). Returns the
    number of addresses it changed.
    """
    status, field = {
        "bounced": (EmailStatus.BOUNCING, "bounced_at"),
        "complained": (EmailStatus.SPAM_COMPLAINT, "complained_at"),
        "unsubscribed": (EmailStatus.UNSUBSCRIBED, "unsubscribed_at"),
    }[event]
    now = now or timezone.now()
    with transaction.atomic():
        context = {}
        if delivery_id is not None:
            Delivery.objects.filter(pk=delivery_id, **{f"{field}__isnull": True}).update(**{field: now})
            context["mailing"] = Delivery.objects.filter(pk=delivery_id).values_list("mailing_id", flat=True).first()
        return email_status_advance(address=address, status=status, context=context)


# Preferences page ----------------------------------------------------------------------------


def person_topics_set(*, person, wanted_topic_ids, mailing_id: int | None = None) -> bool:
    """Opt the person out of every topic not wanted and back into the wanted ones.

    Returns False, and records nothing, when that is what they had already.
    """
    from barnstorm.mailings.models import Topic

    with transaction.atomic():
        topics = list(Topic.objects.all())
        wanted = {t.pk for t in topics} & set(wanted_topic_ids)
        unwanted = {t.pk for t in topics} - wanted
        had = set(TopicOptOut.objects.filter(person_id=person.pk).values_list("topic_id", flat=True))
        if (had & {t.pk for t in topics}) == unwanted:
            return False
        TopicOptOut.objects.filter(person_id=person.pk, topic_id__in=wanted).delete()
        # ignore_conflicts: two submits at once both insert, the unique constraint keeps one row.
        TopicOptOut.objects.bulk_create(
            [TopicOptOut(person_id=person.pk, topic_id=pk) for pk in unwanted - had], ignore_conflicts=True
        )
        activity_record(
            person_id=person.pk,
            kind="email_topics",
            data={
                "wanted": [t.name for t in topics if t.pk in wanted],
                "opted_out": [t.name for t in topics if t.pk in unwanted],
                "mailing": mailing_id,
            },
        )
    return True


def email_resubscribe(*, address: str, mailing_id: int | None = None) -> bool:
    """The owner asks for mail again. Only an address they unsubscribed comes back; a bouncing or
    complained one never does (see people.services.EMAIL_FINALITY)."""
    from barnstorm.people.normalize import email_key
    from barnstorm.people.services import email_status_set

    address = email_key(address)
    with transaction.atomic():
        status = (
            EmailAddress.objects.select_for_update().filter(address=address).values_list("status", flat=True).first()
        )
        if status != EmailStatus.UNSUBSCRIBED:
            return False
        return bool(
            email_status_set(
                address=address,
                status=EmailStatus.SUBSCRIBED,
                context={"mailing": mailing_id, "via": "email preferences"},
            )
        )


# Topics --------------------------------------------------------------------------------------


def topic_create(*, name: str, description: str = "", actor):
    """Add a topic supporters can opt out of. Refuses (ValidationError on "name") a name in use."""
    from django.db import IntegrityError

    from barnstorm.mailings.models import Topic

    topic = Topic(name=name.strip(), description=description.strip())
    topic.full_clean(validate_unique=False)
    try:
        # The unique constraint decides, not a query before the insert: two organizers adding the
        # same name at once get one topic and one error.
        with transaction.atomic():
            topic.save()
    except IntegrityError:
        # Django's own wording ("Topic with this Name already exists."), as the form used to show.
        raise ValidationError({"name": topic.unique_error_message(Topic, ("name",))}) from None
    return topic
