"""Who may see which people. Organizers see everyone; a group leader sees their own groups."""

from django.db.models import QuerySet

from barnstorm.people.models import GroupRole, LocalGroup


def groups_visible_to(user) -> QuerySet[LocalGroup]:
    """The local groups whose members `user` may see (and contact)."""
    if not user.is_authenticated or not user.is_active:
        return LocalGroup.objects.none()
    if user.is_organizer:
        return LocalGroup.objects.all()
    if user.person_id is None:
        return LocalGroup.objects.none()
    return LocalGroup.objects.filter(groupmembership__person_id=user.person_id, groupmembership__role=GroupRole.LEADER)


def is_group_leader(user) -> bool:
    return user.is_authenticated and not user.is_organizer and groups_visible_to(user).exists()
