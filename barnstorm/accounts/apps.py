from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "barnstorm.accounts"
    label = "accounts"
