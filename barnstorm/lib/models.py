"""Tables that belong to no domain: the SMS sandbox's phone, and claims on one-off deliveries."""

from django.db import models
from django.db.models import Q


class SandboxDirection(models.TextChoices):
    OUTBOUND = "outbound", "outbound"
    INBOUND = "inbound", "inbound"


class SandboxMessage(models.Model):
    """A text the embedded SMS sandbox sent or received: the tests' and the demo's phone network.

    Nothing leaves the machine: a sent text is a row here, delivered at once; a reply is a row
    that the sandbox's `receive` (or a signed webhook) adds.
    """

    message_id = models.CharField(max_length=34, unique=True)  # "SB" + 32 hex, shaped like Twilio's SIDs
    direction = models.CharField(max_length=8, choices=SandboxDirection.choices, default=SandboxDirection.OUTBOUND)
    to_number = models.CharField(max_length=20)
    from_number = models.CharField(max_length=20)
    body = models.TextField()
    segments = models.PositiveSmallIntegerField(default=1)
    # The sender's own key for the message; a second send with the same reference sends nothing.
    reference = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=12)
    error_code = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["reference"], condition=~Q(reference=""), name="sandbox_reference_once"),
        ]
        indexes = [models.Index(fields=["to_number", "created_at"], name="sandbox_to_created")]

    def __str__(self) -> str:
        return f"{self.direction} {self.to_number}: {self.body[:40]}"


class DeliveryClaim(models.Model):
    """A one-off message that has no column of its own to claim (an event's follow-up to its host).

    The row is inserted before sending (its unique key makes a second insert fail, so two
    workers cannot both send) and deleted if sending fails, so that a later run tries again.
    """

    key = models.CharField(max_length=200, unique=True)
    claimed_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.key
