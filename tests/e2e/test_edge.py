"""The HTTP edge through the local gateway, over real sockets: no request answers 500, API
Gateway's own answers keep their shape, and a 204 or a HEAD leaves a keep-alive connection clean."""

from __future__ import annotations

import http.client
import json
import socket
from urllib.parse import urlsplit

import pytest

from tests.support import assert_ledger_invariant


def _connection(stack) -> http.client.HTTPConnection:
    url = urlsplit(stack.url)
    return http.client.HTTPConnection(url.hostname, url.port, timeout=30)


def _send(conn, method, path, *, token=None, body=None, headers=None):
    hdrs = {**({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}
    conn.request(method, path, body=body, headers=hdrs)
    response = conn.getresponse()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


def _raw_exchange(stack, request: bytes) -> tuple[bytes, bytes]:
    """Send raw bytes (a request http.client would refuse to write) and read one JSON answer: (head, body)."""
    url = urlsplit(stack.url)
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(request)
        reply = b""
        while not reply.endswith(b"}"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    return head, body


def test_multipart_without_a_boundary(stack, tokens, catalog):
    conn = _connection(stack)
    multipart = {"Content-Type": "multipart/form-data"}
    status, _, body = _send(conn, "POST", "/v1/admin/api-keys", token=tokens["alice"], body='{"name":"x"}',
                            headers=multipart)
    assert (status, json.loads(body)["error"]["code"]) == (403, "forbidden")
    status, _, body = _send(conn, "POST", "/v1/admin/api-keys", token=tokens["admin"], body='{"name":"x"}',
                            headers=multipart)
    assert (status, json.loads(body)["error"]["code"]) == (415, "unsupported_media_type")
    status, _, body = _send(conn, "POST", "/v1/usage", token=tokens["alice"], body='{"feature":"ai-insight"}',
                            headers={**multipart, "Idempotency-Key": "edge-multipart"})
    assert (status, json.loads(body)["error"]["code"]) == (415, "unsupported_media_type")
    assert_ledger_invariant("user:alice")


@pytest.mark.parametrize(("name", "body"), [
    ("4,301-digit integer", '{"feature":"ai-insight","quantity":' + "9" * 4301 + "}"),
    ("1,000 levels deep", '{"feature":"ai-insight","metadata":{"a":' + "[" * 1000 + "]" * 1000 + "}}"),
], ids=["4301-digits", "1000-levels"])
def test_json_no_parser_should_take(stack, tokens, catalog, name, body):
    before = assert_ledger_invariant("user:alice")
    conn = _connection(stack)
    status, headers, raw = _send(conn, "POST", "/v1/usage", token=tokens["alice"], body=body,
                                 headers={"Content-Type": "application/json", "Idempotency-Key": f"edge-{name}"})
    assert status == 422, raw
    assert headers["content-type"] == "application/json"
    assert json.loads(raw)["error"]["code"] == "validation_error"
    assert assert_ledger_invariant("user:alice") == before


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "PATCH", "LINK", "BREW"])
@pytest.mark.parametrize("path", ["/v1/wallet", "/v1/usage", "/nowhere"])
def test_a_method_no_route_has_is_the_gateways_json_404(stack, tokens, method, path):
    conn = _connection(stack)
    status, headers, body = _send(conn, method, path, token=tokens["alice"])
    assert (status, body) == (404, b'{"message":"Not Found"}')
    assert headers["content-type"] == "application/json"
    # The connection is still usable: nothing stray was left on it.
    status, _, body = _send(conn, "GET", "/v1/health")
    assert (status, json.loads(body)["status"]) == (200, "ok")


def test_connect_is_a_json_404(stack):
    head, body = _raw_exchange(stack, b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 404"), head
    assert body == b'{"message":"Not Found"}'


def test_head_answers_404_with_no_body_on_a_keep_alive_connection(stack, tokens):
    conn = _connection(stack)
    status, headers, body = _send(conn, "HEAD", "/v1/wallet", token=tokens["alice"])
    assert (status, body) == (404, b"")
    assert headers["content-length"] == str(len(b'{"message":"Not Found"}'))
    status, _, body = _send(conn, "GET", "/v1/wallet", token=tokens["alice"])
    assert status == 200 and json.loads(body)["wallet_id"] == "user:alice"


def test_revoking_a_key_answers_204_with_no_body_and_the_connection_stays_clean(stack, tokens):
    conn = _connection(stack)
    status, _, body = _send(conn, "POST", "/v1/admin/api-keys", token=tokens["admin"], body='{"name":"edge"}',
                            headers={"Content-Type": "application/json"})
    assert status == 201
    key_id = json.loads(body)["key_id"]
    status, headers, body = _send(conn, "DELETE", f"/v1/admin/api-keys/{key_id}", token=tokens["admin"])
    assert (status, body) == (204, b"")
    assert "content-length" not in headers
    assert "content-type" not in headers
    # The next response on the same connection parses: no stray "null" was sent after the 204.
    for _ in range(3):
        status, _, body = _send(conn, "GET", "/v1/admin/api-keys", token=tokens["admin"])
        assert status == 200
        assert any(k["key_id"] == key_id and not k["active"] for k in json.loads(body)["data"])


def test_the_document_is_served_without_credentials_and_names_this_api_first(stack):
    conn = _connection(stack)
    status, _, body = _send(conn, "GET", "/v1/openapi.json")
    assert status == 200
    document = json.loads(body)
    assert document["servers"][0]["url"] == stack.url
    assert document["paths"]["/v1/openapi.json"]["get"]["security"] == []
    # Every operation that checks credentials documents API Gateway's own answer to a bad one.
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            statuses = operation["responses"]
            if operation["security"] == [{"bearerJwt": []}]:
                assert "GatewayMessage" in json.dumps(statuses["401"]), (method, path)
            elif operation["security"]:
                assert "GatewayMessage" in json.dumps(statuses["403"]), (method, path)


@pytest.mark.parametrize("framing", [
    b"Content-Length: ten\r\n\r\n",
    b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
])
def test_a_body_whose_length_is_not_a_number_is_a_400_not_a_dropped_connection(stack, framing):
    head, body = _raw_exchange(stack, b"POST /v1/usage HTTP/1.1\r\nHost: x\r\n" + framing)
    assert head.startswith(b"HTTP/1.1 400"), head
    assert body == b'{"message":"Bad Request"}'


def test_a_chunked_body_is_read(stack, tokens, catalog):
    conn = _connection(stack)
    body = iter([b'{"feature":', b'"ai-insight"}'])
    conn.request("POST", "/v1/usage", body=body, encode_chunked=True,
                 headers={"Authorization": f"Bearer {tokens['alice']}", "Content-Type": "application/json",
                          "Transfer-Encoding": "chunked", "Idempotency-Key": "edge-chunked"})
    response = conn.getresponse()
    assert response.status == 201, response.read()
    assert json.loads(response.read())["feature"] == "ai-insight"
    assert_ledger_invariant("user:alice")
