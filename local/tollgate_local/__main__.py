"""``python -m tollgate_local dev|token|schedule|reset`` (what the make targets call)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import urllib.error
import urllib.request

from tollgate_local import tokens
from tollgate_local.stack import STATE_DIR, LocalStack, StackConfig, reset


def _dev(args: argparse.Namespace) -> int:
    from tollgate_local.seed import seed_if_empty

    config = StackConfig(gateway_port=args.port, dynamodb_port=args.dynamodb_port, moto_port=args.moto_port,
                         stripe_port=args.stripe_port, paystack_port=args.paystack_port, verbose=args.verbose)
    stack = LocalStack(config)
    dashboard = None
    oidc = None
    receiver = None
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stack.start()
        signer = stack.signer
        assert signer is not None
        user = signer.token("alice", ["user"])
        admin = signer.token("admin", ["admin", "user"])
        seeded = seed_if_empty(stack.url, admin)
        from tollgate_local.receiver import WebhookReceiver

        receiver = WebhookReceiver(args.webhook_port, config.state_dir).start()
        receiver.subscribe(stack.url, admin)
        from tollgate_local.dashboard import DIST, DashboardServer

        if args.sign_in == "oidc":
            from tollgate_local.oidc import LocalOidcIssuer

            oidc = LocalOidcIssuer(port=args.oidc_port, signer=signer).start()
        dashboard = DashboardServer(port=args.dashboard_port, api_url=stack.url, signer=signer,
                                    stripe_url=stack.stripe_url, oidc_issuer=oidc.url if oidc else None,
                                    oidc_client_id=oidc.client_id if oidc else None).start()
        lines = [
            "",
            "Tollgate is running locally (Ctrl-C stops everything).",
            f"  API             {stack.url}          (every HttpApi route in template.yaml)",
            f"  OpenAPI         {stack.url}/v1/openapi.json",
            f"  Dashboard       {dashboard.url}/          ({'OIDC' if oidc else 'dev'} sign-in; "
            + ("dashboard/dist" if (DIST / "index.html").exists() else "not built: npm --prefix dashboard run build") + ")",
            *([f"  OIDC issuer     {oidc.url}          (local: the dashboard signs in there, code + PKCE)"] if oidc else []),
            f"  DynamoDB Local  {stack.ddb_endpoint}",
            f"  moto (AWS)      {stack.moto.endpoint}",
            f"  functions       {len(stack.registry.functions)}, each in a process of its own (as Lambda containers)",
        ]
        if stack.stripe_url:
            lines.append(f"  localstripe     {stack.stripe_url}          (webhooks -> {stack.url}/v1/webhooks/stripe)")
        if stack.paystack is not None:
            lines.append(f"  fake Paystack   {stack.paystack.endpoint}          (webhooks -> {stack.url}/v1/webhooks/paystack)")
        lines.append(f"  webhooks        {receiver.url}          (a local receiver, subscribed to every event as "
                     f"{receiver.endpoint_id}: deliveries print here, signatures checked)")
        lines += [f"  note: {n}" for n in stack.notes]
        lines += [
            "  demo catalog and 100 credits for user:alice loaded"
            if seeded
            else "  data kept from the last run (make reset wipes it)",
            "",
            f"User token (alice):  {user}",
            f"Admin token:         {admin}",
            "More tokens:         make token SUB=bob ROLES=user",
            "",
            "Try:",
            f"  curl -s {stack.url}/v1/wallet -H \"Authorization: Bearer $(make -s token SUB=alice)\"",
            "Subscribe a receiver of your own (http://127.0.0.1 only; the secret is shown once):",
            f"  curl -s -X POST {stack.url}/v1/admin/webhook-endpoints -H \"Authorization: Bearer $(make -s token SUB=admin "
            "ROLES=admin)\" -H 'Content-Type: application/json' -d '{\"url\": \"http://127.0.0.1:4011/hooks\", "
            "\"events\": [\"credits.low\", \"purchase.paid\"]}'",
            "",
        ]
        print("\n".join(lines), flush=True)
        try:
            stopped.wait()
        except KeyboardInterrupt:
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping...", flush=True)
        if dashboard is not None:
            dashboard.stop()
        if receiver is not None:
            receiver.stop()
        if oidc is not None:
            oidc.stop()
        stack.stop()
    return 0


def _token(args: argparse.Namespace) -> int:
    roles = [r for r in args.roles.replace(",", " ").split() if r]
    print(tokens.LocalSigner(STATE_DIR).token(args.sub, roles, ttl_s=args.ttl))
    return 0


def _schedule(args: argparse.Namespace) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{args.port}/_local/schedule/{args.name}", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            print(json.dumps(json.loads(response.read()), indent=2))
            return 0
    except urllib.error.HTTPError as err:
        print(f"{err.code}: {err.read().decode()}", file=sys.stderr)
    except urllib.error.URLError:
        print(f"nothing is listening on 127.0.0.1:{args.port}: start it with `make dev`", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tollgate_local")
    sub = parser.add_subparsers(dest="command", required=True)
    dev = sub.add_parser("dev", help="run the whole stack on 127.0.0.1")
    dev.add_argument("--port", type=int, default=3000)
    dev.add_argument("--dynamodb-port", type=int, default=8000)
    dev.add_argument("--moto-port", type=int, default=5050)
    dev.add_argument("--stripe-port", type=int, default=8420)
    dev.add_argument("--paystack-port", type=int, default=8430)
    dev.add_argument("--dashboard-port", type=int, default=3100)
    dev.add_argument("--sign-in", choices=("dev", "oidc"), default="dev",
                     help="the dashboard's sign-in: its dev page, or a local OIDC issuer (code + PKCE, as deployed)")
    dev.add_argument("--oidc-port", type=int, default=3200)
    dev.add_argument("--webhook-port", type=int, default=4010, help="the local webhook receiver")
    dev.add_argument("--verbose", action="store_true")
    token = sub.add_parser("token", help="print a signed JWT for the local gateway")
    token.add_argument("--sub", default="alice")
    token.add_argument("--roles", default="user")
    token.add_argument("--ttl", type=int, default=12 * 3600)
    schedule = sub.add_parser("schedule", help="run a scheduled function now")
    schedule.add_argument("name")
    schedule.add_argument("--port", type=int, default=3000)
    sub.add_parser("reset", help="wipe local data")
    args = parser.parse_args(argv)
    if args.command == "dev":
        return _dev(args)
    if args.command == "token":
        return _token(args)
    if args.command == "schedule":
        return _schedule(args)
    reset()
    print(f"wiped local data under {STATE_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
