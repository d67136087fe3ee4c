"""Bad input never gets a 500: every endpoint that takes a body answers 4xx with one warning
line and no traceback, and stores nothing (issue 13, "Never a 500 for bad input")."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.channels.body import MAX_BODY, MAX_DEPTH, BadBody, check_depth, parse_json
from tests.bot.endpoints import CHAT, PATHS, Endpoints, LogLines, serve

TELEGRAM, ZALO_BOT, ZALO_OA = PATHS[1:]
TG_CHAT = 5551234


@pytest.fixture(scope="module")
def ep(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoints]:
    yield from serve(sqlite_template, tmp_path_factory.mktemp("bad-input"))


def _stamp() -> str:
    return str(int(time.time() * 1000))


def _body(path: str, inner: bytes, stamp: str = "") -> bytes:
    """A body of the endpoint's shape with ``inner`` (raw JSON text) as one of its values."""
    if path == CHAT:
        return b'{"session": "s1", "text": "xin chao", "x": ' + inner + b"}"
    if path == ZALO_OA:
        return (b'{"app_id": "4318842736473265432", "event_name": "user_send_text", '
                b'"timestamp": "' + stamp.encode() + b'", "x": ' + inner + b"}")
    return b'{"update_id": 1, "x": ' + inner + b"}"


def _headers(ep: Endpoints, path: str, raw: bytes, stamp: str) -> dict[str, str]:
    return ep.oa_signature(raw, stamp) if path == ZALO_OA else ep.headers(path)


def _refused(ep: Endpoints, path: str, raw: bytes, status: int,
             headers: dict[str, str] | None = None, *, chunked: bool = False) -> None:
    before = ep.stored()
    ep.logs.take()
    got, body = ep.post(path, [raw[i:i + 8192] for i in range(0, len(raw), 8192)]
                        if chunked else raw, headers, chunked=chunked)
    ep.settle()
    records = ep.logs.take()
    assert got == status, (path, got, body[:200])
    assert isinstance(json.loads(body).get("error"), str)
    warnings = LogLines.warnings(records)
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert LogLines.tracebacks(records) == []
    assert ep.stored() == before, "a refused request stored something"


@pytest.mark.parametrize("path", PATHS)
def test_a_body_over_64_kib_gets_413_by_its_length(ep: Endpoints, path: str) -> None:
    stamp = _stamp()
    raw = _body(path, json.dumps("a" * (MAX_BODY + 10)).encode(), stamp)
    _refused(ep, path, raw, 413, _headers(ep, path, raw, stamp))


@pytest.mark.parametrize("path", PATHS)
def test_a_chunked_body_over_64_kib_gets_413_after_reading_at_most_64_kib(
        ep: Endpoints, path: str) -> None:
    stamp = _stamp()
    raw = _body(path, json.dumps("a" * (MAX_BODY + 10)).encode(), stamp)
    _refused(ep, path, raw, 413, _headers(ep, path, raw, stamp), chunked=True)


@pytest.mark.parametrize("path", PATHS)
def test_json_nested_deeper_than_32_gets_400(ep: Endpoints, path: str) -> None:
    stamp = _stamp()
    for inner in (b"[" * 40 + b"]" * 40, b'{"a":' * 40 + b"1" + b"}" * 40, b"[" * 20000):
        raw = _body(path, inner, stamp)
        _refused(ep, path, raw, 400, _headers(ep, path, raw, stamp))


@pytest.mark.parametrize("path", PATHS)
def test_a_body_that_is_not_utf8_gets_400(ep: Endpoints, path: str) -> None:
    stamp = _stamp()
    raw = _body(path, b'"caf\xe9 \xff\xfe"', stamp)
    _refused(ep, path, raw, 400, _headers(ep, path, raw, stamp))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("inner", [b'"\\ud800"', b'"a\\udfffb"', b'{"\\ud83d": 1}',
                                   b'"nul \\u0000"', b'"raw nul \x00"'],
                         ids=["lone-high", "lone-low", "key", "nul-escape", "nul-byte"])
def test_lone_surrogates_and_nul_get_400(ep: Endpoints, path: str, inner: bytes) -> None:
    stamp = _stamp()
    raw = _body(path, inner, stamp)
    _refused(ep, path, raw, 400, _headers(ep, path, raw, stamp))


@pytest.mark.parametrize("path", PATHS)
def test_a_body_that_is_not_json_gets_400(ep: Endpoints, path: str) -> None:
    stamp = _stamp()
    signed = b'{"timestamp": "' + stamp.encode() + b'", '
    # A Zalo OA body is signed over a timestamp it shows; without one it is 403 (below).
    for raw in ([signed + b"oops", signed + b"1" * 5000] if path == ZALO_OA
                else [b"{oops", b"", b"1" * 5000, signed + b"oops"]):
        _refused(ep, path, raw, 400, _headers(ep, path, raw, stamp))


