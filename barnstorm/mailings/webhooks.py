"""django-anymail tracking events: bounces, complaints and unsubscribes from any provider."""

from barnstorm.mailings import services

EVENTS = {"bounced": "bounced", "complained": "complained", "unsubscribed": "unsubscribed"}
# A provider "rejects" a message it won't even try to deliver; only some reasons are the address's.
# "blocked" and "other" are mostly about us (a content or policy filter, a sender block): taken as
# bounces, one such rejection would stop mail to everyone on the list.
REJECTED_BECAUSE = {"invalid": "bounced", "bounced": "bounced", "spam": "complained", "unsubscribed": "unsubscribed"}


def anymail_tracking_received(sender, event, esp_name, **kwargs) -> None:
    if event.event_type == "rejected":
        kind = REJECTED_BECAUSE.get(event.reject_reason)
    else:
        kind = EVENTS.get(event.event_type)
    if kind is None or not event.recipient:
        return
    delivery = str((event.metadata or {}).get("delivery") or "")
    # isdecimal, not isdigit: "²" is a digit that int() refuses, and a 500 makes the provider retry forever.
    services.email_event_record(
        address=event.recipient, event=kind, delivery_id=int(delivery) if delivery.isdecimal() else None
    )
