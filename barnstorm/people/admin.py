from django.contrib import admin

from barnstorm.people.models import (
    EmailAddress,
    ImportJob,
    LocalGroup,
    MergeRecord,
    PeopleList,
    Person,
    PhoneNumber,
    Tag,
)


class EmailInline(admin.TabularInline):
    model = EmailAddress
    extra = 0


class PhoneInline(admin.TabularInline):
    model = PhoneNumber
    extra = 0


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["id", "given_name", "family_name", "source", "created_at"]
    search_fields = ["emails__address", "family_name"]
    inlines = [EmailInline, PhoneInline]
    show_full_result_count = False


admin.site.register(Tag)
admin.site.register(PeopleList)
admin.site.register(LocalGroup)


@admin.register(MergeRecord)
class MergeRecordAdmin(admin.ModelAdmin):
    list_display = ["survivor", "merged_person_id", "actor", "created_at"]
    readonly_fields = ["survivor", "merged_person_id", "merged_snapshot", "actor", "created_at"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["original_name", "status", "imported", "updated", "rejected", "created_by", "created_at"]
    list_filter = ["status"]
