"""Gateway secrets: the environment wins (local runs, tests); in AWS they come from SSM
Parameter Store (SecureString) or Secrets Manager, named by template parameters, cached.

``secret("STRIPE_SECRET_KEY")`` reads, in order: the env var itself; else the SSM
parameter named by ``STRIPE_SECRET_KEY_PARAM``; else the Secrets Manager secret named by
``STRIPE_SECRET_KEY_SECRET``. Values are cached for five minutes, never logged.
"""

from __future__ import annotations

import os

_MAX_AGE_S = 300


def secret(name: str) -> str | None:
    value = os.environ.get(name)
    if value:
        return value
    param = os.environ.get(f"{name}_PARAM")
    if param:
        from aws_lambda_powertools.utilities import parameters

        return str(parameters.get_parameter(param, decrypt=True, max_age=_MAX_AGE_S))
    secret_id = os.environ.get(f"{name}_SECRET")
    if secret_id:
        from aws_lambda_powertools.utilities import parameters

        return str(parameters.get_secret(secret_id, max_age=_MAX_AGE_S))
    return None
