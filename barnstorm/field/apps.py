from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldConfig(AppConfig):
    name = "barnstorm.field"
    label = "field"
    verbose_name = _("Field")

    def ready(self):
        from barnstorm.activity import kinds

        kinds.register("field_attempt", _("Was called, texted or visited by a volunteer"))
        kinds.register("field_answer", _("Answered a question"))
        kinds.register("field_volunteered", _("Called, texted or canvassed as a volunteer"))
