"""What starting, running or reading an export can fail with."""

from __future__ import annotations

from tollgate.errors import NotFound, TollgateError


class ExportNotFound(NotFound):
    pass


class ExportNotStarted(TollgateError):
    """The export is recorded as failed: its workflow could not start. Requesting it again is safe."""

    status = 503
    code = "try_again"


class ExportIncomplete(Exception):
    """A step found the multipart upload not as the workflow's state says (a part missing): the
    workflow retries the step, then records the export as failed."""


class ExportNotRunning(Exception):
    """The workflow found its export finished already (failed when its start was in doubt): it stops."""


__all__ = ["ExportIncomplete", "ExportNotFound", "ExportNotRunning", "ExportNotStarted"]
