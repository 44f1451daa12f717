"""Webhook endpoints and a wallet's low-balance alert (issue 15, first part), through NotificationsFunction.

Registering an endpoint shows its signing secret once and records the change in the audit trail;
URLs that would turn a delivery into a probe of private addresses are refused; bad input is a 4xx
that changes nothing. The alert threshold lives on the wallet item and changes no balance.
"""

from __future__ import annotations

import pytest

from tests.support import ADMIN, ALICE, BOB, Caller, assert_ledger_invariant, invoke, ledger_state
from tollgate.events import EVENT_TYPES

HOOK = {"url": "https://example.com/hooks/tollgate", "events": ["credits.low", "purchase.paid"],
        "description": "billing alerts"}
CAROL = Caller("carol")


def create(body=None, caller=ADMIN, raw_body=None):
    return invoke("notifications_post_webhook_endpoint.json", caller=caller, body=HOOK if body is None else body,
                  raw_body=raw_body)


def listed(caller=ADMIN):
    reply = invoke("notifications_list_webhook_endpoints.json", caller=caller)
    assert reply.status == 200, reply
    return reply.body["data"]


def one(endpoint_id, sample="notifications_get_webhook_endpoint.json", caller=ADMIN):
    return invoke(sample, caller=caller, path=f"/v1/admin/webhook-endpoints/{endpoint_id}",
                  path_params={"endpoint_id": endpoint_id})


def audit_trail():
    reply = invoke("admin_get_audit.json", caller=ADMIN, query={})
    assert reply.status == 200, reply
    return [(r["action"], r["target"]) for r in reply.body["data"]]


def alerts(caller=ALICE, body=..., wallet_id=None, raw_body=None):
    query = {"wallet_id": wallet_id} if wallet_id else {}
    sample = "notifications_get_wallet_alerts.json" if body is ... and raw_body is None \
        else "notifications_put_wallet_alerts.json"
    return invoke(sample, caller=caller, body=body, raw_body=raw_body, query=query)


def wallet(caller=ALICE, wallet_id=None):
    reply = invoke("history_get_wallet.json", caller=caller, query={"wallet_id": wallet_id} if wallet_id else {})
    assert reply.status == 200, reply
    return reply.body


# -- webhook endpoints ---------------------------------------------------------------------------


def test_an_endpoint_is_created_with_its_secret_shown_once_listed_and_deleted_with_an_audit_record(aws):
    created = create()
    assert created.status == 201, created
    body = created.body
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert (body["url"], body["events"], body["description"], body["status"], body["created_by"]) == (
        HOOK["url"], ["credits.low", "purchase.paid"], "billing alerts", "enabled", "user:root")
    endpoint_id = body["endpoint_id"]

    shown = listed()
    assert [e["endpoint_id"] for e in shown] == [endpoint_id]
    assert "secret" not in shown[0]
    got = one(endpoint_id)
    assert got.status == 200 and "secret" not in got.body
    assert got.body == {k: v for k, v in body.items() if k != "secret"}
    assert ("webhook_endpoint.create", f"webhook_endpoint:{endpoint_id}") in audit_trail()
    records = invoke("admin_get_audit.json", caller=ADMIN, query={}).body["data"]
    assert all(body["secret"] not in str(r) for r in records)  # the secret is never recorded

    deleted = one(endpoint_id, "notifications_delete_webhook_endpoint.json")
    assert deleted.status == 204, deleted
    assert one(endpoint_id).status == 404
    assert one(endpoint_id, "notifications_delete_webhook_endpoint.json").status == 404
    assert listed() == []
    assert ("webhook_endpoint.delete", f"webhook_endpoint:{endpoint_id}") in audit_trail()


def test_every_event_type_or_the_wildcard_may_be_subscribed(aws):
    every = create({**HOOK, "events": list(EVENT_TYPES)})
    assert every.status == 201, every
    assert every.body["events"] == sorted(EVENT_TYPES)
    wildcard = create({**HOOK, "events": ["*", "credits.low"]})
    assert (wildcard.status, wildcard.body["events"]) == (201, ["*"])


