from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "crmadmin.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"
