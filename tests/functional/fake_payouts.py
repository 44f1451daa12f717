"""Fakes for payout tests: a payout gateway that records accounts and transfers, and a
workflow engine that records what it was asked to start and answer."""

from __future__ import annotations

from typing import Any

from tollgate.errors import ValidationFailed
from tollgate.gateways import GatewayError
from tollgate.gateways.payouts import BankAccount, PayoutAccount, PayoutGateway, Transfer
from tollgate.workflows import Workflow, WorkflowEngine


class FakePayoutGateway(PayoutGateway):
    def __init__(self, name: str) -> None:
        self.name = name
        self.currency = "USD" if name == "stripe" else "NGN"
        self.opened: list[tuple[str, BankAccount | None]] = []
        self.enabled: set[str] = set()  # Stripe accounts done onboarding
        self.transfers: dict[str, Transfer] = {}
        self.fail_open = False
        self.pending = name == "paystack"  # Paystack's transfers wait for their webhook

    def open_account(self, developer_id: str, *, bank: BankAccount | None, return_url: str, refresh_url: str,
                     idempotency_key: str) -> PayoutAccount:
        if self.fail_open:
            raise ValidationFailed("Paystack could not resolve the account", field="account_number")
        self.opened.append((developer_id, bank))
        if self.name == "stripe":
            account_id = f"acct_{developer_id}"
            return self._account(account_id)
        assert bank is not None
        return PayoutAccount(gateway="paystack", account_id=f"RCP_{developer_id}", status="active", currency="NGN",
                             details={"bank_name": f"Bank {bank.bank_code}", "account_last4": bank.account_number[-4:]})

    def _account(self, account_id: str) -> PayoutAccount:
        active = account_id in self.enabled
        return PayoutAccount(gateway="stripe", account_id=account_id, status="active" if active else "onboarding",
                             currency="USD", onboarding_url=None if active else f"https://connect.example/{account_id}")

    def account(self, account_id: str, *, return_url: str, refresh_url: str) -> PayoutAccount:
        if self.name == "stripe":
            return self._account(account_id)
        return PayoutAccount(gateway="paystack", account_id=account_id, status="active", currency="NGN")

    def transfer(self, payout_id: str, account_id: str, amount: int, currency: str) -> Transfer:
        if payout_id not in self.transfers:
            self.transfers[payout_id] = Transfer(transfer_id=f"tr_{len(self.transfers)}", reference=payout_id,
                                                 status="pending" if self.pending else "succeeded", amount=amount,
                                                 currency=currency)
        return self.transfers[payout_id]

    def find_transfer(self, payout_id: str) -> Transfer | None:
        return self.transfers.get(payout_id)


class RecordingEngine(WorkflowEngine):
    def __init__(self) -> None:
        self.started: list[str] = []  # execution names
        self.workflows: list[str] = []
        self.answers: list[tuple[str, str, Any]] = []
        self.fail_start = False

    def start(self, workflow: Workflow, name: str, payload: dict[str, Any]) -> None:
        if self.fail_start:
            raise GatewayError("Step Functions is unavailable", gateway="stepfunctions")
        self.started.append(name)
        self.workflows.append(workflow)

    def succeed(self, token: str, output: dict[str, Any]) -> None:
        self.answers.append(("succeed", token, output))

    def fail(self, token: str, error: str, cause: str) -> None:
        self.answers.append(("fail", token, error))
