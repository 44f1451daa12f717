"""The deployed sign-in path in the browser: the dashboard configured for an OIDC issuer (``make
dev SIGN_IN=oidc``: local/tollgate_local/oidc.py) signs in at the issuer's page and exchanges the
code it brings back, with its PKCE verifier, for a token the API takes.

The issuer's side of the protocol (what it refuses) is tested over HTTP in
tests/integration/test_local_oidc.py."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.support import Api, Ui


@pytest.fixture(scope="module")
def issuer(stack) -> Iterator[Any]:
    from tollgate_local.oidc import LocalOidcIssuer

    server = LocalOidcIssuer(port=0, signer=stack.signer).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def oidc_dashboard(stack, issuer, tmp_path_factory) -> Iterator[Any]:
    from tollgate_local.dashboard import DIST, DashboardServer

    dist = tmp_path_factory.mktemp("dashboard-oidc") / "dist"
    shutil.copytree(DIST, dist)
    server = DashboardServer(port=0, api_url=stack.url, signer=stack.signer, stripe_url=stack.stripe_url, dist=dist,
                             oidc_issuer=issuer.url, oidc_client_id=issuer.client_id).start()
    yield server
    server.stop()


def test_a_user_signs_in_at_the_oidc_issuer_and_the_api_takes_the_token(browser, stack, issuer, oidc_dashboard,
                                                                          reports) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    ui = Ui(context, base=oidc_dashboard.url, role="oidc", reports=reports)
    page = ui.page
    try:
        page.goto(oidc_dashboard.url + "/")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        expect(page.get_by_text("Dev sign-in")).to_have_count(0)  # no dev sign-in where an issuer is set
        ui.check("sign-in (OIDC)")

        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(re.escape(issuer.url) + r"/authorize\?"))
        asked = page.url
        assert "code_challenge_method=S256" in asked and "code_challenge=" in asked and "state=" in asked, asked
        ui.check("the issuer's sign-in page")
        page.get_by_role("textbox", name="User").fill("gina")
        page.get_by_role("checkbox", name="developer", exact=True).check()
        page.get_by_role("button", name="Continue").click()

        expect(page.locator("header .who")).to_contain_text("gina (user, developer)")
        assert "code=" not in page.url and "state=" not in page.url, page.url  # the code leaves the address bar
        token = ui.token()
        wallet = Api(stack.url).ok("GET", "/v1/wallet", token)
        assert wallet["wallet_id"] == "user:gina"
        expect(page.locator("header nav").get_by_role("link", name="Developer", exact=True)).to_be_visible()
        ui.check("wallet, signed in through OIDC")

        # The session survives a reload without another trip to the issuer.
        page.reload()
        expect(page.locator("header .who")).to_contain_text("gina (user, developer)")
        assert page.url.startswith(oidc_dashboard.url), page.url
        assert ui.token() == token
    finally:
        ui.close()
