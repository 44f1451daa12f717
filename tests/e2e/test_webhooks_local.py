"""make dev's webhook receiver (issue 15): subscribed through the API, it gets a credits.low event the
whole way (stream poller -> ledger stream -> outbox -> SQS in moto -> queue poller -> delivery function ->
HTTP on 127.0.0.1) with a signature that verifies."""

from __future__ import annotations

import uuid

from tests.e2e.test_local_stack import fund
from tollgate_local.dynamodb_local import free_port
from tollgate_local.receiver import WebhookReceiver


def test_the_local_receiver_gets_a_signed_credits_low(stack, api, tokens, catalog, tmp_path):
    receiver = WebhookReceiver(free_port(), tmp_path).start()
    try:
        endpoint_id = receiver.subscribe(stack.url, tokens["admin"])
        assert receiver.subscribe(stack.url, tokens["admin"]) == endpoint_id  # found again, not made twice
        sub = f"hook-{uuid.uuid4().hex[:8]}"
        token = stack.signer.token(sub, ["user"])
        wallet = f"user:{sub}"
        assert api.put("/v1/wallet/alerts", token=token, body={"low_balance": "50"}).status == 200
        fund(api, tokens, wallet, "100")
        for n in range(6):  # ai-insight costs 9: 100 -> 46 crosses 50 once
            assert api.post("/v1/usage", token=token, body={"feature": "ai-insight"},
                            headers={"Idempotency-Key": f"hook-{n}"}).status == 201
        assert api.get("/v1/wallet", token=token).body["below_low_balance"] is True
        for _ in range(2):  # the stream's records, then the queue's messages, each until nothing is left
            assert stack.poller.wait_idle(15)
            assert stack.queues.wait_idle(15)
        mine = [e for e in receiver.received if e["wallet_id"] == wallet]
        assert [(e["type"], e["data"]["available"], e["data"]["threshold"]) for e in mine] == [
            ("credits.low", "46", "50")]
        deliveries = api.get(f"/v1/admin/webhook-endpoints/{endpoint_id}/deliveries", token=tokens["admin"])
        assert deliveries.status == 200, deliveries
        delivered = {d["event_id"]: d for d in deliveries.body["data"]}
        assert delivered[mine[0]["id"]]["status"] == "delivered"
    finally:
        receiver.stop()
        if receiver.endpoint_id:
            api.request("DELETE", f"/v1/admin/webhook-endpoints/{receiver.endpoint_id}", token=tokens["admin"])
