from django.contrib.auth import views as auth_views
from django.urls import path

from barnstorm.accounts import views, views_magic

app_name = "accounts"

urlpatterns = [
    path("", views.root, name="root"),
    path("home/", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("sign-in/", views_magic.magic_start, name="magic_start"),
    path("sign-in/sent/", views_magic.magic_sent, name="magic_sent"),
    path("sign-in/<str:token>/", views_magic.magic_open, name="magic_open"),
]