@pytest.mark.parametrize("url", [
    "http://example.com/hook",  # not https in AWS
    "http://127.0.0.1:8080/hook",  # loopback http only in make dev
    "https://127.0.0.1/hook",
    "https://10.0.0.7/hook",
    "https://192.168.1.1/hook",
    "https://169.254.169.254/latest/meta-data",  # the instance metadata service
    "https://[::1]/hook",
    "https://[fd00::1]/hook",
    "https://localhost/hook",
    "https://api.localhost/hook",
    "https://user:password@example.com/hook",
    "https://example.com/hook#fragment",
    "ftp://example.com/hook",
    "https:///no-host",
    "https://example.com:99999/hook",
    "https://exa mple.com/hook",
])
def test_urls_deliveries_must_not_go_to_are_refused_and_nothing_is_created(aws, url):
    reply = create({**HOOK, "url": url})
    assert (reply.status, reply.error_code) == (422, "webhook_url_refused"), reply
    assert reply.body["error"]["field"] == "url"
    assert listed() == [] and audit_trail() == []


def test_make_dev_also_takes_a_loopback_http_receiver_but_nothing_else_over_http(aws, monkeypatch):
    monkeypatch.setenv("WEBHOOK_URL_POLICY", "allow-loopback-http")
    for url in ("http://127.0.0.1:4010/hooks", "http://localhost:4010/hooks", "http://[::1]:4010/hooks"):
        reply = create({**HOOK, "url": url})
        assert reply.status == 201, (url, reply)
    for url in ("http://example.com/hook", "http://10.0.0.7/hook", "https://10.0.0.7/hook"):
        reply = create({**HOOK, "url": url})
        assert (reply.status, reply.error_code) == (422, "webhook_url_refused"), (url, reply)
    assert len(listed()) == 3


@pytest.mark.parametrize("body", [
    {**HOOK, "events": ["credits.nope"]},
    {**HOOK, "events": []},
    {**HOOK, "events": ["credits.low", "credits.low"]},
    {**HOOK, "events": "credits.low"},
    {"url": HOOK["url"]},
    {"events": HOOK["events"]},
    {**HOOK, "url": 7},
    {**HOOK, "description": "x" * 501},
    {**HOOK, "secret": "whsec_mine"},
])
def test_bad_bodies_are_422_and_change_nothing(aws, body):
    reply = create(body)
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert listed() == [] and audit_trail() == []


def test_a_non_admin_is_refused_403_before_the_body_is_read(aws):
    for body, raw in ((HOOK, None), (None, "{not json")):
        reply = create(body, caller=ALICE, raw_body=raw)
        assert (reply.status, reply.error_code) == (403, "forbidden"), reply
    assert invoke("notifications_list_webhook_endpoints.json", caller=ALICE).status == 403
    assert one("we_x", caller=ALICE).status == 403
    assert listed() == []


def test_at_most_16_endpoints(aws):
    for n in range(16):
        assert create({**HOOK, "url": f"https://example.com/hook/{n}"}).status == 201
    refused = create()
    assert (refused.status, refused.error_code) == (409, "too_many_webhook_endpoints"), refused
    assert len(listed()) == 16


# -- a wallet's low-balance alert ----------------------------------------------------------------


def test_the_owner_sets_and_clears_the_threshold_and_the_wallet_shows_a_banner_below_it(aws, fund):
    fund(ALICE.wallet_id, "40")
    before = ledger_state(ALICE.wallet_id)
    assert alerts().body == {"wallet_id": ALICE.wallet_id, "low_balance": None, "available": "40",
                             "below_low_balance": False}

    reply = alerts(body={"low_balance": "50"})
    assert reply.status == 200, reply
    assert reply.body == {"wallet_id": ALICE.wallet_id, "low_balance": "50", "available": "40",
                          "below_low_balance": True}
    assert (wallet()["low_balance"], wallet()["below_low_balance"]) == ("50", True)
    assert alerts().body["low_balance"] == "50"

    assert alerts(body={"low_balance": 12.5}).body["below_low_balance"] is False
    cleared = alerts(body={"low_balance": None})
    assert (cleared.status, cleared.body["low_balance"], cleared.body["below_low_balance"]) == (200, None, False)
    assert wallet()["low_balance"] is None
    after = ledger_state(ALICE.wallet_id)
    assert after == before  # no balance changed, no entry written
    assert_ledger_invariant(ALICE.wallet_id)


