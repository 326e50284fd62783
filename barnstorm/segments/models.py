"""Saved segments, the point-in-time snapshots sends use, and each person's place on the ladder."""

import json

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Segment(models.Model):
    """A saved query over people: JSON of and / or / not over predicates (docs/segments.md)."""

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    query = models.JSONField(_("query"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The last count taken (shown in lists without counting every segment on every view).
    last_count = models.PositiveIntegerField(null=True, blank=True)
    last_counted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SegmentSnapshot(models.Model):
    """The people a segment held at one moment: what a mailing or a call list is sent to."""

    segment = models.ForeignKey(Segment, null=True, blank=True, on_delete=models.SET_NULL, related_name="snapshots")
    query = models.JSONField()  # as it was when taken: later edits to the segment don't change it
    purpose = models.CharField(max_length=200, blank=True)
    size = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


class SnapshotMember(models.Model):
    snapshot = models.ForeignKey(SegmentSnapshot, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["snapshot", "person"], name="snapshot_member_unique")]


class AuditAction(models.TextChoices):
    CREATED = "created", _("created")
    CHANGED = "changed", _("changed")
    SNAPSHOT = "snapshot", _("snapshot")


class SegmentAudit(models.Model):
    """Who saved a segment or took a snapshot, when, and the query as it was then.

    Written by the service in the same transaction as the change. Rows outlive the segment, the
    snapshot and the user (SET_NULL): what a mailing went to stays traceable.
    """

    # Indexed below together with `at`, for "the last few rows of this segment".
    segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_rows", db_index=False
    )
    action = models.CharField(max_length=10, choices=AuditAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    query = models.JSONField()
    snapshot = models.ForeignKey(SegmentSnapshot, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    size = models.PositiveIntegerField(null=True, blank=True)  # snapshots only
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["segment", "-at"], name="segment_audit_recent")]

    @property
    def query_text(self) -> str:
        return json.dumps(self.query)


class Level(models.IntegerChoices):
    """The engagement ladder's default rungs (the names are configurable in settings)."""

    SUPPORTER = 0, _("Supporter")
    DONOR = 1, _("Donor")
    VOLUNTEER = 2, _("Volunteer")
    LEADER = 3, _("Host / leader")


class Engagement(models.Model):
    """One person's place on the ladder and a recency-weighted score, kept from the activity log."""

    person = models.OneToOneField(
        "people.Person", on_delete=models.CASCADE, primary_key=True, related_name="engagement"
    )
    level = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.SUPPORTER, db_index=True)
    score = models.FloatField(default=0.0)
    level_changed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class LevelChange(models.Model):
    """A move up or down the ladder: the raw material of movement-per-week charts."""

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    from_level = models.PositiveSmallIntegerField(choices=Level.choices)
    to_level = models.PositiveSmallIntegerField(choices=Level.choices)
    changed_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-changed_at"]
