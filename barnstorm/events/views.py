"""The supporter's side of events."""

from django.http import Http404
from django.shortcuts import get_object_or_404, render

from barnstorm.events import links, selectors
from barnstorm.events.models import Event, EventStatus, Rsvp


def event_detail(request, event_id):
    event = get_object_or_404(Event.objects.select_related("host"), pk=event_id)
    if event.status not in (EventStatus.PUBLISHED, EventStatus.CANCELLED):
        raise Http404
    return render(request, "events/event_detail.html", {"event": event, "seats_left": selectors.seats_left(event)})


def rsvp_manage(request, token):
    rsvp_id = links.rsvp_manage_id(token)
    if rsvp_id is None:
        raise Http404
    rsvp = get_object_or_404(Rsvp.objects.select_related("event"), pk=rsvp_id)
    return render(request, "events/rsvp_manage.html", {"rsvp": rsvp, "event": rsvp.event})