def test_a_wallet_without_credits_yet_gets_a_threshold_and_stays_consistent(aws):
    reply = alerts(caller=BOB, body={"low_balance": "5"})
    assert reply.status == 200, reply
    assert (reply.body["available"], reply.body["below_low_balance"]) == ("0", True)
    state = assert_ledger_invariant(BOB.wallet_id)
    assert (state["balance"], state["entries"]) == (0, [])


@pytest.mark.parametrize("body", [
    {"low_balance": "-1"}, {"low_balance": -5}, {"low_balance": "0"}, {"low_balance": "1000000000.001"},
    {"low_balance": 2_000_000_000}, {"low_balance": "12.3456"}, {"low_balance": "fifty"}, {"low_balance": True},
    {}, {"low_balance": "50", "extra": 1},
])
def test_bad_thresholds_are_422_and_change_nothing(aws, fund, body):
    fund(ALICE.wallet_id, "40")
    assert alerts(body={"low_balance": "50"}).status == 200
    before = ledger_state(ALICE.wallet_id)
    reply = alerts(body=body)
    assert (reply.status, reply.error_code) == (422, "validation_error"), reply
    assert alerts().body["low_balance"] == "50"
    assert ledger_state(ALICE.wallet_id) == before


def test_another_persons_wallet_is_404_and_an_admin_sets_any(aws):
    refused = alerts(body={"low_balance": "5"}, wallet_id=BOB.wallet_id)
    assert (refused.status, refused.error_code) == (404, "not_found"), refused
    assert alerts(caller=BOB).body["low_balance"] is None
    admin = alerts(caller=ADMIN, body={"low_balance": "5"}, wallet_id=BOB.wallet_id)
    assert (admin.status, admin.body["wallet_id"], admin.body["low_balance"]) == (200, BOB.wallet_id, "5")
    assert alerts(caller=BOB).body["low_balance"] == "5"


def test_an_org_wallets_threshold_is_set_by_its_owners_only(aws):
    org, wallet_id = "acme", "org:acme"
    assert invoke("admin_put_org.json", caller=ADMIN, body={"name": "Acme"}, path=f"/v1/admin/orgs/{org}",
                  path_params={"org_id": org}).status == 200
    for sub, role in (("carol", "owner"), ("alice", "member")):
        assert invoke("admin_put_org_member.json", caller=ADMIN, body={"role": role},
                      path=f"/v1/admin/orgs/{org}/members/{sub}", path_params={"org_id": org, "sub": sub}).status == 200

    member = alerts(caller=ALICE, body={"low_balance": "5"}, wallet_id=wallet_id)
    assert (member.status, member.error_code) == (403, "forbidden"), member
    outsider = alerts(caller=BOB, body={"low_balance": "5"}, wallet_id=wallet_id)
    assert (outsider.status, outsider.error_code) == (404, "not_found"), outsider
    assert alerts(caller=ALICE, wallet_id=wallet_id).body["low_balance"] is None  # members read it

    owner = alerts(caller=CAROL, body={"low_balance": "5"}, wallet_id=wallet_id)
    assert (owner.status, owner.body["low_balance"]) == (200, "5"), owner
    assert wallet(caller=ALICE, wallet_id=wallet_id)["low_balance"] == "5"
    assert_ledger_invariant(wallet_id)


def test_a_server_key_may_read_but_not_set_a_wallets_alert(aws):
    from tests.support import SERVICE

    refused = alerts(caller=SERVICE, body={"low_balance": "5"}, wallet_id=ALICE.wallet_id)
    assert (refused.status, refused.error_code) == (403, "forbidden"), refused
    assert alerts(caller=SERVICE, wallet_id=ALICE.wallet_id).status == 200
    assert alerts().body["low_balance"] is None
