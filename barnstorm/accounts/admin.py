from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from barnstorm.accounts.models import User


@admin.register(User)
class BarnstormUserAdmin(UserAdmin):
    list_display = ["username", "email", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    fieldsets = [*UserAdmin.fieldsets, ("Barnstorm", {"fields": ["role", "person"]})]
    raw_id_fields = ["person"]
