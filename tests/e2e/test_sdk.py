"""The Python SDK (sdk/) against the local stack: retries that charge once, holds that release,
a rerun that finds its hold, the figures of InsufficientCredits, and the README's examples."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from tollgate_sdk import AsyncTollgate, InsufficientCredits, ReservationClosed, Tollgate

from tests.e2e.test_local_stack import fund, person

README = Path(__file__).resolve().parents[2] / "README.md"


class DropsAnswerOnce(httpx.BaseTransport):
    """Sends the request, lets the server process it, then loses the answer (once, for one path)."""

    def __init__(self, path: str) -> None:
        self.inner = httpx.HTTPTransport()
        self.path = path
        self.dropped = 0
        self.keys: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path != self.path:
            return response
        self.keys.append(request.headers.get("idempotency-key"))
        if self.dropped:
            return response
        response.read()
        response.close()
        self.dropped += 1
        raise httpx.ReadError("the connection dropped after the server answered")

    def close(self) -> None:
        self.inner.close()


def sdk(stack, token: str, **kw) -> Tollgate:
    return Tollgate(stack.url, token=token, sleep=lambda _: None, **kw)


@pytest.fixture
def funded(stack, api, tokens, catalog):
    """A new person with 100 credits: (sub, token)."""
    sub, token = person(stack)
    fund(api, tokens, f"user:{sub}", "100")
    return sub, token


def test_a_use_whose_answer_is_lost_is_retried_and_charged_once(stack, funded):
    _, token = funded
    transport = DropsAnswerOnce("/v1/usage")
    client = sdk(stack, token, transport=transport)
    result = client.use("ai-insight", metadata={"insight_id": "ins_42"})
    assert (result.cost, result.balance) == (Decimal(9), Decimal(91))
    assert transport.dropped == 1 and len(transport.keys) == 2
    assert transport.keys[0] == transport.keys[1] and transport.keys[0]
    assert client.wallet().balance == Decimal(91)
    usage = list(client.history(type="usage", page_size=1))
    assert [(e.amount, e.transaction_id) for e in usage] == [(Decimal(-9), result.transaction_id)]


def test_a_hold_is_released_on_an_exception_and_on_an_early_exit(stack, funded):
    _, token = funded
    client = sdk(stack, token)
    with pytest.raises(RuntimeError, match="model failed"), client.reserve("plugin-generate", max_credits="20") as hold:
        assert client.wallet().reserved == Decimal(20)
        raise RuntimeError("the model failed")
    assert client.reservation(hold.id).status == "released"
    wallet = client.wallet()
    assert (wallet.reserved, wallet.available, wallet.open_holds) == (Decimal(0), Decimal(100), 0)

    holds: list = []

    def first_answer(prompts: list[str]) -> str:
        for prompt in prompts:
            with client.reserve("plugin-generate", max_credits="20") as held:
                holds.append(held)
                return prompt  # an early exit, before settling
        raise AssertionError("unreachable")

    assert first_answer(["a", "b"]) == "a"
    assert client.reservation(holds[0].id).status == "released"
    assert client.wallet().reserved == Decimal(0)

    # Streamed usage: remaining is what the API will charge, to the millicredit.
    with client.reserve("plugin-generate", max_credits="20") as hold:
        hold.add(usage={"input_tokens": 40})
        hold.add(usage={"output_tokens": 25})
        assert (hold.spent, hold.remaining) == (Decimal(9), Decimal(11))
        settled = hold.settle()
    assert (settled.cost, settled.released, settled.balance) == (Decimal(9), Decimal(11), Decimal(91))
    assert client.wallet().reserved == Decimal(0)


def test_a_rerun_with_the_same_key_finds_the_same_hold_and_releases_it(stack, funded):
    _, token = funded
    key = f"job-{uuid.uuid4().hex}"
    # The first process opens its hold and dies inside the block.
    crashed = sdk(stack, token).reserve("plugin-generate", max_credits="20", idempotency_key=key).open()
    rerun = sdk(stack, token)  # a new process
    with rerun.reserve("plugin-generate", max_credits="20", idempotency_key=key) as hold:
        assert hold.id == crashed.id
        wallet = rerun.wallet()
        assert (wallet.open_holds, wallet.reserved) == (1, Decimal(20))
    assert rerun.reservation(crashed.id).status == "released"
    assert rerun.wallet().reserved == Decimal(0)
    # A third run finds the work's hold closed: nothing to do, nothing charged.
    with pytest.raises(ReservationClosed) as closed, rerun.reserve("plugin-generate", max_credits="20",
                                                                   idempotency_key=key):
        pass
    assert closed.value.reservation_status == "released"
    assert rerun.wallet().balance == Decimal(100)


def test_insufficient_credits_carries_the_figures(stack, api, tokens, catalog):
    sub, token = person(stack)
    fund(api, tokens, f"user:{sub}", "12.5")
    client = sdk(stack, token)
    with pytest.raises(InsufficientCredits) as caught:
        client.use("ai-report")
    assert (caught.value.required, caught.value.available, caught.value.status) == (Decimal(40), Decimal("12.5"), 402)
    with pytest.raises(InsufficientCredits) as caught, client.reserve("plugin-generate", max_credits="20"):
        pass
    assert (caught.value.required, caught.value.available) == (Decimal(20), Decimal("12.5"))
    assert client.wallet().balance == Decimal("12.5")


def test_the_async_client_releases_and_settles(stack, funded):
    _, token = funded

    async def run() -> Decimal:
        async with AsyncTollgate(stack.url, token=token) as client:
            with pytest.raises(KeyError):
                async with client.reserve("plugin-generate", max_credits="20"):
                    raise KeyError("boom")
            async with client.reserve("plugin-generate", usage={"input_tokens": 100, "output_tokens": 50}) as hold:
                assert hold.held == Decimal(20)
                await hold.settle(usage={"usage": {"input_tokens": 40, "output_tokens": 25}})
            wallet = await client.wallet()
            assert wallet.reserved == Decimal(0)
            return wallet.balance

    assert asyncio.run(run()) == Decimal(91)


def _readme_sdk_blocks() -> list[str]:
    text = README.read_text()
    section = text[text.index("## Python SDK\n"):]
    section = section[:section.index("\n## ", 1)]
    return re.findall(r"```python\n(.*?)```", section, re.DOTALL)


def test_the_readme_examples_run(stack, funded, tmp_path):
    _, token = funded
    example, streaming = _readme_sdk_blocks()
    script = tmp_path / "example.py"
    script.write_text(example)
    env = {**os.environ, "TOLLGATE_URL": stack.url, "TOLLGATE_TOKEN": token}
    run = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60,
                         check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "echo: Write a haiku about credits | cost 9 | available 91\n"

    consumed: list[int] = []

    def stream_model(prompt: str):
        yield {"usage": {"input_tokens": 40}}  # 4 credits
        for n in range(100):
            consumed.append(n)
            yield {"usage": {"output_tokens": 5}}  # 1 credit each

    client = sdk(stack, token)
    exec(compile(streaming, "README.md", "exec"), {"client": client, "stream_model": stream_model, "prompt": "hi"})
    assert len(consumed) == 16  # 4 + 16 = 20 credits: the hold is used up, the stream stops
    wallet = client.wallet()
    assert (wallet.balance, wallet.reserved) == (Decimal(71), Decimal(0))
