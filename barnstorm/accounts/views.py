from django.apps import apps
from django.conf import settings
from django.shortcuts import redirect, render

from barnstorm.accounts.permissions import organizer_required
from barnstorm.people.permissions import is_group_leader
from barnstorm.segments import dashboard


def root(request):
    """Where "/" and a fresh login lead: staff home, a leader's groups, or the signup form."""
    if request.user.is_authenticated and request.user.is_organizer:
        return redirect("accounts:home")
    if is_group_leader(request.user):
        return redirect("people:groups")
    if request.user.is_authenticated:
        return redirect("events:mine")  # a signed-in supporter: the events they host and attend
    return redirect("people:signup")


@organizer_required
def home(request):
    """The organizer's dashboard: cached figures (refreshed by a task), drawn as charts."""
    recent, base = dashboard.dashboard_cached()
    context = {
        "recent": recent,
        "base": base,
        "people_count": base.people if base else None,
        "charts": dashboard.dashboard_charts(recent, base),
        "markers": dashboard.map_markers(base),
        "leaflet": apps.is_installed("js_lib_leaflet"),
        "tile_url": settings.MAP_TILE_URL,
    }
    return render(request, "accounts/home.html", context)
