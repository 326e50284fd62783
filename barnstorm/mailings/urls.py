from django.urls import path

from barnstorm.mailings import views, views_public

app_name = "mailings"

urlpatterns = [
    # Organizers
    path("mailings/", views.mailing_list, name="list"),
    path("mailings/new/", views.mailing_edit, name="new"),
    path("mailings/<int:pk>/", views.mailing_detail, name="detail"),
    path("mailings/<int:pk>/edit/", views.mailing_edit, name="edit"),
    path("mailings/<int:pk>/preview/", views.mailing_preview, name="preview"),
    path("mailings/<int:pk>/test/", views.mailing_test, name="test_send"),
    path("mailings/<int:pk>/schedule/", views.mailing_schedule, name="schedule"),
    path("mailings/<int:pk>/unschedule/", views.mailing_unschedule, name="unschedule"),
    path("mailings/<int:pk>/send/", views.mailing_send_now, name="send"),
    path("mailings/<int:pk>/pause/", views.mailing_pause, name="pause"),
    path("mailings/<int:pk>/resume/", views.mailing_resume, name="resume"),
    path("mailings/<int:pk>/stop/", views.mailing_stop, name="stop"),
    path("mailings/<int:pk>/progress/", views.mailing_progress, name="progress"),
    path("mailings/topics/", views.topic_list, name="topics"),
    # Recipients (signed links in each message)
    path("m/o/<str:token>/", views_public.opened, name="open"),
    path("m/c/<str:token>/<int:index>/", views_public.clicked, name="click"),
    path("m/u/<str:token>/", views_public.unsubscribe, name="unsubscribe"),
    path("m/p/<str:token>/", views_public.preferences, name="preferences"),
]
