"""Events that supporters find, host, attend and spawn: the distributed campaign's calendar.

Times are stored in UTC and shown in the event's own IANA time zone. An event's place is
geocoded from its ZIP (or given as coordinates) so radius search needs no network.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    RALLY = "rally", _("Rally")
    CANVASS = "canvass", _("Canvass")
    PHONE_BANK = "phone_bank", _("Phone bank")
    HOUSE_PARTY = "house_party", _("House party")
    BARNSTORM = "barnstorm", _("Barnstorm meeting")
    TRAINING = "training", _("Training")


class EventStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    PUBLISHED = "published", _("Published")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


class EventCampaign(models.Model):
    """A set of events under one banner, such as a national day of action."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("address"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Event(models.Model):
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("type"), max_length=12, choices=EventKind.choices)
    is_virtual = models.BooleanField(_("virtual (online)"), default=False)
    virtual_url = models.URLField(_("link to join"), blank=True)
    status = models.CharField(max_length=10, choices=EventStatus.choices, default=EventStatus.PENDING, db_index=True)
    rejection_reason = models.CharField(max_length=300, blank=True)
    host = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="hosted_events")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    group = models.ForeignKey(
        "people.LocalGroup", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    campaign = models.ForeignKey(EventCampaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    # The barnstorm flow: events proposed by attendees at the end of a barnstorm meeting.
    spawned_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="spawned_events"
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    timezone = models.CharField(_("time zone"), max_length=64, default="America/New_York")
    venue = models.CharField(_("place"), max_length=200, blank=True)
    street = models.CharField(_("street address"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    state = models.CharField(_("state"), max_length=2, blank=True)
    zip_code = models.CharField(_("ZIP code"), max_length=10, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    # A private home: the street address is shown only to people who RSVPed.
    is_private_home = models.BooleanField(_("a private home"), default=False)
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True, help_text=_("Blank: no limit"))
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            # Radius search: a bounding box on these, then exact distance.
            models.Index(fields=["latitude", "longitude"], name="event_lat_lng"),
            models.Index(fields=["starts_at"], condition=Q(status="published"), name="event_published_start"),
        ]

    def __str__(self) -> str:
        return self.title


class Shift(models.Model):
    """A time slot of an event that volunteers pick (a canvass's morning and afternoon turns)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="shifts")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    capacity = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]


class RsvpStatus(models.TextChoices):
    GOING = "going", _("Going")
    WAITLISTED = "waitlisted", _("On the waitlist")
    CANCELLED = "cancelled", _("Cancelled")


def _ticket() -> str:
    return secrets.token_urlsafe(16)


class Rsvp(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="rsvps")
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="rsvps")
    shift = models.ForeignKey(Shift, null=True, blank=True, on_delete=models.SET_NULL, related_name="rsvps")
    status = models.CharField(max_length=10, choices=RsvpStatus.choices, default=RsvpStatus.GOING)
    guests = models.PositiveSmallIntegerField(default=0)
    refcode = models.CharField(max_length=100, blank=True)
    # The check-in ticket (in the QR code): unguessable, so a ticket can't be made up.
    ticket = models.CharField(max_length=32, unique=True, default=_ticket)
    walk_in = models.BooleanField(default=False)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reminded_24h_at = models.DateTimeField(null=True, blank=True)
    reminded_2h_at = models.DateTimeField(null=True, blank=True)
    followed_up_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["event", "person"], name="rsvp_one_per_person")]
        indexes = [models.Index(fields=["event", "status", "created_at"], name="rsvp_event_status")]

    @property
    def seats(self) -> int:
        return 1 + self.guests
