"""Field URLs: the organizers' pages, under field/staff/ (names are field:staff_…)."""

from django.urls import path

from barnstorm.field import views_staff as views

urlpatterns = [
    path("", views.campaign_list, name="staff_campaigns"),
    path("campaigns/new/", views.campaign_edit, name="staff_campaign_new"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="staff_campaign"),
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="staff_campaign_edit"),
    path("campaigns/<int:pk>/launch/", views.campaign_launch, name="staff_campaign_launch"),
    path("campaigns/<int:pk>/pause/", views.campaign_pause, name="staff_campaign_pause"),
    path("campaigns/<int:pk>/resume/", views.campaign_resume, name="staff_campaign_resume"),
    path("campaigns/<int:pk>/close/", views.campaign_close, name="staff_campaign_close"),
    path("campaigns/<int:pk>/holders/", views.campaign_holders, name="staff_holders"),
    path("campaigns/<int:pk>/release/", views.campaign_release, name="staff_release"),
    path("campaigns/<int:pk>/reassign/", views.campaign_reassign, name="staff_reassign"),
    path("scripts/", views.script_list, name="staff_scripts"),
    path("scripts/new/", views.script_edit, name="staff_script_new"),
    path("scripts/<int:pk>/", views.script_edit, name="staff_script"),
    path("numbers/", views.number_list, name="staff_numbers"),
]
