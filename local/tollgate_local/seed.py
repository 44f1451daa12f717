"""The demo catalog (the seed documents' features and prices, two credit packages, custom
amount pricing and the four subscription tiers), loaded through the API itself."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

DEMO_FEATURES: dict[str, dict[str, Any]] = {
    "ai-insight": {"name": "Simple AI Insight", "pricing": {"type": "per_call", "credits": "9"}},
    "ai-analysis": {"name": "Advanced AI Analysis", "pricing": {"type": "per_call", "credits": "25"}},
    "ai-report": {"name": "AI-Generated Report", "pricing": {"type": "per_call", "credits": "40"}},
    "dashboard-refresh": {"name": "Real-time AI Dashboard (per refresh)", "pricing": {"type": "per_call", "credits": "3"}},
    "plugin-generate": {
        "name": "AI plugin generation",
        "description": "Priced per token: 0.1 credit per input token, 0.2 per output token (or characters / 4).",
        "pricing": {"type": "per_token", "input_credits": "0.1", "output_credits": "0.2"},
        "developer_id": "dev:kodella",
        "revenue_share_bps": 7000,
    },
}
DEMO_PACKAGES: dict[str, dict[str, Any]] = {
    "starter": {"name": "Starter", "credits": "100", "prices": {"USD": 1000, "NGN": 1500000}},
    "growth": {"name": "Growth", "credits": "500", "prices": {"USD": 4500, "NGN": 6750000}},
}
# Seed 004's tiers: credits a month (rollover caps are the demo's choice).
DEMO_TIERS: dict[str, dict[str, Any]] = {
    "explorer": {"name": "Explorer", "monthly_credits": "400", "rollover": {"type": "none"}},
    "growth": {"name": "Growth", "monthly_credits": "2000", "rollover": {"type": "cap", "credits": "1000"}},
    "pro": {"name": "Pro", "monthly_credits": "7000", "rollover": {"type": "cap", "credits": "3500"}},
    "enterprise": {"name": "Enterprise", "monthly_credits": "20000", "rollover": {"type": "cap", "credits": "10000"}},
}
DEMO_SETTINGS = {"price_per_credit": {"USD": 10, "NGN": 1500}, "min_credits": "10", "max_credits": "100000",
                 "checkouts_per_hour": 30, "earnings_hold_days": 7, "payout_rates": {"USD": "0.8", "NGN": "12"},
                 "payout_minimums": {"USD": 1000, "NGN": 100000}}
DEMO_GRANT = {"wallet_id": "user:alice", "amount": "100", "reason": "demo welcome credits"}


def call(base: str, method: str, path: str, token: str, body: Any = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as err:
        raw = err.read()
        return err.code, json.loads(raw) if raw else None


def seed_if_empty(base: str, admin_token: str) -> bool:
    """Load the demo catalog and welcome credits once; False if the catalog already had features."""
    status, listing = call(base, "GET", "/v1/admin/features", admin_token)
    if status != 200:
        raise RuntimeError(f"cannot list features: {status} {listing}")
    if listing["data"]:
        return False
    for feature_id, body in DEMO_FEATURES.items():
        status, reply = call(base, "PUT", f"/v1/admin/features/{feature_id}", admin_token, body)
        if status != 200:
            raise RuntimeError(f"seeding {feature_id}: {status} {reply}")
    for package_id, body in DEMO_PACKAGES.items():
        status, reply = call(base, "PUT", f"/v1/admin/packages/{package_id}", admin_token, body)
        if status != 200:
            raise RuntimeError(f"seeding package {package_id}: {status} {reply}")
    for tier_id, body in DEMO_TIERS.items():
        status, reply = call(base, "PUT", f"/v1/admin/tiers/{tier_id}", admin_token, body)
        if status != 200:
            raise RuntimeError(f"seeding tier {tier_id}: {status} {reply}")
    status, reply = call(base, "PUT", "/v1/admin/settings", admin_token, DEMO_SETTINGS)
    if status != 200:
        raise RuntimeError(f"seeding settings: {status} {reply}")
    status, reply = call(base, "POST", f"/v1/admin/wallets/{DEMO_GRANT['wallet_id']}/adjustments", admin_token,
                         {"amount": DEMO_GRANT["amount"], "reason": DEMO_GRANT["reason"]},
                         {"Idempotency-Key": "demo-welcome-alice"})
    if status != 201:
        raise RuntimeError(f"seeding credits: {status} {reply}")
    return True
