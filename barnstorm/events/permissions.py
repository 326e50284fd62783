"""Who may run which events, and see whose RSVPs. Every host and staff view of events asks here.

- Organizers (and admins) manage every event and moderate.
- A group leader manages the events of the groups they lead.
- A host manages the events they host.
- Nobody else sees an attendee; a host sees only the attendees of events they manage.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse

from barnstorm.events.models import Event, Rsvp
from barnstorm.people.permissions import groups_visible_to


def events_manageable_by(user) -> QuerySet[Event]:
    """The events `user` may run: edit, cancel, message, check in, see the attendees of."""
    if not user.is_authenticated or not user.is_active:
        return Event.objects.none()
    if user.is_organizer:
        return Event.objects.all()
    if user.person_id is None:
        return Event.objects.none()
    return Event.objects.filter(Q(host_id=user.person_id) | Q(group__in=groups_visible_to(user)))


def can_manage_event(user, event: Event) -> bool:
    return events_manageable_by(user).filter(pk=event.pk).exists()


def can_moderate(user) -> bool:
    return user.is_authenticated and user.is_organizer


def attendees_visible_to(user, event: Event) -> QuerySet[Rsvp]:
    """The RSVPs of `event`, if `user` manages it; none otherwise. Never another event's."""
    return Rsvp.objects.filter(event_id=event.pk, event__in=events_manageable_by(user))


def sign_in_redirect(request):
    """Anonymous visitors to supporter pages sign in with an emailed link, then come back."""
    return redirect_to_login(request.get_full_path(), login_url=reverse("accounts:magic_start"))


def supporter_required(view):
    """Pages for any signed-in supporter (hosting an event): anonymous visitors sign in first."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return sign_in_redirect(request)
        if not request.user.is_active:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def event_manager_required(view):
    """Host pages of one event: the view gets the event instead of its id.

    Anonymous visitors sign in first; anyone signed in who doesn't manage the event gets a
    404, which tells them nothing about whether it exists.
    """

    @wraps(view)
    def wrapper(request, event_id, *args, **kwargs):
        if not request.user.is_authenticated:
            return sign_in_redirect(request)
        event = get_object_or_404(events_manageable_by(request.user), pk=event_id)
        return view(request, event, *args, **kwargs)

    return wrapper


def moderator_required(view):
    """Organizer pages (all events, moderation, campaigns): anonymous → log in, others → 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not can_moderate(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
