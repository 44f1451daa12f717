"""ExportsFunction: ledger exports to CSV (admin role): request one, then read its status and a download URL.

``POST /v1/admin/exports`` records the export and starts its workflow (``statemachines/export.asl.json``),
answering 202 at once; ``GET /v1/admin/exports`` lists them newest first; ``GET
/v1/admin/exports/{export_id}`` reads one back, with a presigned URL of the CSV (valid 15 minutes) once
it has completed. Every route needs the admin role: the edge checks it (``required_role``) before any
input is read.
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate import exports, http
from tollgate.exports.schemas import ExportIn, ExportList, ExportOut
from tollgate.http.params import Cursor, IdPath, Limit
from tollgate.principal import ADMIN

logger = Logger()
app = http.create_app(required_role=ADMIN)


@app.post("/v1/admin/exports", summary="Export a range of days' ledger entries (every wallet's) to a CSV; "
          "read the export for its status and, once completed, a download URL", tags=["exports"],
          responses=http.responses(202, ExportOut, 503))
def post_export(body: ExportIn) -> Response[ExportOut]:
    started = exports.start_export(http.principal(app), body)
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=started)


@app.get("/v1/admin/exports", summary="Every export still recorded (8 days after it was written), newest first; "
         "a completed one with a fresh download URL", tags=["exports"], responses=http.responses(200, ExportList))
def list_exports(limit: Limit = 25, cursor: Cursor = None) -> ExportList:
    return exports.list_exports(http.principal(app), limit=limit, cursor=cursor)


@app.get("/v1/admin/exports/<export_id>", summary="One export: its status, counts and, once completed, a "
         "presigned URL of the CSV (valid 15 minutes)", tags=["exports"], responses=http.responses(200, ExportOut, 404))
def get_export(export_id: IdPath) -> ExportOut:
    return exports.get_export(http.principal(app), export_id)


@logger.inject_lambda_context  # correlation_id: tollgate.http.resolve
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return http.resolve(app, event, context)


coldstart.end()
