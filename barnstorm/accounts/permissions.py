"""Who may do what, for views across Barnstorm. One place, tested with outsiders."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied


def organizer_required(view):
    """Staff views: anonymous visitors go to the login page, everyone else non-staff gets 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_organizer:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
