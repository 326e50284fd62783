"""Host and organizer pages of events (included by events/urls.py, in the "events" namespace)."""

from django.urls import path

from barnstorm.events import views_host, views_staff

urlpatterns = [
    # Hosts (any signed-in supporter), group leaders for their groups' events, organizers.
    path("events/host/", views_host.host_event, name="host"),
    path("events/mine/", views_host.my_events, name="mine"),
    path("events/<int:event_id>/manage/", views_host.manage, name="manage"),
    path("events/<int:event_id>/edit/", views_host.edit, name="edit"),
    path("events/<int:event_id>/cancel/", views_host.cancel, name="cancel"),
    path("events/<int:event_id>/message/", views_host.message, name="message"),
    path("events/<int:event_id>/checkin/", views_host.checkin, name="checkin"),
    path("events/<int:event_id>/checkin/search/", views_host.checkin_search, name="checkin_search"),
    path("events/<int:event_id>/checkin/walk-in/", views_host.walk_in, name="walk_in"),
    # The barnstorm flow: attendees of a barnstorm meeting propose their own events.
    path("events/<int:event_id>/spawn/", views_host.spawn, name="spawn"),
    # Organizers.
    path("events/staff/", views_staff.event_list, name="staff_events"),
    path("events/staff/moderation/", views_staff.moderation, name="moderation"),
    path("events/staff/<int:event_id>/", views_staff.event_detail, name="staff_event"),
    path("events/staff/<int:event_id>/approve/", views_staff.approve, name="approve"),
    path("events/staff/<int:event_id>/reject/", views_staff.reject, name="reject"),
    path("events/campaigns/", views_staff.campaign_list, name="campaigns"),
    path("events/campaigns/new/", views_staff.campaign_edit, name="campaign_new"),
    path("events/campaigns/<int:campaign_id>/", views_staff.campaign_detail, name="campaign_detail"),
    path("events/campaigns/<int:campaign_id>/edit/", views_staff.campaign_edit, name="campaign_edit"),
    path("events/campaigns/<int:campaign_id>/delete/", views_staff.campaign_delete, name="campaign_delete"),
]
