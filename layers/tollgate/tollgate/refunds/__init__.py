"""Refunds of purchases: eligibility, requests and approval (``service.py``); the refund
workflow's steps are ``workflow.py``, imported by the function that runs them."""

from __future__ import annotations

from tollgate.refunds.eligibility import Eligibility, assess
from tollgate.refunds.service import decide, eligibility, get_refund, list_refunds, request_refund

__all__ = ["Eligibility", "assess", "decide", "eligibility", "get_refund", "list_refunds", "request_refund"]
