from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class SegmentsConfig(AppConfig):
    name = "barnstorm.segments"
    label = "segments"
    verbose_name = _("Segments")

    def ready(self):
        # Each app's predicates register themselves when their module is imported (registry.py).
        from barnstorm.segments import predicates  # noqa: F401

        if apps.is_installed("barnstorm.donations"):
            from barnstorm.donations import segment_predicates as _donations  # noqa: F401
        if apps.is_installed("barnstorm.events"):
            from barnstorm.events import segment_predicates as _events  # noqa: F401
        if apps.is_installed("barnstorm.field"):
            from barnstorm.field import segment_predicates as _field  # noqa: F401
