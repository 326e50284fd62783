from django.conf import settings
from django.db import models
from django.utils import timezone

from barnstorm.activity import kinds


class Activity(models.Model):
    """One thing a person did. Append-only: written by services, never edited."""

    # Indexed by activity_person_time below, which also answers lookups by person alone.
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="activities", db_index=False)
    kind = models.CharField(max_length=40)
    occurred_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["person", "-occurred_at"], name="activity_person_time"),
            models.Index(fields=["kind", "occurred_at"], name="activity_kind_time"),
        ]

    def __str__(self) -> str:
        return f"{self.kind_label} ({self.occurred_at:%Y-%m-%d})"

    @property
    def kind_label(self) -> str:
        return kinds.label(self.kind)
