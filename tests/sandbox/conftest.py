"""Fixtures of the sandbox tests: a small seeded CRM served over real HTTP."""

import pytest
import requests

from crmadmin.sandbox import oauth
from crmadmin.sandbox.models import Record, SandboxUser
from crmadmin.sandbox.seed import seed

SMALL_SEED = 60


class Api:
    """Speaks to the sandbox like a client: real HTTP, a real token."""

    def __init__(self, base: str, token: str | None) -> None:
        self.base = base
        self.token = token
        self.session = requests.Session()

    def url(self, path: str, version: str = "v2.1") -> str:
        return f"{self.base}/crm/{version}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = "default",
        scheme: str = "Zoho-oauthtoken",
        version: str = "v2.1",
        **kwargs,
    ) -> requests.Response:
        token = self.token if token == "default" else token
        headers = kwargs.pop("headers", {})
        if token is not None:
            headers["Authorization"] = f"{scheme} {token}"
        return self.session.request(
            method, self.url(path, version), headers=headers, timeout=10, **kwargs
        )

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def mass_update(self, module: str, body: dict, **kwargs) -> requests.Response:
        return self.post(f"{module}/actions/mass_update", json=body, **kwargs)


@pytest.fixture
def crm(transactional_db) -> dict:
    """A small seeded sandbox (60 Leads and proportionally fewer of the rest)."""
    return seed(leads=SMALL_SEED)


@pytest.fixture
def sandbox_url(live_server) -> str:
    return live_server.url + "/sandbox"


@pytest.fixture
def api(sandbox_url, crm) -> Api:
    return Api(sandbox_url, oauth.issue_access_token())


@pytest.fixture
def free_leads(crm) -> list[Record]:
    """Leads that any write may change: not locked, approved, not converted."""
    return list(
        Record.objects.filter(
            module="Leads", locked_action="", approval_state=Record.APPROVED, converted=False
        ).order_by("id")
    )


@pytest.fixture
def other_user(crm) -> SandboxUser:
    return SandboxUser.objects.get(name="Maya Rao")
