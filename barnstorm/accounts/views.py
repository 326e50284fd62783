from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils import timezone

from barnstorm.accounts.permissions import organizer_required
from barnstorm.activity import kinds
from barnstorm.activity.models import Activity
from barnstorm.people.models import LocalGroup, PeopleList, Person, Tag
from barnstorm.people.permissions import is_group_leader


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
    """The organizer's home: the shell every area hangs off. Later issues add their panels."""
    week_ago = timezone.now() - timezone.timedelta(days=7)
    recent = Activity.objects.filter(occurred_at__gte=week_ago)
    context = {
        "people_count": Person.objects.count(),
        "new_this_week": Person.objects.filter(created_at__gte=week_ago).count(),
        "group_count": LocalGroup.objects.count(),
        "tag_count": Tag.objects.count(),
        "list_count": PeopleList.objects.count(),
        "activity_by_kind": [
            (kinds.label(row["kind"]), row["n"])
            for row in recent.values("kind").annotate(n=Count("id")).order_by("-n")[:8]
        ],
        "latest": Activity.objects.select_related("person")[:15],
    }
    return render(request, "accounts/home.html", context)
