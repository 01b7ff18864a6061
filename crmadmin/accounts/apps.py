from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "crmadmin.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        from .roles import sync_roles

        # Runs after the permissions of every app exist (their own post_migrate handlers
        # were connected earlier, when django.contrib.auth became ready).
        post_migrate.connect(sync_roles, dispatch_uid="crmadmin.accounts.sync_roles")
