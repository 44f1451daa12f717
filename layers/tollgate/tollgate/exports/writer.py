"""The export bucket: a CSV written as one S3 multipart upload, a part at a time, and read through presigned URLs.

S3 takes a multipart upload's parts at :data:`MIN_PART_BYTES` (5 MiB) or more, except the last, and at
most :data:`MAX_PARTS` of them. :class:`CsvParts` gathers encoded rows in one buffer and sends it as the
next part each time it holds ``part_bytes``: memory holds one part (and, while it is sent, its copy),
whatever the number of rows. The bucket encrypts every object (SSE-S3, asked for on each upload too) and
expires it after 7 days (the template's lifecycle rule, which also aborts an upload left incomplete).

The S3 client is the process's one (``tollgate.data.s3``). Locally, ``AWS_ENDPOINT_URL`` points it at
moto on 127.0.0.1, and the presigned URLs it signs point there too (path-style, as botocore addresses an
IP endpoint).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from typing import Any

from tollgate.data.s3 import client
from tollgate.data.s3 import error_code as _error_code

MiB = 1024 * 1024
MIN_PART_BYTES = 5 * MiB
MAX_PARTS = 10_000
URL_SECONDS = 15 * 60
CONTENT_TYPE = "text/csv; charset=utf-8"


class ExportTooLarge(Exception):
    """More parts than S3 allows in one upload (:data:`MAX_PARTS` parts of the part size)."""


def bucket() -> str:
    name = os.environ.get("EXPORT_BUCKET")
    if not name:
        raise RuntimeError("EXPORT_BUCKET is not set")
    return name


def create_upload(key: str, filename: str) -> str:
    """Start the CSV's multipart upload; its upload id."""
    answer = client().create_multipart_upload(
        Bucket=bucket(), Key=key, ContentType=CONTENT_TYPE, ServerSideEncryption="AES256",
        ContentDisposition=f'attachment; filename="{filename}"')
    return str(answer["UploadId"])


def upload_part(key: str, upload_id: str, number: int, body: bytes) -> None:
    if number > MAX_PARTS:
        raise ExportTooLarge(f"an export takes at most {MAX_PARTS} parts: narrow the range or the type")
    client().upload_part(Bucket=bucket(), Key=key, UploadId=upload_id, PartNumber=number, Body=body)


def uploaded_parts(key: str, upload_id: str) -> list[dict[str, Any]]:
    """The upload's parts so far, by number: ``[{"PartNumber", "ETag"}]`` (S3 lists 1,000 a page)."""
    parts: list[dict[str, Any]] = []
    marker = 0
    while True:
        page = client().list_parts(Bucket=bucket(), Key=key, UploadId=upload_id, PartNumberMarker=marker)
        parts += [{"PartNumber": int(p["PartNumber"]), "ETag": p["ETag"]} for p in page.get("Parts") or []]
        if not page.get("IsTruncated"):
            return parts
        marker = int(page["NextPartNumberMarker"])


def complete(key: str, upload_id: str, parts: list[dict[str, Any]]) -> None:
    client().complete_multipart_upload(Bucket=bucket(), Key=key, UploadId=upload_id,
                                       MultipartUpload={"Parts": parts})


def abort(key: str, upload_id: str) -> None:
    """Abort the upload and free its parts (already aborted or completed: nothing to do)."""
    try:
        client().abort_multipart_upload(Bucket=bucket(), Key=key, UploadId=upload_id)
    except Exception as exc:
        if _error_code(exc) != "NoSuchUpload":
            raise


def is_upload_gone(exc: Exception) -> bool:
    return _error_code(exc) == "NoSuchUpload"


def exists(key: str) -> bool:
    try:
        client().head_object(Bucket=bucket(), Key=key)
    except Exception as exc:
        if _error_code(exc) in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def presigned_get(key: str) -> str:
    """A GET of the object, signed for :data:`URL_SECONDS` by this function's credentials."""
    return str(client().generate_presigned_url("get_object", Params={"Bucket": bucket(), "Key": key},
                                               ExpiresIn=URL_SECONDS))


class CsvParts:
    """CSV rows (RFC 4180: CRLF line ends, quoted as needed, UTF-8) into a multipart upload, one part at a time.

    :meth:`row` adds a row and says whether the buffer holds a part's worth; :meth:`send` sends it as the
    next part (the caller decides when: a part must be at least :data:`MIN_PART_BYTES` unless it is the last).
    """

    def __init__(self, key: str, upload_id: str, *, next_part: int, part_bytes: int) -> None:
        self.key = key
        self.upload_id = upload_id
        self.next_part = next_part
        self.part_bytes = part_bytes
        self.sent_bytes = 0
        self._buffer = bytearray()
        self._csv = csv.writer(self, lineterminator="\r\n")

    def write(self, text: str) -> int:
        """csv.writer's file: one formatted row at a time."""
        self._buffer += text.encode()
        return len(text)

    def row(self, values: Sequence[str]) -> bool:
        self._csv.writerow(values)
        return len(self._buffer) >= self.part_bytes

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def send(self) -> None:
        body, self._buffer = bytes(self._buffer), bytearray()
        upload_part(self.key, self.upload_id, self.next_part, body)
        self.next_part += 1
        self.sent_bytes += len(body)


__all__ = ["MIN_PART_BYTES", "URL_SECONDS", "CsvParts", "ExportTooLarge", "abort", "bucket", "client", "complete",
           "create_upload", "exists", "is_upload_gone", "presigned_get", "upload_part", "uploaded_parts"]
