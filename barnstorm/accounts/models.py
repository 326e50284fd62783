from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    ORGANIZER = "organizer", _("Organizer")
    VOLUNTEER = "volunteer", _("Volunteer")


class User(AbstractUser):
    """A login. Group leadership is not a role here: it lives on the group membership."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VOLUNTEER)
    person = models.OneToOneField(
        "people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="user"
    )

    @property
    def is_organizer(self) -> bool:
        """Staff of the campaign: organizers and admins see every supporter."""
        return self.is_active and (self.is_superuser or self.role in (Role.ADMIN, Role.ORGANIZER))
