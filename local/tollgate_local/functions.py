"""The template's Lambda functions, loaded and invoked in this process.

Everything comes from template.yaml: handler file and name (``CodeUri`` + ``Handler``),
layers (their ``ContentUri`` joins ``sys.path``), and environment variables (Globals
merged with the function's own, intrinsics resolved against local values). Each function
serves one invocation at a time, as one warm Lambda container would: its Powertools
resolver keeps per-request state on the app object.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from tollgate_local import template

ACCOUNT = "123456789012"
REGION = "us-east-1"


def function_arn(logical_name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_name}"


class Resolver:
    """Resolves CloudFormation intrinsics to local values."""

    def __init__(self, parameters: dict[str, str], resource_names: dict[str, str]) -> None:
        self.parameters = parameters
        self.resource_names = resource_names
        self.conditions = {
            name: self.value(cond) for name, cond in (template.load().get("Conditions") or {}).items()
        }

    def value(self, node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                target, attr = arg.split(".", 1) if isinstance(arg, str) else arg
                return self._getatt(target, attr)
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::If":
                cond, yes, no = arg
                return self.value(yes if self.conditions.get(cond) else no)
            if key == "Fn::Equals":
                left, right = (self.value(a) for a in arg)
                return str(left) == str(right)
            if key == "Fn::Join":
                sep, items = arg
                return sep.join(str(self.value(i)) for i in items)
        if isinstance(node, dict):
            return {k: self.value(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self.value(v) for v in node]
        return node

    def _ref(self, name: str) -> str:
        if name in self.parameters:
            return self.parameters[name]
        if name == "AWS::Region":
            return REGION
        if name == "AWS::AccountId":
            return ACCOUNT
        if name == "AWS::URLSuffix":
            return "amazonaws.com"
        return self.resource_names.get(name, name)

    def _getatt(self, target: str, attr: str) -> str:
        kind = template.load()["Resources"].get(target, {}).get("Type", "")
        name = self.resource_names.get(target, target)
        if kind == "AWS::Serverless::Function":
            return function_arn(target)
        if kind == "AWS::DynamoDB::Table":
            arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
            return f"{arn}/stream/local" if attr == "StreamArn" else arn
        if kind == "AWS::SQS::Queue":
            return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}" if attr == "Arn" else name
        if kind == "AWS::Serverless::StateMachine":
            return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
        return f"arn:aws:local:{REGION}:{ACCOUNT}:{target}/{attr}"

    def _sub(self, arg: Any) -> str:
        text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        out, i = [], 0
        while i < len(text):
            start = text.find("${", i)
            if start == -1:
                out.append(text[i:])
                break
            end = text.index("}", start)
            out.append(text[i:start])
            name = text[start + 2 : end]
            if name in extra:
                out.append(str(self.value(extra[name])))
            elif "." in name:
                out.append(self._getatt(*name.split(".", 1)))
            else:
                out.append(str(self._ref(name)))
            i = end + 1
        return "".join(out)


@dataclass
class LocalContext:
    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return function_arn(self.function_name)

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


class LocalFunction:
    def __init__(self, logical_name: str, properties: dict[str, Any], lock: threading.Lock | None = None) -> None:
        self.name = logical_name
        self.properties = properties
        self.code_dir = template.ROOT / properties["CodeUri"]
        module_name, _, self.handler_name = properties["Handler"].rpartition(".")
        self.handler_file = self.code_dir / (module_name.replace(".", "/") + ".py")
        self._module: ModuleType | None = None
        self._lock = lock or threading.Lock()

    def module(self) -> ModuleType:
        if self._module is None:
            spec = importlib.util.spec_from_file_location(f"tollgate_local_fn_{self.name}", self.handler_file)
            assert spec and spec.loader, self.handler_file
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
            self._module = module
        return self._module

    def invoke(self, event: Any) -> Any:
        handler = getattr(self.module(), self.handler_name)
        with self._lock:
            return handler(event, LocalContext(self.name))


class FunctionRegistry:
    """All functions of the template, with the environment and layers they would have."""

    def __init__(self, parameters: dict[str, str], resource_names: dict[str, str]) -> None:
        self.resolver = Resolver(parameters, resource_names)
        globals_fn = (template.load().get("Globals") or {}).get("Function") or {}
        self.functions: dict[str, LocalFunction] = {}
        self.environment: dict[str, str] = {}
        self.layer_paths: list[Path] = []
        http_lock = threading.Lock()
        for name, resource in template.resources("AWS::Serverless::Function").items():
            props = {**globals_fn, **resource["Properties"]}
            serves_http = any(e.get("Type") == "HttpApi" for e in (props.get("Events") or {}).values())
            self.functions[name] = LocalFunction(name, props, http_lock if serves_http else None)
            self._merge_environment(name, globals_fn, resource["Properties"])
            for layer in props.get("Layers") or []:
                path = self._layer_path(layer)
                if path and path not in self.layer_paths:
                    self.layer_paths.append(path)

    def _merge_environment(self, name: str, globals_fn: dict[str, Any], props: dict[str, Any]) -> None:
        # One process hosts every function, so they share one environment; the template
        # must not give one variable two values (checked here, loudly).
        merged = {
            **((globals_fn.get("Environment") or {}).get("Variables") or {}),
            **((props.get("Environment") or {}).get("Variables") or {}),
        }
        for key, raw in merged.items():
            value = str(self.resolver.value(raw))
            if key in self.environment and self.environment[key] != value:
                raise ValueError(f"{name} sets {key}={value!r}, another function {self.environment[key]!r}")
            self.environment[key] = value

    def _layer_path(self, layer: Any) -> Path | None:
        ref = layer.get("Ref") if isinstance(layer, dict) else None
        resource = template.load()["Resources"].get(ref or "", {})
        if resource.get("Type") != "AWS::Serverless::LayerVersion":
            return None
        return template.ROOT / resource["Properties"]["ContentUri"]

    def activate(self) -> None:
        """Put the layers on sys.path and the functions' variables in the environment."""
        for path in reversed(self.layer_paths):
            if str(path) not in sys.path:
                sys.path.insert(0, str(path))
        os.environ.update(self.environment)

    def get(self, name_or_arn: str) -> LocalFunction:
        name = name_or_arn.rsplit(":", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn
        return self.functions[name]
