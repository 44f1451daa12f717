"""Test controls over HTTP, under ``/_tollgate/``: ``transfers.py``'s and ``refunds.py``'s
scenario switches for a test that drives the fake from another process. They need no key
(they are the fake's, not Paystack's) and are not recorded as API requests. Bodies are JSON
or form-encoded.

* ``POST /_tollgate/transfers/outcome`` ``{"outcome": "success" | "failed" | "reversed" | "none"}``
* ``POST /_tollgate/transfers/fail`` ``{"status": 500, "count": 1, "after_creating": false}``
* ``GET /_tollgate/transfers``: ``{"data": [every transfer, as Verify Transfer shows it]}``
* ``POST /_tollgate/transfers/{reference}/webhook`` ``{"event": "transfer.success"}``: the
  transfer ends so and its signed webhook is sent; ``{"receiver_status": <HTTP status>}``
* ``POST /_tollgate/refunds/outcome`` ``{"outcome": "processed" | "failed" | "none"}``
* ``POST /_tollgate/refunds/fail`` ``{"status": 500, "count": 1, "after_creating": false}``
* ``GET /_tollgate/refunds``: ``{"data": [every refund, as ``refunds()`` shows it]}``
* ``POST /_tollgate/refunds/{id}/webhook`` ``{"outcome": "processed" | "failed"}``: the refund
  ends so and its signed webhook is sent; ``{"receiver_status": <HTTP status>}``

The refund controls answer 404 on a fake without refunds (a bare ``PaystackTransfers``).

A control request that does not make sense is 400 ``{"error": ...}``; an unknown one 404.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from tollgate_local.fake_paystack.refunds import PaystackRefunds
from tollgate_local.fake_paystack.transfers import PaystackTransfers

PREFIX = "/_tollgate/"
Answer = tuple[int, dict[str, Any]]


def _body(raw: bytes) -> dict[str, Any]:
    text = raw.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        value = json.loads(text)
        return value if isinstance(value, dict) else {}
    return dict(urllib.parse.parse_qsl(text))


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in {"true", "1", "yes"})


def handle(fake: PaystackTransfers, method: str, path: str, raw: bytes) -> Answer:
    """Answer one control request (``path`` starts with ``/_tollgate/``)."""
    parts = path.removeprefix(PREFIX).strip("/").split("/")
    try:
        body = _body(raw) if method == "POST" else {}
        if method == "GET" and parts == ["transfers"]:
            return 200, {"data": fake.transfers()}
        if method == "POST" and parts == ["transfers", "outcome"]:
            fake.transfer_outcome(body.get("outcome"))  # type: ignore[arg-type] - checked there
            return 200, {"outcome": body.get("outcome")}
        if method == "POST" and parts == ["transfers", "fail"]:
            status, count = int(body.get("status", 500)), int(body.get("count", 1))
            fake.fail_next_transfers(status, count, after_creating=_flag(body.get("after_creating")))
            return 200, {"status": status, "count": count}
        if method == "POST" and len(parts) == 3 and parts[0] == "transfers" and parts[2] == "webhook":
            reference = urllib.parse.unquote(parts[1])
            status = fake.send_transfer_webhook(reference, str(body.get("event") or "transfer.success"))
            return 200, {"receiver_status": status}
        if parts[0] == "refunds" and isinstance(fake, PaystackRefunds):
            return _refunds(fake, method, parts[1:], body)
    except KeyError as exc:
        return 404, {"error": str(exc)}
    except (ValueError, TypeError) as exc:
        return 400, {"error": str(exc)}
    return 404, {"error": f"no control {method} {path}"}


def _refunds(fake: PaystackRefunds, method: str, parts: list[str], body: dict[str, Any]) -> Answer:
    """``/_tollgate/refunds/...`` (``parts`` is what follows ``refunds``)."""
    if method == "GET" and parts == []:
        return 200, {"data": fake.refunds()}
    if method == "POST" and parts == ["outcome"]:
        fake.refund_outcome(body.get("outcome"))  # type: ignore[arg-type] - checked there
        return 200, {"outcome": body.get("outcome")}
    if method == "POST" and parts == ["fail"]:
        status, count = int(body.get("status", 500)), int(body.get("count", 1))
        fake.fail_next_refunds(status, count, after_creating=_flag(body.get("after_creating")))
        return 200, {"status": status, "count": count}
    if method == "POST" and len(parts) == 2 and parts[1] == "webhook":
        if not parts[0].isdigit():
            raise KeyError(f"no refund {parts[0]}")
        status = fake.send_refund_webhook(int(parts[0]), str(body.get("outcome") or "processed"))
        return 200, {"receiver_status": status}
    return 404, {"error": f"no control {method} /_tollgate/refunds/{'/'.join(parts)}"}


__all__ = ["PREFIX", "handle"]
