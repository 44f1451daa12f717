"""template.yaml, read as data: tables, functions and their HttpApi routes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """Keeps intrinsic functions (!Ref, !GetAtt, !Sub...) as {"Fn": value} dicts."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@lru_cache(maxsize=1)
def load() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in load()["Resources"].items() if r.get("Type") == kind}


def table_definitions() -> dict[str, dict[str, Any]]:
    """CreateTable arguments (minus TableName) for each AWS::DynamoDB::Table."""
    tables = {}
    for name, resource in resources("AWS::DynamoDB::Table").items():
        props = resource["Properties"]
        args: dict[str, Any] = {
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        for key in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
            if props.get(key):
                args[key] = props[key]
        if props.get("StreamSpecification"):
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        tables[name] = args
    return tables


def create_table(client: Any, logical_name: str, table_name: str) -> None:
    """Create the template's table ``logical_name`` as ``table_name`` and wait for it."""
    client.create_table(TableName=table_name, **table_definitions()[logical_name])
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})


@dataclass(frozen=True)
class Route:
    function: str
    event: str
    method: str
    path: str
    authorizer: str | None


def http_routes() -> list[Route]:
    api = resources("AWS::Serverless::HttpApi")
    default_auth = None
    for resource in api.values():
        default_auth = resource.get("Properties", {}).get("Auth", {}).get("DefaultAuthorizer")
    routes = []
    for fname, fn in resources("AWS::Serverless::Function").items():
        for ename, event in (fn.get("Properties", {}).get("Events") or {}).items():
            if event.get("Type") != "HttpApi":
                continue
            props = event.get("Properties") or {}
            auth = (props.get("Auth") or {}).get("Authorizer", default_auth)
            routes.append(Route(fname, ename, props["Method"].upper(), props["Path"],
                                None if auth == "NONE" else auth))
    return routes


def function_code_dir(logical_name: str) -> Path:
    fn = resources("AWS::Serverless::Function")[logical_name]
    return ROOT / fn["Properties"]["CodeUri"]
