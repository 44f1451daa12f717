"""The browser tier's helpers: an HTTP client for the API, and :class:`Ui`, a signed-in page of
the dashboard that screenshots, scans (axe-core) and checks the console on every page it visits.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Page, expect

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output" / "browser"
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ALL_ROLES = ("user", "developer", "admin")
BLOCKING_IMPACTS = ("serious", "critical")

# The tier's people. Fresh users (no seeded credits) so every figure is the test's own doing.
BUYER = "erin"
SPENDER = "frank"
DEVELOPER = "dev-dana"
FEATURE = "bt-summarize"

# Answers the API gives by design and the pages handle, which Chromium still logs as a console
# error ("Failed to load resource"): (path pattern, status, why).
EXPECTED_HTTP_ERRORS: list[tuple[re.Pattern[str], int, str]] = [
    (re.compile(r"^/v1/developers/me/payout-account$"), 404,
     "no payout account yet: the API answers 404 and the Developer page says 'No payout account yet.'"),
]

# Counts the page's fetches in flight, so a check can wait for the page to finish loading its
# data (hash routes are same-document navigations: Playwright's load states do not apply).
NETWORK_TRACKER = """
(() => {
  let inflight = 0;
  window.__tollgateLastNet = performance.now();
  const original = window.fetch;
  window.fetch = function (...args) {
    inflight += 1;
    window.__tollgateLastNet = performance.now();
    return original.apply(this, args).finally(() => {
      inflight -= 1;
      window.__tollgateLastNet = performance.now();
    });
  };
  Object.defineProperty(window, "__tollgateInflight", { get: () => inflight });
})();
"""
# Settled: no fetch in flight and none for 300 ms (what Playwright's "networkidle" means for a
# full load, 500 ms there), and no Suspense/loader "Loading…" left on the page.
SETTLED = """() => window.__tollgateInflight === 0
  && performance.now() - window.__tollgateLastNet > 300
  && !(document.querySelector('main')?.innerText ?? '').includes('Loading…')"""

AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ['violations'] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(' ')),
  }));
}"""


@dataclass
class Reply:
    status: int
    body: Any


class Api:
    """The API as a script or backend calls it: JSON over HTTP with a bearer token."""

    def __init__(self, base: str) -> None:
        self.base = base

    def call(self, method: str, path: str, token: str, body: Any = None, *, key: str | None = None) -> Reply:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        if key is not None:
            headers["Idempotency-Key"] = key
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw, status = response.read(), response.status
        except urllib.error.HTTPError as err:
            raw, status = err.read(), err.code
        return Reply(status, json.loads(raw) if raw else None)

    def ok(self, method: str, path: str, token: str, body: Any = None, *, status: int = 200,
           key: str | None = None) -> Any:
        reply = self.call(method, path, token, body, key=key)
        assert reply.status == status, f"{method} {path}: {reply.status} {reply.body}"
        return reply.body


def new_key(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def wait_for(what: str, probe: Callable[[], Any], timeout_s: float = 60.0, interval_s: float = 0.25) -> Any:
    """Poll ``probe`` until it returns something truthy (a bounded loop); fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what} (last: {last!r})")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "home"


@dataclass
class PageReport:
    name: str
    url: str
    screenshot: str
    violations: list[dict[str, Any]] = field(default_factory=list)


class Ui:
    """One person's browser tab on the dashboard (its own context: its own sessionStorage)."""

    def __init__(self, context: BrowserContext, *, base: str, role: str, reports: list[PageReport]) -> None:
        self.context = context
        self.base = base
        self.role = role
        self.reports = reports
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.closed = False
        context.add_init_script(NETWORK_TRACKER)
        self.page: Page = context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on("request", self._request)

    # ---- what the page says -------------------------------------------------------------

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        if urlsplit(url).path == "/favicon.ico" and not url.startswith(self.base + "/"):
            return  # a gateway stand-in's page (fake Paystack) has no icon: not the dashboard's
        failed = re.match(r"Failed to load resource: the server responded with a status of (\d+)", message.text)
        if failed and any(pattern.match(urlsplit(url).path) and int(failed.group(1)) == status
                          for pattern, status, _ in EXPECTED_HTTP_ERRORS):
            return
        self.errors.append(f"console.error: {message.text} ({url})")

    def _request(self, request: Any) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname != "127.0.0.1":
            self.outside.append(request.url)

    def assert_clean(self, where: str) -> None:
        errors, self.errors = self.errors, []
        assert not errors, f"{self.role} on {where}: console errors:\n  " + "\n  ".join(errors)
        assert not self.outside, f"{self.role} on {where}: requests leaving 127.0.0.1: {self.outside}"

    # ---- navigation and checks ----------------------------------------------------------

    def settle(self) -> None:
        self.page.wait_for_function(SETTLED, polling=50, timeout=30_000)

    def screenshot(self, name: str) -> Path:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        shots = len(list(OUTPUT.glob("*.png")))
        path = OUTPUT / f"{shots + 1:02d}-{self.role}-{slug(name)}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def check(self, name: str) -> PageReport:
        """The page as it is now: screenshot, axe-core scan (no serious or critical
        violation), no console error or uncaught exception since the last check."""
        self.settle()
        shot = self.screenshot(name)
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            self.page.add_script_tag(path=str(AXE_JS))
        violations: list[dict[str, Any]] = self.page.evaluate(AXE_RUN)
        report = PageReport(name=f"{self.role}: {name}", url=self.page.url, screenshot=shot.name, violations=violations)
        self.reports.append(report)
        blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
        assert not blocking, f"{self.role} on {name} ({self.page.url}): axe violations:\n" + "\n".join(
            f"  {v['impact']} {v['id']} ({v['help']}): {v['nodes']}" for v in blocking)
        self.assert_clean(name)
        return report

    def sign_in(self, sub: str, roles: list[str]) -> None:
        page = self.page
        page.goto(self.base + "/")
        expect(page.get_by_role("heading", name="Dev sign-in (make dev only)")).to_be_visible()
        page.get_by_label("User", exact=True).fill(sub)
        checked = ["user"]  # the form's default; ticking a box appends its role
        expect(page.get_by_role("checkbox", checked=True)).to_have_accessible_name("user")
        for role in ALL_ROLES:
            page.get_by_role("checkbox", name=role, exact=True).set_checked(role in roles)
            checked = [r for r in checked if r in roles] + ([role] if role in roles and role not in checked else [])
        self.check("sign-in")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("header .who")).to_contain_text(f"{sub} ({', '.join(checked)})")

    def token(self) -> str:
        token = self.page.evaluate("sessionStorage.getItem('tollgate.token')")
        assert isinstance(token, str) and token.count(".") == 2, token
        return token

    def nav(self, label: str) -> None:
        """Follow a link of the header's navigation; it becomes the current page."""
        link = self.page.locator("header nav").get_by_role("link", name=label, exact=True)
        link.click()
        expect(link).to_have_attribute("aria-current", "page")

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.assert_clean("the last page")
        finally:
            self.context.close()
