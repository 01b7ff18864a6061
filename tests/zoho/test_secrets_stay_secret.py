"""No token, secret or code in log lines or recorded exchanges; secrets encrypted at rest."""

import io
import json
import logging

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection as db

from crmadmin.zoho import crypto, oauth
from crmadmin.zoho.models import Connection
from crmadmin.zoho.redaction import REDACTED, redact

from .conftest import (
    ACCESS_TOKEN,
    CLIENT_SECRET,
    INVALID_TOKEN,
    MASS_UPDATE_URL,
    MODULES_URL,
    NEW_ACCESS_TOKEN,
    REFRESH_TOKEN,
    TOKEN_URL,
    make_connection,
    success,
    token_response,
)

SECRETS = [ACCESS_TOKEN, NEW_ACCESS_TOKEN, REFRESH_TOKEN, CLIENT_SECRET]


def test_exchanges_and_log_lines_hold_no_token_or_secret(wire, make_client, caplog):
    wire.post(MASS_UPDATE_URL, json=INVALID_TOKEN, status=401)
    wire.post(TOKEN_URL, json=token_response(refresh_token=REFRESH_TOKEN))
    wire.post(MASS_UPDATE_URL, json={"data": [success("111")]})
    exchanges = []
    caplog.set_level(logging.DEBUG)

    make_client(on_exchange=exchanges.append).mass_update("Leads", ["111"], {"Rating": "Hot"})

    assert [(e.method, e.http_status, e.attempt) for e in exchanges] == [
        ("POST", 401, 1),
        ("POST", 200, 1),
        ("POST", 200, 2),
    ]
    stored = json.dumps([e.as_dict() for e in exchanges])
    for secret in SECRETS:
        assert secret not in stored
        assert secret not in caplog.text
    assert exchanges[0].request_headers["Authorization"] == REDACTED
    assert "client_secret=[REDACTED]" in exchanges[1].request_body
    assert '"access_token": "[REDACTED]"' in exchanges[1].response_body
    # What the audit needs stays readable.
    assert '"code": "SUCCESS"' in exchanges[2].response_body
    assert json.loads(exchanges[2].request_body) == {"data": [{"Rating": "Hot"}], "ids": ["111"]}
    assert "zoho POST /crm/v2.1/Leads/actions/mass_update -> 200" in caplog.text


def test_an_authorization_code_never_reaches_a_log_line_or_exchange(wire, connection, caplog):
    wire.post(TOKEN_URL, json={"error": "invalid_code"})
    exchanges = []
    caplog.set_level(logging.DEBUG)

    with pytest.raises(oauth.ZohoOAuthError) as caught:
        oauth.exchange_code(
            connection,
            code="1000.secret-grant-code",
            redirect_uri=None,
            on_exchange=exchanges.append,
        )

    assert "1000.secret-grant-code" not in caplog.text
    assert "1000.secret-grant-code" not in json.dumps(exchanges[0].as_dict())
    assert "1000.secret-grant-code" not in str(caught.value)


def test_a_transport_error_message_is_redacted_too(wire, make_client):
    import requests

    wire.get(
        MODULES_URL,
        body=requests.ConnectionError(f"proxy said: Authorization: Zoho-oauthtoken {ACCESS_TOKEN}"),
    )
    exchanges = []

    with pytest.raises(Exception):
        make_client(max_attempts=1, on_exchange=exchanges.append).modules()

    assert exchanges[0].error.startswith("ConnectionError")
    assert ACCESS_TOKEN not in exchanges[0].error


def test_redact_keeps_response_codes_but_hides_form_codes_and_known_secrets():
    assert redact('{"code": "INVALID_DATA"}') == '{"code": "INVALID_DATA"}'
    assert redact("grant_type=authorization_code&code=1000.abc") == (
        "grant_type=authorization_code&code=[REDACTED]"
    )
    assert redact("echoed s3cr3t-value back", ["s3cr3t-value"]) == f"echoed {REDACTED} back"


# --- Encryption at rest ------------------------------------------------------------------


def raw_secrets(pk: int) -> tuple[str, str, str]:
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT client_secret, refresh_token, access_token FROM zoho_connection WHERE id = %s",
            [pk],
        )
        return cursor.fetchone()


def test_the_database_holds_only_ciphertext_for_secrets(connection):
    for stored, plain in zip(
        raw_secrets(connection.pk), [CLIENT_SECRET, REFRESH_TOKEN, ACCESS_TOKEN], strict=True
    ):
        assert stored.startswith(crypto.PREFIX)
        assert plain not in stored
    assert Connection.objects.get(pk=connection.pk).client_secret == CLIENT_SECRET


def test_dumpdata_writes_ciphertext_and_loaddata_reads_it_back(connection, tmp_path):
    fixture = tmp_path / "connections.json"
    call_command("dumpdata", "zoho.connection", output=str(fixture))
    dumped = fixture.read_text()
    [row] = json.loads(dumped)
    assert all(row["fields"][name].startswith(crypto.PREFIX) for name in crypto_fields())
    assert not [secret for secret in SECRETS if secret in dumped]

    Connection.objects.all().delete()
    call_command("loaddata", str(fixture), verbosity=0)

    restored = Connection.objects.get(pk=connection.pk)
    assert (restored.client_secret, restored.refresh_token, restored.access_token) == (
        CLIENT_SECRET,
        REFRESH_TOKEN,
        ACCESS_TOKEN,
    )
    assert all(value.startswith(crypto.PREFIX) for value in raw_secrets(connection.pk))


def crypto_fields() -> list[str]:
    return [
        field.name
        for field in Connection._meta.concrete_fields
        if isinstance(field, crypto.EncryptedTextField)
    ]


def test_rotating_the_key_re_encrypts_every_secret_with_the_new_key(db, settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CRMADMIN_ENCRYPTION_KEYS = [old_key]
    first = make_connection(name="First")
    second = make_connection(name="Second", access_token="", refresh_token="")
    before = raw_secrets(first.pk)

    settings.CRMADMIN_ENCRYPTION_KEYS = [new_key, old_key]
    output = io.StringIO()
    call_command("rotate_encryption_key", stdout=output)

    assert "Re-encrypted 4 secret(s)" in output.getvalue()

    after = raw_secrets(first.pk)
    assert all(a != b for a, b in zip(after, before, strict=True))
    settings.CRMADMIN_ENCRYPTION_KEYS = [new_key]
    assert [crypto.decrypt(v) for v in after] == [CLIENT_SECRET, REFRESH_TOKEN, ACCESS_TOKEN]
    assert Connection.objects.get(pk=second.pk).client_secret == CLIENT_SECRET
    assert raw_secrets(second.pk)[1:] == ("", "")
    settings.CRMADMIN_ENCRYPTION_KEYS = [old_key]
    with pytest.raises(ValueError):
        crypto.decrypt(after[0])
