"""Field URLs: the volunteer's side of a phone bank (included under "field/" by urls.py)."""

from django.urls import path

from barnstorm.field import views_volunteer as views

urlpatterns = [
    path("", views.home, name="home"),
    path("<int:campaign_id>/", views.campaign, name="campaign"),
    path("<int:campaign_id>/batch/", views.batch, name="batch"),
    path("<int:campaign_id>/release/", views.release, name="release"),
    path("<int:campaign_id>/call/<int:contact_id>/", views.call, name="call"),
    path("<int:campaign_id>/call/<int:contact_id>/bridge/", views.call_bridge, name="call_bridge"),
]
