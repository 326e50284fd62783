from django.urls import include, path

from barnstorm.events import views

app_name = "events"

urlpatterns = [
    path("events/", views.event_search, name="search"),
    path("events/<int:event_id>/", views.event_detail, name="detail"),
    path("events/<int:event_id>/thanks/", views.rsvp_thanks, name="thanks"),
    path("events/<int:event_id>/event.ics", views.event_ics, name="ics"),
    path("events/rsvp/<str:token>/", views.rsvp_manage, name="rsvp_manage"),
    path("groups/<slug:slug>/events.ics", views.group_events_ics, name="group_ics"),
    path("", include("barnstorm.events.urls_host")),
]
