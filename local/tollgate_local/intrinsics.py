"""CloudFormation intrinsics resolved to local values, and the local account's ARNs."""

from __future__ import annotations

from typing import Any

from tollgate_local import template

ACCOUNT = "123456789012"
REGION = "us-east-1"


def function_arn(logical_name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_name}"


def queue_url(name: str) -> str:
    """A queue's URL as CloudFormation's Ref gives it (moto finds the queue by its path)."""
    return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"


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
        # As CloudFormation: a state machine's (or a queue's) Ref is its ARN (URL), anything else's its name.
        kind = template.load()["Resources"].get(name, {}).get("Type", "")
        if kind == "AWS::Serverless::StateMachine":
            return self._getatt(name, "Arn")
        if kind == "AWS::SQS::Queue":
            return queue_url(self.resource_names.get(name, name))
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
