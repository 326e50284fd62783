from django.urls import include, path

from barnstorm.events import views

app_name = "events"

urlpatterns = [
    path("events/<int:event_id>/", views.event_detail, name="detail"),
    path("events/rsvp/<str:token>/", views.rsvp_manage, name="rsvp_manage"),
    path("", include("barnstorm.events.urls_host")),
]
