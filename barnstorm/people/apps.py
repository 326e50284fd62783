from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "barnstorm.people"
    label = "people"

    def ready(self):
        from barnstorm.activity import kinds

        kinds.register("signup", _("Signed up"))
        kinds.register("imported", _("Imported"))
        kinds.register("added_by_staff", _("Added by staff"))
        kinds.register("tag_added", _("Tagged"))
        kinds.register("tag_removed", _("Tag removed"))
        kinds.register("group_joined", _("Joined a local group"))
        kinds.register("email_status", _("Email status changed"))
        kinds.register("sms_opt_out", _("Opted out of texts"))
        kinds.register("do_not_call", _("Asked not to be called"))
        kinds.register("merged", _("Merged with a duplicate"))
        kinds.register("recruited", _("Brought in a new supporter"))
