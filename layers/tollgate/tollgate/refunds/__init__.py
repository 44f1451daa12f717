"""Refunds of purchases: eligibility, requests and approval, and the refund workflow's steps."""

from __future__ import annotations

from tollgate.refunds import workflow
from tollgate.refunds.eligibility import Eligibility, assess
from tollgate.refunds.service import decide, eligibility, get_refund, list_refunds, request_refund

__all__ = ["Eligibility", "assess", "decide", "eligibility", "get_refund", "list_refunds", "request_refund",
           "workflow"]
