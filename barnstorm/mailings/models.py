"""Mailings: what is sent (subject variants, bodies, target), to whom (one delivery row per
person), and what it achieved (opens, clicks, and actions attributed by refcode)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Topic(models.Model):
    """A kind of email a supporter can choose not to get (preferences page)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TopicOptOut(models.Model):
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+", db_index=False)
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="opt_outs")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "topic"], name="topic_opt_out_unique")]


class MailingStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    PAUSED = "paused", _("Paused")
    STOPPED = "stopped", _("Stopped")
    SENT = "sent", _("Sent")


class AbMeasure(models.TextChoices):
    OPENS = "opens", _("Opens")
    CLICKS = "clicks", _("Clicks")
    DOLLARS = "dollars", _("Dollars raised")


class Mailing(models.Model):
    name = models.CharField(_("internal name"), max_length=200)
    from_name = models.CharField(_("from name"), max_length=100)
    from_address = models.EmailField(_("from address"))
    reply_to = models.EmailField(_("reply-to"), blank=True)
    html_body = models.TextField(_("HTML body"))
    text_body = models.TextField(_("plain-text body"), blank=True, help_text=_("Made from the HTML when left empty."))
    segment = models.ForeignKey(
        "segments.Segment", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("send to")
    )
    exclusions = models.ManyToManyField(
        "segments.Segment", blank=True, related_name="+", verbose_name=_("leave out people in")
    )
    topic = models.ForeignKey(
        Topic, null=True, blank=True, on_delete=models.PROTECT, related_name="mailings", verbose_name=_("topic")
    )
    send_at = models.DateTimeField(_("send at"), null=True, blank=True)
    status = models.CharField(max_length=10, choices=MailingStatus.choices, default=MailingStatus.DRAFT, db_index=True)
    # Messages per second across all workers; 0 means as fast as they go.
    rate_limit = models.PositiveIntegerField(_("messages per second"), default=0)

    # A/B subject test: a share of the recipients gets the variants; the rest get the winner.
    ab_sample_percent = models.PositiveSmallIntegerField(
        _("test sample (%)"), default=20, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    ab_measure = models.CharField(_("winner by"), max_length=8, choices=AbMeasure.choices, default=AbMeasure.CLICKS)
    ab_wait_minutes = models.PositiveIntegerField(_("pick the winner after (minutes)"), default=60)
    ab_winner = models.PositiveSmallIntegerField(null=True, blank=True)
    ab_decided_at = models.DateTimeField(null=True, blank=True)

    snapshot = models.ForeignKey(
        "segments.SegmentSnapshot", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recipients = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Set by every batch as it ends: a sending mailing with no heartbeat for a lease has lost its workers.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def refcode(self) -> str:
        """Every Barnstorm link in the mailing carries it, so actions are attributed to the mailing."""
        return f"mail-{self.pk}"

    def variant_refcode(self, variant: int) -> str:
        return f"mail-{self.pk}-{'abcd'[variant]}"

    @property
    def is_editable(self) -> bool:
        return self.status in (MailingStatus.DRAFT, MailingStatus.SCHEDULED)


class Variant(models.Model):
    """One subject line. A mailing has one to four; with more than one it is an A/B test."""

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="variants")
    index = models.PositiveSmallIntegerField()
    subject = models.CharField(_("subject"), max_length=300)

    class Meta:
        ordering = ["index"]
        constraints = [models.UniqueConstraint(fields=["mailing", "index"], name="variant_index_unique")]

    @property
    def letter(self) -> str:
        return "ABCD"[self.index]


class DeliveryStatus(models.TextChoices):
    HELD = "held", _("Held for the A/B winner")
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    SUPPRESSED = "suppressed", _("Not sent: unsubscribed or bouncing")
    FAILED = "failed", _("Refused by the mail server")
    CANCELLED = "cancelled", _("Not sent: mailing stopped")


class Delivery(models.Model):
    """One recipient of one mailing, written before the message leaves.

    Unique on (mailing, person): nobody can be given a second copy by a retry or a second worker.
    A row moves queued → sending (claimed by a batch) → sent; only the one message a dead worker
    had on the wire can be in doubt, and SMTP counts a message as taken only once the server says
    250, so a claimed row that never got that answer is sent again (see services.py).
    """

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+", db_index=False)
    address = models.CharField(max_length=254)
    variant = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    complained_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mailing", "person"], name="delivery_once_per_person")]
        indexes = [
            models.Index(fields=["mailing", "status", "id"], name="delivery_mailing_status"),
            models.Index(fields=["person"], name="delivery_person"),
        ]


class Link(models.Model):
    """A link that was in a mailing: the only places its click redirect will send anyone."""

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="links")
    index = models.PositiveSmallIntegerField()
    url = models.URLField(max_length=2000)
    clicks = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["index"]
        constraints = [models.UniqueConstraint(fields=["mailing", "index"], name="link_index_unique")]
