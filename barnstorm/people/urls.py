from django.urls import path

from barnstorm.people import views, views_import

app_name = "people"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/thanks/", views.signup_thanks, name="signup_thanks"),
    path("people/", views.person_list, name="list"),
    path("people/export.csv", views.person_export, name="export"),
    path("people/add/", views.person_add, name="add"),
    path("people/import/", views_import.import_upload, name="import"),
    path("people/import/<uuid:token>/map/", views_import.import_map, name="import_map"),
    path("people/import/<int:job_id>/", views_import.import_job, name="import_job"),
    path("people/import/<int:job_id>/progress/", views_import.import_progress, name="import_progress"),
    path("people/import/<int:job_id>/rejected.csv", views_import.import_report, name="import_report"),
    path("people/<int:person_id>/", views.person_detail, name="detail"),
    path("people/<int:person_id>/tags/", views.person_tag_add, name="tag_add"),
    path("people/<int:person_id>/tags/<int:tag_id>/remove/", views.person_tag_remove, name="tag_remove"),
    path("people/<int:person_id>/lists/", views.person_list_add, name="list_add"),
    path("people/<int:person_id>/consent/", views.person_consent, name="consent"),
    path("people/<int:person_id>/merge/", views.person_merge, name="merge"),
    path("tags/", views.tag_list, name="tags"),
    path("tags/<int:tag_id>/", views.tag_edit, name="tag_edit"),
    path("lists/", views.list_index, name="lists"),
    path("groups/", views.group_index, name="groups"),
    path("groups/<slug:slug>/", views.group_detail, name="group_detail"),
]
