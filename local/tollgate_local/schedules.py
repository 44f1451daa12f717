"""Schedule / ScheduleV2 event sources from template.yaml, fired on their schedules.

Supports ``rate(N minute|minutes|hour|hours|day|days)`` and six-field ``cron(...)``
(minutes hours day-of-month month day-of-week year; ``*``, ``?``, lists, ranges, steps).
"""

from __future__ import annotations

import traceback
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tollgate_local import template
from tollgate_local.background import Background
from tollgate_local.functions import ACCOUNT, REGION, FunctionError, FunctionRegistry

_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
_DOW = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}


@dataclass
class Schedule:
    function: str
    event_name: str
    expression: str
    input: Any = None

    def next_after(self, now: datetime) -> datetime:
        expr = self.expression.strip()
        if expr.startswith("rate("):
            amount, unit = expr[5:-1].split()
            return now + timedelta(seconds=int(amount) * _UNITS[unit])
        if expr.startswith("cron("):
            return _next_cron(expr[5:-1].split(), now)
        raise ValueError(f"unsupported schedule {expr}")


def schedules() -> list[Schedule]:
    found = []
    for fname, fn in template.resources("AWS::Serverless::Function").items():
        for ename, event in (fn["Properties"].get("Events") or {}).items():
            if event.get("Type") in ("Schedule", "ScheduleV2"):
                props = event["Properties"]
                found.append(Schedule(fname, ename, props.get("Schedule") or props["ScheduleExpression"],
                                      props.get("Input")))
    return found


def scheduled_event(schedule: Schedule | None, function: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{function}-{schedule.event_name if schedule else 'manual'}"],
        "detail": {},
    }


def _field_values(spec: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int] | None:
    if spec in ("*", "?"):
        return None
    values: set[int] = set()
    for item in spec.split(","):
        step, part = 1, item
        if "/" in item:
            part, step_text = item.split("/")
            step = int(step_text)
        if part in ("*", ""):
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-")
            start, end = (names or {}).get(a, None) or int(a), (names or {}).get(b, None) or int(b)
        else:
            start = (names or {}).get(part, None) or int(part)
            end = high if "/" in spec else start
        values.update(range(start, end + 1, step))
    return values


def _next_cron(fields: list[str], now: datetime) -> datetime:
    minutes, hours, dom, month, dow, year = fields
    sets = (
        _field_values(minutes, 0, 59), _field_values(hours, 0, 23), _field_values(dom, 1, 31),
        _field_values(month, 1, 12), _field_values(dow, 1, 7, _DOW), _field_values(year, 1970, 2199),
    )
    candidate = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
    for _ in range(366 * 24 * 60):
        aws_dow = candidate.isoweekday() % 7 + 1  # AWS: 1 = Sunday
        checks = (candidate.minute, candidate.hour, candidate.day, candidate.month, aws_dow, candidate.year)
        if all(s is None or v in s for s, v in zip(sets, checks, strict=True)):
            return candidate
        candidate += timedelta(minutes=1)
    raise ValueError(f"cron({' '.join(fields)}) never fires within a year")


class Scheduler(Background):
    name = "schedules"

    def __init__(self, registry: FunctionRegistry) -> None:
        self.registry = registry
        self.schedules = schedules()
        super().__init__()

    def has_work(self) -> bool:
        return bool(self.schedules)

    def run_now(self, function: str) -> Any:
        schedule = next((s for s in self.schedules if s.function == function), None)
        fn = self.registry.get(function)  # KeyError: unknown function
        return fn.invoke(schedule.input if schedule and schedule.input else scheduled_event(schedule, function))

    def _run(self) -> None:
        now = datetime.now(UTC)
        due = {id(s): s.next_after(now) for s in self.schedules}
        while not self._stop.is_set():
            now = datetime.now(UTC)
            for schedule in self.schedules:
                if due[id(schedule)] <= now:
                    try:
                        print(f"[schedule] {schedule.function}: {self.run_now(schedule.function)}")
                    except FunctionError as exc:  # a failing job must not stop the others
                        print(f"[schedule] {exc}")  # its container printed the traceback
                    except Exception:  # noqa: BLE001 - nor may a failure of this process's
                        traceback.print_exc()
                    due[id(schedule)] = schedule.next_after(now)
            self._stop.wait(1.0)
