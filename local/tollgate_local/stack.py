"""The whole local stack, from template.yaml: DynamoDB Local, moto, localstripe, the gateway,
stream consumers, schedules, and each function in a worker process of its own (its own
modules and environment, as a Lambda container). ``make dev`` runs it; the e2e tests start
it on free ports.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tollgate_local import template, tokens
from tollgate_local.dynamodb_local import (
    DynamoDBLocal,
    DynamoDBLocalUnavailable,
    free_port,
    stop_process,
    wait_for_port,
)

STATE_DIR = template.ROOT / ".dev"
STRIPE_WEBHOOK_SECRET = "whsec_tollgate_local_dev"  # a local-only value shared with localstripe
STRIPE_LOCAL_KEY = "sk_test_tollgate_local"  # localstripe accepts any sk_test_ key


@dataclass
class StackConfig:
    state_dir: Path = STATE_DIR
    gateway_port: int = 3000
    dynamodb_port: int = 8000
    moto_port: int = 5050
    stripe_port: int = 8420
    paystack_port: int = 8430
    persist: bool = True
    stripe: bool = True
    schedules: bool = True
    verbose: bool = False
    # "local" (DynamoDB Local, needs Java) or "moto"; make dev honours TOLLGATE_DYNAMODB=moto.
    dynamodb: str = field(default_factory=lambda: os.environ.get("TOLLGATE_DYNAMODB", "local"))
    extra_env: dict[str, str] = field(default_factory=dict)
    # Template parameter values over the defaults (e.g. short payout retry intervals in tests).
    parameters: dict[str, str] = field(default_factory=dict)

    @classmethod
    def ephemeral(cls, state_dir: Path) -> StackConfig:
        """Everything on free ports, nothing kept: for tests."""
        return cls(state_dir=state_dir, gateway_port=free_port(), dynamodb_port=free_port(),
                   moto_port=free_port(), stripe_port=free_port(), paystack_port=free_port(), persist=False,
                   schedules=False)


def parameters() -> dict[str, str]:
    values = {name: str(p.get("Default", "")) for name, p in (template.load().get("Parameters") or {}).items()}
    values.update({"Stage": "dev", "JwtIssuer": tokens.ISSUER, "JwtAudience": tokens.AUDIENCE, "JwksUrl": "",
                   "WebhookUrlPolicy": "local"})  # a local receiver on 127.0.0.1, and nothing sent elsewhere
    return values


def resource_names() -> dict[str, str]:
    # S3 bucket names are lower case.
    return {name: f"tollgate-local-{name}".lower() if r.get("Type") == "AWS::S3::Bucket" else f"tollgate-local-{name}"
            for name, r in template.load()["Resources"].items()}


class LocalStack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.ddb: DynamoDBLocal | None = None
        self.ddb_endpoint = ""
        self.moto: Any = None
        self.stripe_proc: subprocess.Popen | None = None
        self.stripe_url = ""
        self.paystack: Any = None
        self.registry: Any = None
        self.poller: Any = None
        self.queues: Any = None
        self.scheduler: Any = None
        self.gateway: Any = None
        self.signer: tokens.LocalSigner | None = None
        self.notes: list[str] = []

    @property
    def url(self) -> str:
        return self.gateway.url

    def start(self) -> LocalStack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        import boto3

        from tollgate_local.aws import LocalMotoServer
        from tollgate_local.functions import FunctionRegistry
        from tollgate_local.gateway import GatewayServer, LocalApi
        from tollgate_local.schedules import Scheduler
        from tollgate_local.streams import StreamPoller

        cfg = self.config
        cfg.state_dir.mkdir(parents=True, exist_ok=True)
        quiet: tuple[str, ...] = ()
        if not cfg.verbose:
            # Keep the terminal for what matters: no per-request lines from moto's server,
            # no "no metrics to publish" warnings from routes that record none (the functions'
            # processes are told too).
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
            quiet = ("No application metrics to publish",)
            for message in quiet:
                warnings.filterwarnings("ignore", message=message)
        self.signer = tokens.LocalSigner(cfg.state_dir)
        # The local stand-ins for an AWS account, for this process's own clients and for every
        # function's (each function's environment is built from these and the template alone).
        account = {
            "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local",
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
            "JWKS_JSON": json.dumps(self.signer.jwks()),
            "POWERTOOLS_TRACE_DISABLED": "1", "POWERTOOLS_METRICS_DISABLED": "1",
        }
        os.environ.update({**account, **cfg.extra_env})
        os.environ.pop("AWS_PROFILE", None)

        params = {**parameters(), **cfg.parameters}
        if cfg.stripe:
            # The functions reach the local gateways through their template parameters.
            params["StripeApiBase"] = f"http://127.0.0.1:{cfg.stripe_port}"
            from tollgate_local.fake_paystack import FakePaystack

            self.paystack = FakePaystack(port=cfg.paystack_port,
                                         webhook_url=f"http://127.0.0.1:{cfg.gateway_port}/v1/webhooks/paystack").start()
            params["PaystackApiBase"] = self.paystack.endpoint
        self.registry = FunctionRegistry(params, resource_names())
        self.moto = LocalMotoServer(self.registry, cfg.moto_port).start()
        os.environ["AWS_ENDPOINT_URL"] = self.moto.endpoint
        # moto's Step Functions send their Lambda tasks to localhost:$MOTO_PORT.
        os.environ["MOTO_PORT"] = str(self.moto.port)

        try:
            if cfg.dynamodb == "moto":
                raise DynamoDBLocalUnavailable("TOLLGATE_DYNAMODB=moto")
            data_dir = cfg.state_dir / "dynamodb" if cfg.persist else None
            self.ddb = DynamoDBLocal(port=cfg.dynamodb_port, data_dir=data_dir).start()
            self.ddb_endpoint = self.ddb.endpoint
        except DynamoDBLocalUnavailable as exc:
            self.notes.append(f"DynamoDB Local unavailable ({exc}); using moto's DynamoDB (not kept across restarts)")
            self.ddb_endpoint = self.moto.endpoint
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = self.ddb_endpoint
        os.environ["AWS_ENDPOINT_URL_DYNAMODBSTREAMS"] = self.ddb_endpoint
        account.update({key: os.environ[key] for key in (
            "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_DYNAMODBSTREAMS")})
        # This process works against the stack as an operator's shell would (tests check the
        # ledger through the layer): it gets the template's Globals, never a function's variables.
        os.environ.update(self.registry.global_environment())

        ddb = boto3.client("dynamodb", endpoint_url=self.ddb_endpoint)
        names = resource_names()
        existing = set(ddb.list_tables()["TableNames"])
        for logical in template.table_definitions():
            if names[logical] not in existing:
                template.create_table(ddb, logical, names[logical])
        self._create_state_machines()
        self._create_buckets()
        self._create_queues_and_buses()
        secrets: dict[str, str] = {}
        if cfg.stripe:
            self._start_stripe()
            if self.stripe_url:
                secrets.update(STRIPE_SECRET_KEY=STRIPE_LOCAL_KEY, STRIPE_WEBHOOK_SECRET=STRIPE_WEBHOOK_SECRET)
            secrets["PAYSTACK_SECRET_KEY"] = self.paystack.secret_key
        # Every function's container starts now, all at once, once every endpoint is known.
        self.registry.start(account, secrets, cfg.extra_env, ignored_warnings=quiet)

        self.poller = StreamPoller(
            self.registry, boto3.client("dynamodbstreams", endpoint_url=self.ddb_endpoint), ddb,
            {logical: names[logical] for logical in template.table_definitions()},
            cfg.state_dir / "stream-checkpoints.json" if cfg.persist else None,
        ).start()
        from tollgate_local.queues import QueuePoller

        self.queues = QueuePoller(self.registry, boto3.client("sqs", endpoint_url=self.moto.endpoint),
                                  {logical: names[logical] for logical in template.resources("AWS::SQS::Queue")}).start()
        self.scheduler = Scheduler(self.registry)
        if cfg.schedules:
            self.scheduler.start()
        api = LocalApi(self.registry, self.signer, issuer=tokens.ISSUER, audience=tokens.AUDIENCE,
                       control={"schedule": self.scheduler.run_now})
        self.gateway = GatewayServer(api, cfg.gateway_port, verbose=cfg.verbose).start()

    def _create_state_machines(self) -> None:
        machines = template.resources("AWS::Serverless::StateMachine")
        if not machines:
            return
        import boto3

        sfn = boto3.client("stepfunctions", endpoint_url=self.moto.endpoint)
        for logical, resource in machines.items():
            props = resource["Properties"]
            definition = (template.ROOT / props["DefinitionUri"]).read_text()
            for key, value in (props.get("DefinitionSubstitutions") or {}).items():
                definition = definition.replace("${" + key + "}", str(self.registry.resolver.value(value)))
            sfn.create_state_machine(name=resource_names()[logical], definition=definition,
                                     roleArn="arn:aws:iam::123456789012:role/local", type=props.get("Type", "STANDARD"))

    def _create_buckets(self) -> None:
        """The template's buckets in moto, with their default encryption (moto's S3 keeps nothing across restarts)."""
        buckets = template.resources("AWS::S3::Bucket")
        if not buckets:
            return
        import boto3

        s3 = boto3.client("s3", endpoint_url=self.moto.endpoint)
        for logical, resource in buckets.items():
            name = resource_names()[logical]
            s3.create_bucket(Bucket=name)
            encryption = (resource.get("Properties") or {}).get("BucketEncryption")
            if encryption:  # CloudFormation's property names the default as the API does not
                rules = [{"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                         for rule in encryption["ServerSideEncryptionConfiguration"]]
                s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})

    def _create_queues_and_buses(self) -> None:
        """The template's queues (with their redrive policies) and event buses, in moto."""
        import boto3

        sqs = boto3.client("sqs", endpoint_url=self.moto.endpoint)
        queues = template.resources("AWS::SQS::Queue")
        # Dead-letter queues first: a redrive policy names its target's ARN.
        for logical in sorted(queues, key=lambda q: "RedrivePolicy" in (queues[q].get("Properties") or {})):
            props = queues[logical].get("Properties") or {}
            attributes = {k: str(props[k]) for k in ("VisibilityTimeout", "MessageRetentionPeriod") if k in props}
            if "RedrivePolicy" in props:
                redrive = props["RedrivePolicy"]
                attributes["RedrivePolicy"] = json.dumps({
                    "deadLetterTargetArn": self.registry.resolver.value(redrive["deadLetterTargetArn"]),
                    "maxReceiveCount": str(redrive["maxReceiveCount"])})
            sqs.create_queue(QueueName=resource_names()[logical], Attributes=attributes)
        events = boto3.client("events", endpoint_url=self.moto.endpoint)
        existing = {bus["Name"] for bus in events.list_event_buses()["EventBuses"]}
        for logical in template.resources("AWS::Events::EventBus"):
            if resource_names()[logical] not in existing:  # a moto kept from an earlier stack has it
                events.create_event_bus(Name=resource_names()[logical])

    def _start_stripe(self) -> None:
        try:
            import localstripe  # noqa: F401
        except ImportError:
            self.notes.append("localstripe is not installed; Stripe is not available locally")
            return
        port = self.config.stripe_port
        # localstripe behind the shim that supplies what it lacks (localstripe_shim.py); its
        # store kept under the state folder (make reset wipes it), or in memory only for
        # ephemeral stacks.
        store_file = self.config.state_dir / "localstripe.pickle"
        from tollgate_local import localstripe_shim

        self.stripe_proc = subprocess.Popen(
            [sys.executable, localstripe_shim.__file__, str(port), str(store_file) if self.config.persist else ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(port, proc=self.stripe_proc)
        self.stripe_url = f"http://127.0.0.1:{port}"
        if not self.config.persist:
            urllib.request.urlopen(urllib.request.Request(f"{self.stripe_url}/_config/data", method="DELETE"),
                                   timeout=10).read()
        hook = urllib.parse.urlencode({
            "url": f"http://127.0.0.1:{self.config.gateway_port}/v1/webhooks/stripe",
            "secret": STRIPE_WEBHOOK_SECRET,
        }).encode()
        urllib.request.urlopen(urllib.request.Request(f"{self.stripe_url}/_config/webhooks/tollgate", data=hook,
                                                      method="POST"), timeout=10).read()
        # Local-only values (env wins over the SSM parameters the template names).
        os.environ["STRIPE_WEBHOOK_SECRET"] = STRIPE_WEBHOOK_SECRET
        os.environ["STRIPE_SECRET_KEY"] = STRIPE_LOCAL_KEY

    def stop(self) -> None:
        for part in (self.gateway, self.scheduler, self.poller, self.queues, self.paystack, self.registry):
            if part is not None:
                part.stop()
        stop_process(self.stripe_proc)
        self.stripe_proc = None
        if self.ddb is not None:
            self.ddb.stop()
        if self.moto is not None:
            self.moto.stop()
        self.gateway = self.scheduler = self.poller = self.queues = self.moto = self.ddb = self.paystack = None
        self.registry = None

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def reset(state_dir: Path = STATE_DIR) -> None:
    for name in ("dynamodb", "stream-checkpoints.json", "localstripe.pickle"):
        target = state_dir / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
