from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import ADMIN, invoke

SEED_FEATURES = {
    "ai-insight": {"name": "Simple AI Insight", "pricing": {"type": "per_call", "credits": "9"}},
    "ai-analysis": {"name": "Advanced AI Analysis", "pricing": {"type": "per_call", "credits": "25"}},
    "ai-report": {"name": "AI-Generated Report", "pricing": {"type": "per_call", "credits": "40"}},
    "dashboard-refresh": {"name": "Real-time AI Dashboard", "pricing": {"type": "per_call", "credits": "3"}},
    "ai-translate": {"name": "Translation", "pricing": {"type": "per_unit", "credits": "0.5"}},
    "ai-plugin-generate": {
        "name": "Plugin generation",
        "pricing": {"type": "per_token", "input_credits": "0.1", "output_credits": "0.2"},
        "developer_id": "dev-kodella",
        "revenue_share_bps": 7000,
    },
}

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    # This hook sees every item of the session, not only this folder's: mark ours alone.
    for item in items:
        if Path(str(item.path)).resolve().is_relative_to(_HERE):
            item.add_marker(pytest.mark.functional)


@pytest.fixture
def catalog(aws):
    for feature_id, body in SEED_FEATURES.items():
        reply = invoke("admin_put_feature.json", caller=ADMIN, body=body,
                       path=f"/v1/admin/features/{feature_id}", path_params={"feature_id": feature_id})
        assert reply.status == 200, reply
    return SEED_FEATURES


@pytest.fixture
def developer_catalog(catalog):
    """The seed catalog plus ``summarize``, a feature of dev-carol's with a 33.33% share."""
    from tests.functional.developers import SUMMARIZE

    reply = invoke("admin_put_feature.json", caller=ADMIN, body=SUMMARIZE,
                   path="/v1/admin/features/summarize", path_params={"feature_id": "summarize"})
    assert reply.status == 200, reply
    return catalog


@pytest.fixture
def fund(aws):
    """fund(wallet_id, "100") credits a wallet by admin adjustment."""
    counter = {"n": 0}

    def _fund(wallet_id: str, amount: str) -> None:
        counter["n"] += 1
        reply = invoke("admin_post_adjustment.json", caller=ADMIN, body={"amount": amount, "reason": "test funding"},
                       headers={"idempotency-key": f"fund-{wallet_id}-{counter['n']}"},
                       path=f"/v1/admin/wallets/{wallet_id}/adjustments", path_params={"wallet_id": wallet_id})
        assert reply.status == 201, reply

    return _fund
