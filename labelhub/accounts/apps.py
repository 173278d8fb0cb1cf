from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "labelhub.accounts"
    label = "accounts"
