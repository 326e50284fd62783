from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "barnstorm.activity"
    label = "activity"
