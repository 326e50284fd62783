from django.db.models import QuerySet

from barnstorm.activity.models import Activity


def activity_timeline(*, person_id: int, limit: int = 100) -> QuerySet[Activity]:
    return Activity.objects.filter(person_id=person_id).select_related("actor")[:limit]
