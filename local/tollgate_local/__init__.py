"""Local tooling: run Tollgate's AWS pieces on this machine, driven by template.yaml.

Nothing here is deployed. Tests, benchmarks and ``make dev`` use it to build tables
from the template's own key schema (so they cannot drift from what deploys), and to
start DynamoDB Local or a moto server on 127.0.0.1.
"""

from __future__ import annotations
