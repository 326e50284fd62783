"""Field campaigns: scripts and questions, the contacts volunteers lease in batches, and every
attempt and answer that comes back (phone banks, peer-to-peer texting, canvassing)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Script(models.Model):
    """Text blocks and questions, read and asked in order, with simple branching on an answer."""

    name = models.CharField(_("name"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StepKind(models.TextChoices):
    TEXT = "text", _("Text to read")
    SINGLE = "single", _("Question: one answer")
    MULTIPLE = "multiple", _("Question: several answers")
    FREE = "free", _("Question: free text")


class Step(models.Model):
    script = models.ForeignKey(Script, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=8, choices=StepKind.choices)
    # For a question, the short name organizers see in results and segments ("Support").
    name = models.CharField(_("short name"), max_length=100, blank=True)
    text = models.TextField(_("text"))

    class Meta:
        ordering = ["script", "position"]
        constraints = [models.UniqueConstraint(fields=["script", "position"], name="step_position_unique")]

    def __str__(self) -> str:
        return self.name or self.text[:60]

    @property
    def is_question(self) -> bool:
        return self.kind != StepKind.TEXT


class Choice(models.Model):
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="choices")
    position = models.PositiveSmallIntegerField()
    label = models.CharField(_("label"), max_length=200)
    # Branching: choosing this answer jumps to that step instead of the next one.
    goto = models.ForeignKey(Step, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["step", "position"]

    def __str__(self) -> str:
        return self.label


class CampaignKind(models.TextChoices):
    PHONE = "phone", _("Phone bank")
    TEXT = "text", _("Peer-to-peer texting")
    CANVASS = "canvass", _("Canvass")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    CLOSED = "closed", _("Closed")


class FieldCampaign(models.Model):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=8, choices=CampaignKind.choices)
    description = models.TextField(_("instructions for volunteers"), blank=True)
    status = models.CharField(max_length=8, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    script = models.ForeignKey(Script, on_delete=models.PROTECT, related_name="campaigns")
    segment = models.ForeignKey(
        "segments.Segment", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("target")
    )
    snapshot = models.ForeignKey(
        "segments.SegmentSnapshot", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A virtual phone bank party: the event whose attendees call together.
    event = models.ForeignKey(
        "events.Event", null=True, blank=True, on_delete=models.SET_NULL, related_name="field_campaigns"
    )
    batch_size = models.PositiveSmallIntegerField(_("contacts per batch"), default=25)
    lease_minutes = models.PositiveSmallIntegerField(_("minutes a volunteer holds a batch"), default=30)
    retry_hours = models.PositiveSmallIntegerField(_("hours before trying a contact again"), default=24)
    max_attempts = models.PositiveSmallIntegerField(_("attempts per contact"), default=3)
    # Texting: the first message, personalised per contact ({{ person.given_name }} …).
    initial_message = models.TextField(_("first text"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class ContactStatus(models.TextChoices):
    AVAILABLE = "available", _("Waiting for a volunteer")
    LEASED = "leased", _("With a volunteer")
    DONE = "done", _("Done")


class Contact(models.Model):
    """One person to reach in one campaign. Leased to one volunteer at a time, for a while."""

    campaign = models.ForeignKey(FieldCampaign, on_delete=models.CASCADE, related_name="contacts", db_index=False)
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+", db_index=False)
    phone = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=10, choices=ContactStatus.choices, default=ContactStatus.AVAILABLE)
    leased_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    leased_until = models.DateTimeField(null=True, blank=True)
    # Not before: a contact tried without reaching them waits `retry_hours` before the next try.
    available_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_disposition = models.CharField(max_length=16, blank=True)
    # Canvassing: the household this person lives in (set when turfs are cut).
    door = models.ForeignKey("Door", null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "person"], name="contact_once_per_campaign")]
        indexes = [
            models.Index(fields=["campaign", "status", "id"], name="contact_pool"),
            models.Index(fields=["leased_to", "status"], name="contact_holder"),
            models.Index(fields=["status", "leased_until"], name="contact_lease_expiry"),
        ]


class Disposition(models.TextChoices):
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    LEFT_MESSAGE = "left_message", _("Left a message")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    REFUSED = "refused", _("Refused")
    MOVED = "moved", _("Moved")
    DO_NOT_CONTACT = "do_not_contact", _("Do not contact")
    NOT_HOME = "not_home", _("Not home")


# After these the contact is finished; after the others it goes back to the pool until
# the campaign's attempts run out.
FINAL_DISPOSITIONS = {
    Disposition.REACHED,
    Disposition.WRONG_NUMBER,
    Disposition.REFUSED,
    Disposition.MOVED,
    Disposition.DO_NOT_CONTACT,
}


class Attempt(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="attempt_set")
    campaign = models.ForeignKey(FieldCampaign, on_delete=models.CASCADE, related_name="attempts", db_index=False)
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+", db_index=False)
    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=8, choices=CampaignKind.choices)
    disposition = models.CharField(max_length=16, choices=Disposition.choices)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["campaign", "created_at"], name="attempt_campaign_time"),
            # "Nobody is called twice in a day", across campaigns: a person's latest attempts.
            models.Index(fields=["person", "channel", "created_at"], name="attempt_person_recent"),
        ]


class Answer(models.Model):
    """One response to one question, per person, per attempt (a free-text answer has no choice)."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="answers")
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+", db_index=False)
    step = models.ForeignKey(Step, on_delete=models.PROTECT, related_name="answers")
    choice = models.ForeignKey(Choice, null=True, blank=True, on_delete=models.PROTECT, related_name="answers")
    text = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["step", "choice"], name="answer_response"),
            models.Index(fields=["person"], name="answer_person"),
        ]


