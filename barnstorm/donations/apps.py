from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DonationsConfig(AppConfig):
    name = "barnstorm.donations"
    label = "donations"
    verbose_name = _("Donations")

    def ready(self):
        from barnstorm.activity import kinds
        from barnstorm.people.signals import person_merged

        person_merged.connect(_merged_donor_review, dispatch_uid="donations-merged-donor-review")

        kinds.register("donation", _("Donated"))
        kinds.register("donation_refunded", _("Donation refunded"))
        kinds.register("donation_charged_back", _("Donation charged back"))
        kinds.register("recurring_started", _("Started a recurring gift"))
        kinds.register("recurring_changed", _("Changed a recurring gift"))
        kinds.register("recurring_cancelled", _("Cancelled a recurring gift"))
        kinds.register("recurring_failed", _("Recurring gift stopped after failed charges"))


def _merged_donor_review(sender, *, survivor, actor=None, **kwargs):
    from barnstorm.donations.services import merged_donor_review

    merged_donor_review(person_id=survivor.pk, merged_person_id=kwargs.get("merged_person_id"))
