from django.urls import path

from barnstorm.segments import views

app_name = "segments"

urlpatterns = [
    path("segments/", views.segment_list, name="list"),
    path("segments/new/", views.segment_builder, name="new"),
    path("segments/count/", views.segment_count, name="count"),
    path("segments/predicate/", views.predicate_params, name="predicate_params"),
    path("segments/predicate/add/", views.predicate_add, name="predicate_add"),
    path("segments/<int:segment_id>/", views.segment_builder, name="edit"),
    path("segments/<int:segment_id>/export.csv", views.segment_export, name="export"),
    path("segments/<int:segment_id>/snapshot/", views.segment_snapshot, name="snapshot"),
]
