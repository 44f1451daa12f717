"""The browser tier: the dashboard in headless Chromium (Debian's, driven by Playwright for
Python) against the local stack ``make dev`` runs, started once for the tier on free ports.

Nothing leaves the machine: every server binds 127.0.0.1, Chromium resolves no other host, and
every page fails its check if it requested one.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.support import AXE_JS, DEVELOPER, FEATURE, OUTPUT, SPENDER, Api, PageReport, Ui
from tests.support import running_stack

_HERE = Path(__file__).resolve().parent

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps",
    # Belt and braces: no host but 127.0.0.1 resolves.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.path)).resolve().is_relative_to(_HERE):
            item.add_marker(pytest.mark.browser)


def chromium_path() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if not found:
        pytest.fail("Debian's chromium is not installed: `make test-browser` installs it (apt-get install chromium)")
    return found


@pytest.fixture(scope="package")
def stack(tmp_path_factory) -> Iterator[Any]:
    from tollgate_local.stack import StackConfig

    with running_stack(StackConfig.ephemeral(tmp_path_factory.mktemp("tollgate-browser"))) as local:
        yield local


@pytest.fixture(scope="package")
def dashboard(stack, tmp_path_factory) -> Iterator[Any]:
    from tollgate_local.dashboard import DIST, DashboardServer

    if not (DIST / "index.html").exists():
        pytest.fail("dashboard/dist is not built: `make test-browser` builds it (make dashboard)")
    # A copy of the build: a rebuild while the tier runs (make dashboard) cannot pull files away.
    dist = tmp_path_factory.mktemp("dashboard") / "dist"
    shutil.copytree(DIST, dist)
    server = DashboardServer(port=0, api_url=stack.url, signer=stack.signer, stripe_url=stack.stripe_url,
                             dist=dist).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="package")
def api(stack) -> Api:
    return Api(stack.url)


@pytest.fixture(scope="package")
def tokens(stack) -> dict[str, str]:
    signer = stack.signer
    return {
        "admin": signer.token("admin", ["admin", "user"]),
        SPENDER: signer.token(SPENDER, ["user"]),
        DEVELOPER: signer.token(DEVELOPER, ["user", "developer"]),
    }


@pytest.fixture(scope="package")
def prepared(stack, dashboard, api, tokens) -> dict[str, Any]:
    """make dev's demo catalog, then what the scenarios need, set through the admin API as the
    README's tour does: Paystack returns to the dashboard; refunds over 10 credits wait for an
    admin; earnings are payable at once with tiny payout minimums; a feature paying dev-dana."""
    from tollgate_local.seed import seed_if_empty

    admin = tokens["admin"]
    seed_if_empty(stack.url, admin)
    settings = api.ok("GET", "/v1/admin/settings", admin)
    settings.pop("updated_at", None)
    settings.update(paystack_callback_url=dashboard.url + "/", refund_auto_approve_credits="10",
                    earnings_hold_days=0, payout_minimums={"USD": 1, "NGN": 1})
    api.ok("PUT", "/v1/admin/settings", admin, settings)
    api.ok("PUT", f"/v1/admin/features/{FEATURE}", admin, {
        "name": "Summarize (browser tests)", "pricing": {"type": "per_call", "credits": "20"},
        "developer_id": DEVELOPER, "revenue_share_bps": 3000})
    return {"settings": settings}


@pytest.fixture(scope="package")
def reports() -> Iterator[list[PageReport]]:
    """Every page checked, with all its axe findings (minor and moderate too), written to
    test-output/browser/report.json beside the screenshots."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for old in OUTPUT.glob("*.png"):
        old.unlink()
    collected: list[PageReport] = []
    yield collected
    (OUTPUT / "report.json").write_text(json.dumps([vars(r) for r in collected], indent=2) + "\n")


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=10_000)  # a 2-core machine running the whole stack: 5 s is tight

    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: `make install` installs axe-core (npm)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def open_ui(browser, dashboard, prepared, reports) -> Iterator[Any]:
    """``open_ui(role)``: a new tab of its own (own sessionStorage, so own sign-in)."""
    opened: list[Ui] = []

    def open_(role: str) -> Ui:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        ui = Ui(context, base=dashboard.url, role=role, reports=reports)
        opened.append(ui)
        return ui

    yield open_
    problems: list[str] = []
    for ui in opened:
        try:
            ui.close()
        except AssertionError as exc:
            problems.append(str(exc))
    assert not problems, "\n".join(problems)
