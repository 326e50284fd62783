"""Field URLs, one module per part: volunteers' pages, organizers' pages, texting, canvassing."""

from django.urls import include, path

app_name = "field"

urlpatterns = [
    path("field/", include("barnstorm.field.urls_volunteer")),
    path("field/staff/", include("barnstorm.field.urls_staff")),
    path("field/", include("barnstorm.field.urls_texting")),
    path("field/", include("barnstorm.field.urls_canvass")),
]
