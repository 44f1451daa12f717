"""Ledger exports: every wallet's entries of a range of days, as a CSV in S3 written by a workflow."""

from __future__ import annotations

from tollgate.exports.exceptions import ExportNotFound, ExportNotStarted
from tollgate.exports.service import get_export, list_exports, start_export

__all__ = ["ExportNotFound", "ExportNotStarted", "get_export", "list_exports", "start_export"]
