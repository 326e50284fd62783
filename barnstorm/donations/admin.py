from django.contrib import admin

from barnstorm.donations.models import Committee, ContributionLimit, DonationPage, PageRecipient


class PageRecipientInline(admin.TabularInline):
    model = PageRecipient
    extra = 1


@admin.register(DonationPage)
class DonationPageAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "is_active"]
    inlines = [PageRecipientInline]


@admin.register(Committee)
class CommitteeAdmin(admin.ModelAdmin):
    list_display = ["name", "fec_id", "report_form", "over_limit_policy"]


@admin.register(ContributionLimit)
class ContributionLimitAdmin(admin.ModelAdmin):
    list_display = ["cycle", "amount_cents"]
