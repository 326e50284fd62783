from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("barnstorm.accounts.urls")),
    path("", include("barnstorm.people.urls")),
    path("", include("barnstorm.donations.urls")),
    path("django-admin/", admin.site.urls),
]
