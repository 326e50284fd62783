from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "barnstorm.events"
    label = "events"
    verbose_name = _("Events")

    def ready(self):
        from barnstorm.activity import kinds

        kinds.register("rsvp", _("RSVPed to an event"))
        kinds.register("rsvp_cancelled", _("Cancelled an RSVP"))
        kinds.register("attended", _("Attended an event"))
        kinds.register("event_proposed", _("Proposed an event to host"))
        kinds.register("hosted_event", _("Hosts an event"))
        kinds.register("event_message", _("Got a message from an event's host"))