# Peer-to-peer texting --------------------------------------------------------------------------


class SendingNumber(models.Model):
    """A number texts go out from. Each stays under its daily cap; a campaign spreads over its pool."""

    number = models.CharField(max_length=20, unique=True, help_text=_("E.164, e.g. +15155550100"))
    daily_cap = models.PositiveIntegerField(_("texts a day"), default=200)
    is_active = models.BooleanField(default=True)
    campaigns = models.ManyToManyField(FieldCampaign, blank=True, related_name="sending_numbers")

    def __str__(self) -> str:
        return self.number


class NumberUsage(models.Model):
    """Texts sent from one number on one day (counted with F(), under the cap)."""

    sending_number = models.ForeignKey(SendingNumber, on_delete=models.CASCADE, related_name="usage")
    day = models.DateField()
    sent = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sending_number", "day"], name="number_usage_per_day")]


class TextDirection(models.TextChoices):
    OUT = "out", _("Sent")
    IN = "in", _("Received")


class TextMessage(models.Model):
    """One text of a conversation between a volunteer (through a sending number) and a contact."""

    campaign = models.ForeignKey(FieldCampaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="texts")
    person = models.ForeignKey("people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    direction = models.CharField(max_length=3, choices=TextDirection.choices)
    body = models.TextField()
    from_number = models.CharField(max_length=20)
    to_number = models.CharField(max_length=20, db_index=True)
    status = models.CharField(max_length=12, blank=True)  # queued, sent, delivered, failed, received
    # The provider's message id: an inbound webhook delivered twice is one message.
    provider_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    error = models.CharField(max_length=300, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]


class CannedResponse(models.Model):
    campaign = models.ForeignKey(FieldCampaign, on_delete=models.CASCADE, related_name="canned_responses")
    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("text"))

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


# Canvassing ----------------------------------------------------------------------------------


class TurfStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLAIMED = "claimed", _("Claimed")
    DONE = "done", _("Done")


class Turf(models.Model):
    """A walkable set of doors, in route order, that one canvasser (or pair) claims."""

    campaign = models.ForeignKey(FieldCampaign, on_delete=models.CASCADE, related_name="turfs")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=TurfStatus.choices, default=TurfStatus.OPEN)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    route_meters = models.FloatField(default=0)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["campaign", "number"]
        constraints = [models.UniqueConstraint(fields=["campaign", "number"], name="turf_number_unique")]

    def __str__(self) -> str:
        return f"Turf {self.number}"


class DoorResult(models.TextChoices):
    NOT_HOME = "not_home", _("Not home")
    TALKED = "talked", _("Talked")
    REFUSED = "refused", _("Refused")
    MOVED = "moved", _("Moved")
    INACCESSIBLE = "inaccessible", _("Couldn't reach the door")


class Door(models.Model):
    """A household: everyone of the campaign's contacts at one street address."""

    campaign = models.ForeignKey(FieldCampaign, on_delete=models.CASCADE, related_name="doors")
    turf = models.ForeignKey(Turf, null=True, blank=True, on_delete=models.SET_NULL, related_name="doors")
    position = models.PositiveIntegerField(default=0)  # order along the turf's walking route
    line1 = models.CharField(max_length=200)
    city = models.CharField(max_length=100, blank=True)
    zip_code = models.CharField(max_length=10, blank=True)
    latitude = models.FloatField()
    longitude = models.FloatField()
    result = models.CharField(max_length=12, choices=DoorResult.choices, blank=True)
    knocked_at = models.DateTimeField(null=True, blank=True)
    knocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["turf", "position", "id"]
        indexes = [models.Index(fields=["campaign", "turf", "position"], name="door_route")]
