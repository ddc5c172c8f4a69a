from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "unionaid.accounts"
    label = "accounts"
