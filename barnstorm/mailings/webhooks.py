"""django-anymail tracking events: bounces, complaints and unsubscribes from any provider."""

from barnstorm.mailings import services

EVENTS = {"bounced": "bounced", "rejected": "bounced", "complained": "complained", "unsubscribed": "unsubscribed"}


def anymail_tracking_received(sender, event, esp_name, **kwargs) -> None:
    kind = EVENTS.get(event.event_type)
    if kind is None or not event.recipient:
        return
    delivery = (event.metadata or {}).get("delivery")
    services.email_event_record(
        address=event.recipient, event=kind, delivery_id=int(delivery) if str(delivery or "").isdigit() else None
    )
