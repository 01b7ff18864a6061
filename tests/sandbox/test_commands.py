"""The management commands: sandbox_token, sandbox_seed and sandbox_faults."""

import json
from io import StringIO

import pytest
import requests
from django.core.management import CommandError, call_command

from crmadmin.sandbox import faults
from crmadmin.sandbox.models import CustomView, Record
from crmadmin.sandbox.seed import LOCKED_LEAD, MISSING_IDS, NOT_APPROVED_LEAD, SUCCESS_LEADS


def _run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_sandbox_token_prints_one_token_that_works_for_a_real_request(api):
    output = _run("sandbox_token")

    assert output.count("\n") == 1
    token = output.strip()
    assert token.startswith("1000.") and " " not in token
    response = api.mass_update(
        "Leads", {"data": [{"Rating": "Hot"}], "ids": [SUCCESS_LEADS[0][0]]}, token=token
    )
    assert response.status_code == 200


def test_sandbox_token_with_scopes_gets_only_those(api):
    token = _run("sandbox_token", "--scopes", "ZohoCRM.modules.ALL").strip()

    assert api.get("Leads", token=token).status_code == 200
    refused = api.mass_update("Leads", {"data": [{"Rating": "Hot"}], "ids": ["1"]}, token=token)
    assert refused.json()["code"] == "OAUTH_SCOPE_MISMATCH"


def test_sandbox_token_refresh_prints_credentials_the_token_endpoint_accepts(api, sandbox_url):
    output = _run("sandbox_token", "--refresh")

    assert output.count("\n") == 1
    client_id, secret, refresh = output.split()
    response = requests.post(
        f"{sandbox_url}/oauth/v2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": client_id,
            "client_secret": secret,
            "refresh_token": refresh,
        },
        timeout=10,
    )
    token = response.json()["access_token"]
    assert api.get("Leads", token=token).status_code == 200


def test_sandbox_token_refresh_reuses_the_cli_client(db):
    first = _run("sandbox_token", "--refresh").split()
    second = _run("sandbox_token", "--refresh").split()

    assert first[:2] == second[:2]
    assert first[2] != second[2]


def test_sandbox_seed_fills_the_default_data_set_with_the_recordings_records(db):
    output = _run("sandbox_seed")

    assert "Seeded" in output
    counts = {
        module: Record.objects.filter(module=module).count()
        for module in ("Leads", "Contacts", "Accounts", "Deals")
    }
    assert counts == {"Leads": 5000, "Contacts": 1000, "Accounts": 300, "Deals": 800}
    for record_id, created in SUCCESS_LEADS:
        record = Record.objects.get(pk=record_id)
        assert record.created_time.isoformat() == created
        assert record.created_by.name == record.modified_by.name == "patricia patricia"
        assert record.refusal() is None
    assert Record.objects.get(pk=NOT_APPROVED_LEAD).approval_state == Record.PENDING
    assert Record.objects.get(pk=LOCKED_LEAD).locked_action == "zia_vision_processing"
    assert not Record.objects.filter(pk__in=MISSING_IDS).exists()
    leads = Record.objects.filter(module="Leads")
    assert 25 <= leads.filter(locked_action="record_locking").count() <= 80
    assert 25 <= leads.filter(approval_state=Record.PENDING).count() <= 80
    assert 60 <= leads.filter(converted=True).count() <= 150
    assert all(
        len(pk) == 19
        for pk in leads.exclude(pk__in=[LOCKED_LEAD, *dict(SUCCESS_LEADS)]).values_list(
            "pk", flat=True
        )
    )
    for module in ("Leads", "Contacts", "Accounts", "Deals"):
        assert CustomView.objects.filter(module=module, system_name="ALLVIEWS").exists()


def test_sandbox_seed_leaves_a_seeded_sandbox_alone_and_reset_gives_the_same_data(db):
    _run("sandbox_seed", "--leads", "100")
    snapshot = dict(Record.objects.values_list("pk", "data"))
    Record.objects.filter(pk=SUCCESS_LEADS[0][0]).update(data={})

    again = _run("sandbox_seed", "--leads", "100")
    assert "already seeded" in again
    assert Record.objects.get(pk=SUCCESS_LEADS[0][0]).data == {}

    _run("sandbox_seed", "--leads", "100", "--reset")
    assert dict(Record.objects.values_list("pk", "data")) == snapshot


def test_sandbox_faults_changes_the_configuration_and_prints_it(db):
    output = _run(
        "sandbox_faults",
        "--latency", "1.0",
        "--share-429", "0.05",
        "--share-5xx", "0.1",
        "--share-drop", "0.02",
        "--spike-share", "0.01",
        "--spike-seconds", "2",
        "--token-ttl", "60",
        "--concurrency", "10",
        "--credits", "500",
        "--next", "429,drop",
        "--refuse-bearer",
    )  # fmt: skip

    printed = json.loads(output)
    config = faults.get_config()
    assert printed == {**config.as_dict(), "credits_used": 0, "credits_remaining": 500}
    assert (config.latency, config.share_429, config.share_5xx, config.share_drop) == (
        1.0,
        0.05,
        0.1,
        0.02,
    )
    assert (config.spike_share, config.spike_seconds, config.token_ttl) == (0.01, 2.0, 60)
    assert config.concurrency == 10 and config.next_faults == ["429", "drop"]
    assert config.credits == 500
    assert config.accept_bearer is False


def test_sandbox_faults_reset_goes_back_to_the_defaults(db):
    _run("sandbox_faults", "--latency", "3")

    printed = json.loads(_run("sandbox_faults", "--reset"))

    assert printed["latency"] == 0.0 and printed["accept_bearer"] is True


def test_sandbox_faults_shows_the_credits_spent_and_reset_restores_the_budget(api):
    _run("sandbox_faults", "--credits", "10")
    for _ in range(3):
        assert api.get("Leads", params={"per_page": 1}).status_code == 200

    printed = json.loads(_run("sandbox_faults"))
    after_reset = json.loads(_run("sandbox_faults", "--reset"))

    assert (printed["credits"], printed["credits_used"], printed["credits_remaining"]) == (
        10,
        3,
        7,
    )
    assert after_reset["credits"] == 1_000_000
    assert (after_reset["credits_used"], after_reset["credits_remaining"]) == (3, 999_997)


def test_sandbox_faults_refuses_a_negative_budget(db):
    with pytest.raises(CommandError, match="credits"):
        _run("sandbox_faults", "--credits", "-1")


def test_sandbox_faults_refuses_an_unknown_fault(db):
    with pytest.raises(CommandError, match="unknown fault"):
        _run("sandbox_faults", "--next", "teapot")
