from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailingsConfig(AppConfig):
    name = "barnstorm.mailings"
    label = "mailings"
    verbose_name = _("Mailings")

    def ready(self):
        from barnstorm.activity import kinds

        kinds.register("email_opened", _("Opened an email"))
        kinds.register("email_clicked", _("Clicked a link in an email"))
        kinds.register("email_unsubscribed", _("Unsubscribed from email"))
        kinds.register("email_bounced", _("An email bounced"))
        kinds.register("email_complained", _("Marked an email as spam"))
        kinds.register("email_topics", _("Changed email topics"))

        # django-anymail reports bounces, complaints and unsubscribes from any provider's
        # tracking webhook as one signal; the receiver only hands them to a service.
        from anymail.signals import tracking

        from barnstorm.mailings.webhooks import anymail_tracking_received

        tracking.connect(anymail_tracking_received, dispatch_uid="barnstorm-mailings-tracking")
