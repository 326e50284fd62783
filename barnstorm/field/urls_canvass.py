"""Field URLs: canvassing (mounted under "field/"; names are "field:canvass_…")."""

from django.urls import path

from barnstorm.field import views_canvass as views

urlpatterns = [
    # Volunteers
    path("<int:campaign_id>/turfs/", views.canvass_turfs, name="canvass_turfs"),
    path("<int:campaign_id>/turfs/<int:turf_id>/", views.canvass_walk, name="canvass_walk"),
    path("<int:campaign_id>/turfs/<int:turf_id>/sheet.pdf", views.canvass_sheet, name="canvass_sheet"),
    path("<int:campaign_id>/turfs/<int:turf_id>/claim/", views.canvass_claim, name="canvass_claim"),
    path("<int:campaign_id>/turfs/<int:turf_id>/release/", views.canvass_release, name="canvass_release"),
    path("<int:campaign_id>/turfs/<int:turf_id>/doors/<int:door_id>/", views.canvass_door, name="canvass_door"),
    # Organizers
    path("<int:campaign_id>/turfs/cut/", views.canvass_cut, name="canvass_cut"),
    path("<int:campaign_id>/turfs/map/", views.canvass_map, name="canvass_map"),
    path("<int:campaign_id>/turfs/doors/<int:door_id>/move/", views.canvass_move, name="canvass_move"),
]
