"""Re-encrypt every stored secret with the first key of CRMADMIN_ENCRYPTION_KEYS.

Run it after putting a new key first (and keeping the old one after it); then the old
key can be dropped. Works on the raw column values, so rows are not otherwise touched
(``updated_at`` keeps its value) and every model with an ``EncryptedTextField`` is covered.
"""

from typing import Any

from cryptography.fernet import InvalidToken
from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from crmadmin.zoho.crypto import EncryptedTextField, rotate


class Command(BaseCommand):
    help = "Re-encrypt every stored secret with the first key of CRMADMIN_ENCRYPTION_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        with transaction.atomic():
            for model in apps.get_models():
                columns = [
                    f.column
                    for f in model._meta.concrete_fields
                    if isinstance(f, EncryptedTextField)
                ]
                if columns:
                    total += self._rotate_table(
                        model._meta.db_table, model._meta.pk.column, columns
                    )
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {total} secret(s) with the first key."))

    def _rotate_table(self, table: str, pk: str, columns: list[str]) -> int:
        q = connection.ops.quote_name
        rotated = 0
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {q(pk)}, {', '.join(q(c) for c in columns)} FROM {q(table)}"  # noqa: S608
            )
            for row in cursor.fetchall():
                values = {}
                for column, stored in zip(columns, row[1:], strict=True):
                    if not stored:
                        continue
                    try:
                        values[column] = rotate(stored)
                    except (InvalidToken, ValueError) as exc:
                        raise CommandError(
                            f"{table}.{column} of row {row[0]} cannot be decrypted with any "
                            "configured key; nothing was changed"
                        ) from exc
                if values:
                    assignments = ", ".join(f"{q(c)} = %s" for c in values)
                    cursor.execute(
                        f"UPDATE {q(table)} SET {assignments} WHERE {q(pk)} = %s",  # noqa: S608
                        [*values.values(), row[0]],
                    )
                    rotated += len(values)
        return rotated
