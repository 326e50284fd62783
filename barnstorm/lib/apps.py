from django.apps import AppConfig


class LibConfig(AppConfig):
    name = "barnstorm.lib"
    label = "barnstorm_lib"
