"""Fixtures for the Zoho client: a connected Connection, a wire mocked by ``responses``,
and the ten recorded responses of the contract, read from the Postman file at test time."""

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import responses
from django.utils import timezone

from crmadmin.zoho.client import ZohoClient
from crmadmin.zoho.models import Connection
from tests.conftest import CONTRACT_DIR

API_DOMAIN = "https://www.zohoapis.eu"
ACCOUNTS_URL = "https://accounts.zoho.eu"
BASE = API_DOMAIN + "/crm/v2.1"
TOKEN_URL = ACCOUNTS_URL + "/oauth/v2/token"
ACCESS_TOKEN = "1000.access0token0aaaaaaaaaaaaaaaa"
NEW_ACCESS_TOKEN = "1000.access0token0new0nnnnnnnnnnnn"
REFRESH_TOKEN = "1000.refresh0token0bbbbbbbbbbbbbbb"
CLIENT_SECRET = "client0secret0cccccccccccccccc"
CLIENT_ID = "1000.CLIENTIDXYZ"
MODULES_URL = BASE + "/settings/modules"
MASS_UPDATE_URL = BASE + "/Leads/actions/mass_update"
# A /settings/modules answer with one workable module.
LEADS_MODULE = {"modules": [{"api_name": "Leads", "api_supported": True, "editable": True}]}


def zoho_error(code: str, message: str, **details: Any) -> dict[str, Any]:
    """An error object, with the four keys every Zoho error has; request-level without
    ``details.id``."""
    return {"code": code, "details": details, "message": message, "status": "error"}


def success(record_id: str) -> dict[str, Any]:
    """One record's entry in the ``data[]`` of a successful write."""
    return {
        "code": "SUCCESS",
        "details": {"id": record_id, "Modified_Time": "2024-09-03T10:41:07+05:30"},
        "message": "record updated",
        "status": "success",
    }


TOO_MANY = zoho_error("TOO_MANY_REQUESTS", "concurrency limit exceeded")
INTERNAL = zoho_error("INTERNAL_ERROR", "Internal Server Error")
INVALID_TOKEN = zoho_error("INVALID_TOKEN", "invalid oauth token")

# Zoho's answer to a mass update by custom view (cvid): the job was scheduled.
SCHEDULED = {
    "data": [
        {
            "code": "SUCCESS",
            "details": {"job_id": "4876876000005120003"},
            "message": "mass update scheduled successfully",
            "status": "success",
        }
    ]
}


@dataclass(frozen=True)
class Recording:
    """One recorded response of ``POST …/Leads/actions/mass_update``."""

    name: str
    status: int
    body: dict[str, Any]
    request_body: dict[str, Any]

    @property
    def sent_ids(self) -> list[str]:
        """The ids the recorded request sent, or those the response names when the
        request only held Postman placeholders such as ``{{record-id}}``."""
        ids = [i for i in self.request_body.get("ids", []) if not i.startswith("{{")]
        if ids:
            return ids
        named = [e["details"]["id"] for e in self.body.get("data", []) if "id" in e["details"]]
        return named or ["738964000002131264", "738964000002131001", "738964000002130131"]


def load_recordings() -> dict[str, Recording]:
    collection = json.loads((CONTRACT_DIR / "mass_update.postman_collection.json").read_text())
    recordings = {}
    for item in collection["item"]:
        for response in item["response"]:
            recordings[response["name"]] = Recording(
                name=response["name"],
                status=response["code"],
                body=json.loads(response["body"]),
                request_body=json.loads(response["originalRequest"]["body"]["raw"]),
            )
    return recordings


@pytest.fixture(scope="session")
def recordings() -> dict[str, Recording]:
    return load_recordings()


def make_connection(**overrides: Any) -> Connection:
    values = {
        "name": "Acme EU",
        "data_centre": "EU",
        "accounts_url": ACCOUNTS_URL,
        "api_domain": API_DOMAIN,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": "http://testserver/connections/oauth/callback/",
        "refresh_token": REFRESH_TOKEN,
        "access_token": ACCESS_TOKEN,
        "access_token_expires_at": timezone.now() + timedelta(hours=1),
        **overrides,
    }
    return Connection.objects.create(**values)


@pytest.fixture
def connection(db) -> Connection:
    return make_connection()


@pytest.fixture
def wire():
    """Every HTTP call in the test must be one registered here."""
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(connection, sleeps):
    """A client whose backoff sleeps are recorded instead of slept."""

    def make(**options: Any) -> ZohoClient:
        options = {
            "timeout": 5,
            "max_attempts": 4,
            "backoff_base": 0.5,
            "backoff_cap": 4.0,
            "sleep": sleeps.append,
            **options,
        }
        return ZohoClient(options.pop("connection", connection), **options)

    return make


def token_response(access_token: str = NEW_ACCESS_TOKEN, **extra: Any) -> dict[str, Any]:
    return {
        "access_token": access_token,
        "api_domain": API_DOMAIN,
        "token_type": "Bearer",
        "expires_in": 3600,
        **extra,
    }


def sent_json(call) -> dict[str, Any]:
    return json.loads(call.request.body)
