"""Refunds of purchases: eligibility, requests and approval (``service.py``); the refund
workflow's steps are ``workflow.py``, imported by the function that runs them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tollgate import lazy

if TYPE_CHECKING:
    from tollgate.refunds.eligibility import Eligibility, assess
    from tollgate.refunds.service import decide, get_refund, list_refunds, purchase_eligibility, request_refund

__getattr__ = lazy.exports(__name__, {
    "eligibility": ("Eligibility", "assess"),
    "service": ("decide", "get_refund", "list_refunds", "purchase_eligibility", "request_refund"),
})

__all__ = ["Eligibility", "assess", "decide", "get_refund", "list_refunds", "purchase_eligibility", "request_refund"]
