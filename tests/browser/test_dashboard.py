"""The dashboard in a browser, as its people use it: a user buys credits with a card (Stripe
Elements) and with Paystack, spends them through the API and watches the wallet; an admin
approves the refund the user asked for; a developer sets up a payout account and is paid out;
and every link of every role's navigation opens a page that passes the checks.

Every page visited is screenshotted into test-output/browser/, scanned by axe-core (no serious
or critical violation) and has logged no console error (see ``support.Ui.check``).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.browser.support import BUYER, DEVELOPER, FEATURE, SPENDER, Api, new_key, wait_for

PAID_TIMEOUT_MS = 30_000  # the result page polls every second until the webhook has landed


def card(page: Page, title: str | re.Pattern[str]) -> Locator:
    return page.locator("section.card", has=page.get_by_role("heading", name=title))


def figure(scope: Locator, label: str) -> Locator:
    return scope.locator(".figure", has=scope.page.get_by_text(label, exact=True)).locator(".big")


def package_button(page: Page, package: str, gateway: str) -> Locator:
    return page.locator(".package", has=page.get_by_role("heading", name=package, exact=True)).get_by_role(
        "button", name=re.compile(rf"^{re.escape(gateway)} · "))


def history_settled(api: Api, token: str, count: int) -> Any:
    """The newest entries, once there are ``count`` and the stream consumer stamped them all."""
    def probe() -> Any:
        data = api.ok("GET", "/v1/history?limit=50", token)["data"]
        return data if len(data) == count and all(e.get("balance_after") is not None for e in data) else None
    return wait_for(f"{count} stamped history entries", probe)


def test_buy_with_stripe_and_paystack_spend_and_refund(open_ui, api, tokens, stack):
    user = open_ui("user")
    page = user.page
    user.sign_in(BUYER, ["user"])

    # A new wallet: empty, with the low-balance banner.
    wallet = card(page, f"Wallet user:{BUYER}")
    expect(figure(wallet, "Balance")).to_have_text("0")
    expect(page.get_by_role("status")).to_contain_text("Low balance")
    user.check("wallet, empty")

    # Stripe: the card element is localstripe's stand-in Stripe.js; the test card pays.
    user.nav("Buy credits")
    stripe_button = package_button(page, "Starter", "Card (Stripe)")
    expect(stripe_button).to_have_text("Card (Stripe) · $10.00")
    user.check("buy credits")
    stripe_button.click()
    checkout = card(page, "Pay $10.00 for 100 credits")
    number = checkout.locator(".card-element input[placeholder=number]")
    expect(number).to_be_visible()
    number.press_sequentially("4242424242424242")
    checkout.locator(".card-element input[placeholder=exp_month]").press_sequentially("12")
    checkout.locator(".card-element input[placeholder=exp_year]").press_sequentially("34")
    checkout.locator(".card-element input[placeholder=cvc]").press_sequentially("123")
    checkout.locator(".card-element input[placeholder=postal_code]").press_sequentially("10001")
    user.check("buy credits, Stripe card element")
    checkout.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url(re.compile(r"#/purchases/[^/]+$"))
    stripe_purchase = page.url.rsplit("/", 1)[1]
    result = card(page, f"Purchase {stripe_purchase}")
    expect(result.locator(".status")).to_have_text("paid", timeout=PAID_TIMEOUT_MS)
    expect(result).to_contain_text("100 credits for $10.00 via stripe")
    expect(result).to_contain_text("The credits are in your wallet.")
    user.check("purchase paid (Stripe)")

    # Paystack: its (fake) checkout page, Pay, and back to the purchase's result page.
    user.nav("Buy credits")
    paystack_button = package_button(page, "Starter", "Paystack")
    expect(paystack_button).to_have_text("Paystack · ₦15,000.00")
    user.assert_clean("buy credits")
    paystack_button.click()
    page.wait_for_url(f"{stack.paystack.endpoint}/**")
    expect(page.get_by_role("heading", name="Pay NGN 15,000.00")).to_be_visible()
    user.screenshot("Paystack checkout (the fake gateway's page, not scanned)")
    user.errors.clear()  # the gateway's own page (the fake's) is not the dashboard's to check
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url(re.compile(r"#/purchases/[^/]+$"))
    paystack_purchase = page.url.rsplit("/", 1)[1]
    assert paystack_purchase != stripe_purchase
    result = card(page, f"Purchase {paystack_purchase}")
    expect(result.locator(".status")).to_have_text("paid", timeout=PAID_TIMEOUT_MS)
    expect(result).to_contain_text("100 credits for ₦15,000.00 via paystack")
    user.check("purchase paid (Paystack)")

    # Spend through the API with the user's own token (the dashboard's).
    token = user.token()
    spent = api.ok("POST", "/v1/usage", token, {"feature": "ai-insight"}, status=201, key=new_key("bt-insight"))
    assert (spent["cost"], spent["balance"]) == ("9", "191")
    spent = api.ok("POST", "/v1/usage", token, {"feature": "ai-report"}, status=201, key=new_key("bt-report"))
    assert (spent["cost"], spent["balance"]) == ("40", "151")
    history_settled(api, token, 4)
    wait_for("the usage summary", lambda: len(api.ok("GET", "/v1/usage/summary?days=30", token)["by_feature"]) == 2)

    # The wallet shows it: balance, no banner, usage by feature, the history newest first.
    user.nav("Wallet")
    expect(figure(wallet, "Balance")).to_have_text("151")
    expect(figure(wallet, "Available")).to_have_text("151")
    expect(page.get_by_role("status")).to_have_count(0)
    by_feature = card(page, "Usage, last 30 days").locator(".hbar")
    expect(by_feature.locator(".hbar-label")).to_have_text(["ai-report", "ai-insight"])
    expect(by_feature.locator(".hbar-value")).to_have_text(["40", "9"])
    history = card(page, "History")
    history.scroll_into_view_if_needed()
    rows = history.locator("tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.locator("td:nth-child(2)")).to_have_text(["usage", "usage", "purchase", "purchase"])
    expect(rows.nth(0).locator("td")).to_have_text([re.compile(r"\S"), "usage", "ai-report", "-40", "151"])
    expect(rows.nth(1).locator("td")).to_have_text([re.compile(r"\S"), "usage", "ai-insight", "-9", "191"])
    expect(history).to_contain_text("End of history.")
    # The owner's own low-balance alert: set above what is available, the banner shows it; cleared, it goes.
    alert = wallet.get_by_label("Low-balance alert")
    alert.fill("200")
    wallet.get_by_role("button", name="Save alert").click()
    expect(page.get_by_role("status")).to_contain_text("your alert is at 200")
    assert api.ok("GET", "/v1/wallet/alerts", token)["low_balance"] == "200"
    wallet.get_by_role("button", name="Clear").click()
    expect(page.get_by_role("status")).to_have_count(0)
    expect(alert).to_have_value("")
    assert api.ok("GET", "/v1/wallet/alerts", token)["low_balance"] is None
    user.check("wallet after buying and spending")
    history.get_by_label("Type").select_option("purchase")
    expect(rows.locator("td:nth-child(2)")).to_have_text(["purchase", "purchase"])
    expect(rows.locator("td:nth-child(4)")).to_have_text(["100", "100"])
    user.check("wallet history, purchases only")

    # The user asks for 50 credits back on the Purchases page: more than
    # refund_auto_approve_credits (10), so it waits for an admin.
    user.nav("Purchases")
    bought = page.locator("tbody tr", has=page.get_by_role("link", name=stripe_purchase, exact=True))
    expect(bought.locator(".status")).to_have_text("paid")
    expect(bought).to_contain_text("100 credits ($10.00)")  # refundable: all of it, unused
    expect(page.locator("tbody tr", has=page.get_by_role("link", name=paystack_purchase, exact=True))).to_contain_text(
        "100 credits (₦15,000.00)")
    user.check("purchases")
    bought.get_by_role("button", name="Request a refund").click()
    form = page.locator("form", has=page.get_by_role("heading", name=f"Refund from purchase {stripe_purchase}"))
    form.get_by_label(re.compile(r"^Credits")).fill("50")
    form.get_by_label("Reason").fill("browser test: bought too many")
    form.get_by_role("button", name="Request the refund").click()
    expect(form.locator(".status")).to_have_text("pending_approval")
    expect(form).to_contain_text("50 credits, $5.00")
    user.check("refund requested")
    refunds = api.ok("GET", "/v1/refunds", token)["data"]
    assert [(r["purchase_id"], r["status"], r["credits"]) for r in refunds] == [(stripe_purchase, "pending_approval", "50")]
    refund_id = refunds[0]["refund_id"]

    admin = open_ui("admin")
    admin.sign_in("admin", ["admin", "user"])
    admin.nav("Admin")
    admin.page.get_by_role("link", name="Refunds", exact=True).click()
    row = admin.page.locator("tbody tr", has_text=refund_id)
    expect(row.locator(".status")).to_have_text("pending_approval")
    expect(row).to_contain_text(f"user:{BUYER}")
    expect(row).to_contain_text("$5.00")
    admin.check("refunds waiting for approval")
    row.get_by_role("button", name="Approve").click()
    expect(row).to_have_count(0)  # no longer pending
    done = wait_for("the refund workflow", lambda: (r := api.ok("GET", f"/v1/refunds/{refund_id}", token))["status"]
                    in ("succeeded", "failed") and r)
    assert done["status"] == "succeeded", done
    admin.page.locator("main select").first.select_option("succeeded")
    expect(row.locator(".status")).to_have_text("succeeded")
    admin.check("refunds succeeded")

    # Back in the user's wallet: the claw-back is there.
    history_settled(api, token, 5)
    user.nav("Wallet")
    expect(figure(wallet, "Balance")).to_have_text("101")
    history.scroll_into_view_if_needed()
    expect(rows.nth(0).locator("td")).to_have_text([re.compile(r"\S"), "refund", "browser test: bought too many", "-50", "101"])
    user.check("wallet after the refund")
    purchase = api.ok("GET", f"/v1/purchases/{stripe_purchase}", token)
    assert purchase["status"] == "partially_refunded", purchase
    user.nav("Purchases")
    expect(bought.locator(".status")).to_have_text("partially_refunded")
    expect(bought).to_contain_text("$5.00 (50 credits)")
    mine = card(page, "My refunds").locator("tbody tr", has_text=refund_id)
    expect(mine.locator(".status")).to_have_text("succeeded")
    user.check("purchases after the refund")


def test_developer_sets_up_a_payout_account_and_is_paid_out(open_ui, api, tokens):
    admin_token, spender = tokens["admin"], tokens[SPENDER]
    api.ok("POST", f"/v1/admin/wallets/user:{SPENDER}/adjustments", admin_token,
           {"amount": "100", "reason": "browser test"}, status=201, key=new_key("bt-grant"))
    for _ in range(5):  # 5 calls of 20 credits, 30% of each to dev-dana: 30 credits
        api.ok("POST", "/v1/usage", spender, {"feature": FEATURE}, status=201, key=new_key("bt-sum"))
    wait_for("dev-dana's earnings", lambda: Decimal(
        api.ok("GET", "/v1/developers/me/earnings", tokens[DEVELOPER])["available"]) == 30)

    dev = open_ui("developer")
    page = dev.page
    dev.sign_in(DEVELOPER, ["user", "developer"])
    dev.nav("Developer")
    earnings = card(page, "Earnings")
    expect(figure(earnings, "available")).to_have_text("30")
    expect(figure(earnings, "paid")).to_have_text("0")
    expect(earnings.locator(".hbar-label")).to_have_text([FEATURE])
    account = card(page, "Payout account")
    expect(account).to_contain_text("No payout account yet.")
    dev.check("developer, no payout account")

    account.get_by_label("Payout gateway").select_option("paystack")
    account.get_by_label("Bank code").fill("058")
    account.get_by_label("Account number").fill("0123456789")
    account.get_by_label("Account name").fill("Dana Okafor")
    account.get_by_role("button", name="Set up").click()
    expect(account.locator(".status")).to_have_text("active")
    expect(account).to_contain_text("paystack")
    expect(account).to_contain_text("paid in NGN")
    expect(account.get_by_role("button", name="Change")).to_be_visible()

    payouts = card(page, "Payouts")
    expect(payouts).to_contain_text("No payouts yet.")
    payouts.get_by_label("Credits to pay out").fill("10")
    payouts.get_by_role("button", name="Request a payout").click()
    row = payouts.locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td:nth-child(3)")).to_have_text("10")
    expect(row.locator("td:nth-child(4)")).to_have_text("₦1.20")  # 10 credits x 12 kobo
    dev.check("developer, payout requested")

    token = dev.token()
    paid = wait_for("the payout", lambda: (p := api.ok("GET", "/v1/payouts", token)["data"]) and p[0]["status"]
                    in ("paid", "failed", "reversed") and p[0])
    assert paid["status"] == "paid", paid
    wait_for("the earnings to show the payout", lambda: Decimal(
        api.ok("GET", "/v1/developers/me/earnings", token)["paid"]) == 10)
    payouts.get_by_role("button", name="Refresh").click()
    expect(row.locator(".status")).to_have_text("paid")
    page.reload()
    expect(figure(earnings, "paid")).to_have_text("10")
    expect(figure(earnings, "available")).to_have_text("20")
    expect(row.locator(".status")).to_have_text("paid")
    dev.check("developer, payout paid")


PEOPLE = [
    # role, sub, roles, header links it must have, header links it must not have
    ("user", BUYER, ["user"], {"Wallet", "Buy credits"}, {"Developer", "Admin"}),
    ("developer", DEVELOPER, ["user", "developer"], {"Wallet", "Buy credits", "Developer"}, {"Admin"}),
    ("admin", "admin", ["admin", "user"], {"Wallet", "Buy credits", "Admin"}, {"Developer"}),
]


def test_an_admin_creates_narrows_and_revokes_a_server_key(open_ui, api, tokens):
    admin = open_ui("admin")
    page = admin.page
    admin.sign_in("admin", ["admin", "user"])
    admin.nav("Admin")
    page.get_by_role("link", name="API keys", exact=True).click()
    create = card(page, "Create a server API key")
    create.get_by_label("Name").fill("browser-backend")
    create.get_by_label("Requests a second").fill("25")
    create.get_by_role("checkbox", name=re.compile(r"^reversal")).uncheck()
    create.get_by_role("button", name="Create key").click()
    secret = create.locator("section.banner code", has_text="tgk_")
    expect(secret).to_have_text(re.compile(r"^tgk_[a-z2-7]{16}_[a-z2-7]{32}$"))
    admin.check("api key created")
    key_id = secret.inner_text().split("_")[1]
    create.get_by_role("button", name="I have copied it; hide it").click()

    row = page.locator("tbody tr", has_text=key_id)
    expect(row.locator("td").nth(3)).to_have_text("reservations, usage")
    row.get_by_role("button", name=re.compile(r"^Edit")).click()
    form = page.get_by_role("form", name="Change browser-backend")
    form.get_by_label("Requests a second for browser-backend").fill("7")
    form.get_by_role("checkbox", name="reservations").uncheck()
    admin.check("api key being changed")
    form.get_by_role("button", name="Save").click()
    expect(row.locator("td").nth(3)).to_have_text("usage")
    expect(row.locator("td").nth(4)).to_have_text("7")
    keys = {k["key_id"]: k for k in api.ok("GET", "/v1/admin/api-keys", tokens["admin"])["data"]}
    assert (keys[key_id]["scopes"], keys[key_id]["rate_limit_per_second"]) == (["usage"], 7)

    row.get_by_role("button", name="Revoke").click()
    row.get_by_role("button", name="Yes, revoke").click()
    expect(row).to_contain_text("revoked")
    admin.check("api key revoked")
    keys = {k["key_id"]: k for k in api.ok("GET", "/v1/admin/api-keys", tokens["admin"])["data"]}
    assert keys[key_id]["active"] is False
    admin.close()


def test_an_admin_registers_a_webhook_endpoint_sees_its_secret_once_turns_it_off_and_on_and_deletes_it(
        open_ui, api, tokens):
    admin = open_ui("admin")
    page = admin.page
    admin.sign_in("admin", ["admin", "user"])
    admin.nav("Admin")
    page.get_by_role("link", name="Webhooks", exact=True).click()
    create = card(page, "Register a webhook endpoint")
    create.get_by_label("URL").fill("http://127.0.0.1:9/browser-hooks")
    create.get_by_label("Description").fill("browser")
    create.get_by_role("checkbox", name=re.compile(r"^every event")).uncheck()
    create.get_by_role("checkbox", name="purchase.paid").check()
    create.get_by_role("button", name="Register endpoint").click()
    secret = create.locator("section.banner code", has_text="whsec_")
    expect(secret).to_have_text(re.compile(r"^whsec_[0-9a-f]{48}$"))
    admin.check("webhook endpoint registered")
    create.get_by_role("button", name="I have copied it; hide it").click()
    expect(secret).to_have_count(0)

    row = page.locator("tbody tr", has_text="/browser-hooks")
    expect(row.locator("td").nth(1)).to_have_text("credits.low, purchase.paid")
    listed = [e for e in api.ok("GET", "/v1/admin/webhook-endpoints", tokens["admin"])["data"]
              if e["url"].endswith("/browser-hooks")]
    assert [(e["events"], e["status"]) for e in listed] == [(["credits.low", "purchase.paid"], "enabled")]
    row.get_by_role("button", name=re.compile(r"^Deliveries")).click()
    expect(card(page, re.compile("^Deliveries to"))).to_contain_text("Nothing delivered to it yet.")
    row.get_by_role("button", name=re.compile(r"^Turn off")).click()
    expect(row.locator("td").nth(3)).to_have_text("disabled: turned off by user:admin")
    assert [e["status"] for e in api.ok("GET", "/v1/admin/webhook-endpoints", tokens["admin"])["data"]
            if e["url"].endswith("/browser-hooks")] == ["disabled"]
    row.get_by_role("button", name=re.compile(r"^Turn on")).click()
    expect(row.locator("td").nth(3)).to_have_text("enabled")
    row.get_by_role("button", name=re.compile(r"^Delete")).click()
    row.get_by_role("button", name="Yes, delete").click()
    expect(page.locator("tbody tr", has_text="/browser-hooks")).to_have_count(0)
    admin.check("webhook endpoint deleted")
    assert not [e for e in api.ok("GET", "/v1/admin/webhook-endpoints", tokens["admin"])["data"]
                if e["url"].endswith("/browser-hooks")]
    admin.close()


def test_every_navigation_link_of_every_role(open_ui):
    """Each role follows every link of every navigation it is shown (the header's, the admin
    tabs'...), so a page added later is screenshotted and scanned without a new test."""
    for role, sub, roles, must, must_not in PEOPLE:
        ui = open_ui(role)
        page = ui.page
        ui.sign_in(sub, roles)
        header = set(page.locator("header nav a").all_inner_texts())
        assert must <= header, f"{role} lacks {must - header}"
        assert not (must_not & header), f"{role} is shown {must_not & header}"
        visited: list[str] = []
        queue = ["#/"]
        while queue:
            href = queue.pop(0)
            if href in visited:
                continue
            visited.append(href)
            link = page.locator(f'nav a[href="{href}"]')
            if link.count():
                link.first.click()
                expect(link.first).to_have_attribute("aria-current", "page")
            else:
                page.goto(f"{ui.base}/{href}")
            expect(page.locator("main h2").first).to_be_visible()
            ui.check(f"nav {href.removeprefix('#/') or 'wallet'}")
            expect(page.get_by_role("alert")).to_have_count(0)  # no page shows an error
            for other in page.locator("nav a").all():
                target = other.get_attribute("href") or ""
                if target.startswith("#/") and target not in visited and target not in queue:
                    queue.append(target)
        assert len(visited) >= len(must), visited
        ui.close()