@pytest.mark.parametrize("path", PATHS)
def test_json_that_is_not_an_object_gets_400(ep: Endpoints, path: str) -> None:
    for raw in (b"[]", b'"text"', b"null", b"12"):
        stamp = _stamp()
        if path == ZALO_OA:  # a signed array
            raw = b'[{"timestamp": "' + stamp.encode() + b'"}]'
        _refused(ep, path, raw, 400, _headers(ep, path, raw, stamp))


@pytest.mark.parametrize("body", [
    {"session": "s1", "text": 5}, {"session": ["s1"], "text": "hi"},
    {"session": "s1", "button": {"p": 1}}, {"session": "s1", "text": "hi", "button": "m"},
    {"session": "", "text": "hi"}, {"session": "s" * 129, "text": "hi"}, {"text": "hi"},
    {"session": "s1", "text": None}, {"session": "s1", "button": "x" * 65},
    {"session": 7, "text": True}])
def test_chat_fields_of_the_wrong_type_get_400(ep: Endpoints, body: dict[str, object]) -> None:
    _refused(ep, CHAT, json.dumps(body).encode(), 400)


@pytest.mark.parametrize("update", [
    {"update_id": "1", "message": {}}, {"update_id": True}, {"update_id": None},
    {"message": {"text": "hi"}}, {"update_id": 7, "message": 5},
    {"update_id": 8, "message": {"message_id": "x", "date": [], "chat": 3}},
    {"update_id": 9, "callback_query": "tap"}])
def test_a_malformed_telegram_update_gets_400(ep: Endpoints, update: dict[str, object]) -> None:
    _refused(ep, TELEGRAM, json.dumps(update).encode(), 400, ep.headers(TELEGRAM))


def test_a_telegram_text_that_is_a_number_is_no_text(ep: Endpoints) -> None:
    update = ep.telegram.message_update(TG_CHAT, "x")
    update["message"]["text"] = 12345
    ep.logs.take()
    status, _ = ep.post(TELEGRAM, json.dumps(update).encode(), ep.headers(TELEGRAM))
    assert status == 200
    deadline = time.monotonic() + 10
    while not ep.telegram.messages_to(TG_CHAT) and time.monotonic() < deadline:
        time.sleep(0.02)
    ep.settle()
    records = ep.logs.take()
    assert LogLines.tracebacks(records) == []
    assert LogLines.warnings(records) == []
    [reply] = ep.telegram.messages_to(TG_CHAT)  # asked to write in words, not answered "12345"
    assert "12345" not in reply["text"]


def test_zalo_oa_checks_the_signature_before_parsing(ep: Endpoints) -> None:
    stamp = _stamp()
    for raw in (_body(ZALO_OA, b"[" * 20000, stamp), b"{oops",
                _body(ZALO_OA, b'"\\ud800"', stamp)):
        _refused(ep, ZALO_OA, raw, 403, {"X-ZEvent-Signature": "mac=" + "0" * 64})
        _refused(ep, ZALO_OA, raw, 403, {})
    # Signed with another stamp than the body's, or for another app: still refused.
    raw = _body(ZALO_OA, b"1", stamp)
    _refused(ep, ZALO_OA, raw, 403, ep.oa_signature(raw, "1700000000000"))


@pytest.mark.parametrize("path", PATHS[1:])
def test_webhooks_refuse_a_wrong_secret_with_403(ep: Endpoints, path: str) -> None:
    raw = _body(path, b"[" * 20000, _stamp())
    headers = {"X-Telegram-Bot-Api-Secret-Token": "nope", "X-Bot-Api-Secret-Token": "nope",
               "X-ZEvent-Signature": "mac=nope"}
    _refused(ep, path, raw, 403, headers)


def test_depth_32_is_accepted(ep: Endpoints) -> None:
    inner = b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1)  # 32 with the body's own object
    status, body = ep.post(CHAT, _body(CHAT, inner))
    assert status == 200, body


def test_the_depth_scan_ignores_brackets_in_strings() -> None:
    check_depth(json.dumps({"t": "[" * 100 + '\\"{' * 50}).encode())
    with pytest.raises(BadBody):
        check_depth(b"[" * (MAX_DEPTH + 1))
    assert parse_json('{"t": "😀 \\ud83d\\ude00"}'.encode()) == {"t": "😀 😀"}  # pairs are fine
