from django.urls import path

from barnstorm.donations import views

app_name = "donations"

urlpatterns = [
    path("donate/recurring/<str:token>/", views.recurring_manage, name="recurring_manage"),
    path("donate/<slug:slug>/", views.donate, name="donate"),
    path("donate/<slug:slug>/thanks/", views.thanks, name="thanks"),
    path("donate/<slug:slug>/express/", views.express, name="express"),
]
