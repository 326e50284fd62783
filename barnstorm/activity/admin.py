from django.contrib import admin

from barnstorm.activity.models import Activity


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only and written by services."""

    list_display = ["person", "kind", "occurred_at", "actor"]
    list_filter = ["kind"]
    raw_id_fields = ["person", "actor"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
