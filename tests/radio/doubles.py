"""Local doubles of the online TTS services, speaking real HTTP on loopback."""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import lameenc
import numpy as np


def tone_mp3(seconds: float, rate: int = 24000, freq: float = 220.0) -> bytes:
    """A mono MP3 of a speech-like tone (stands in for a TTS voice)."""
    t = np.arange(int(seconds * rate)) / rate
    wave = 0.3 * np.sin(2 * np.pi * freq * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    enc = lameenc.Encoder()
    enc.set_bit_rate(32)
    enc.set_in_sample_rate(rate)
    enc.set_out_sample_rate(rate)
    enc.set_channels(1)
    enc.set_quality(7)
    return bytes(enc.encode((wave * 32767).astype(np.int16).tobytes()) + enc.flush())


class TtsDouble:
    """Answers like the real service; ``script`` holds status codes to send before 200s."""

    def __init__(self, script: list[int] | None = None) -> None:
        self.script = list(script or [])
        self.texts: list[str] = []
        self.statuses: list[int] = []
        self.headers: list[dict[str, str]] = []
        self.lock = threading.Lock()
        self.url = ""

    def next_status(self) -> int:
        with self.lock:
            status = self.script.pop(0) if self.script else 200
            self.statuses.append(status)
            return status


def _handler(double: TtsDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output clean
            return

        def _send(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            double.headers.append(dict(self.headers.items()))
            status = double.next_status()
            if self.path.endswith("/_/TranslateWebserverUi/data/batchexecute"):
                self._batchexecute(raw, status)
            elif self.path.endswith("/fpt"):
                self._fpt(raw, status)
            elif self.path.endswith("/zalo"):
                self._zalo(raw, status)
            else:
                self._send(404, b"not found", "text/plain")

        def do_GET(self) -> None:
            if self.path.startswith("/audio/"):
                chars = int(self.path.rsplit("/", 1)[1])
                self._send(200, tone_mp3(0.05 * chars), "audio/mpeg")
            else:
                self._send(404, b"", "text/plain")

        def _batchexecute(self, raw: bytes, status: int) -> None:
            if status != 200:
                self._send(status, b"error", "text/html")
                return
            form = urllib.parse.parse_qs(raw.decode("ascii"))
            rpc = json.loads(form["f.req"][0])
            text = json.loads(rpc[0][0][1])[0]
            double.texts.append(text)
            b64 = base64.b64encode(tone_mp3(0.05 * len(text))).decode("ascii")
            inner = json.dumps([b64])
            line = json.dumps(
                [["wrb.fr", "jQ1olc", inner, None, None, None, "generic"]], separators=(",", ":")
            )
            body = f")]}}'\n\n{len(line)}\n{line}\n25\n[[\"e\",4,null,null,{len(line)}]]\n"
            self._send(200, body.encode("ascii"), "application/json; charset=utf-8")

        def _fpt(self, raw: bytes, status: int) -> None:
            if status != 200:
                self._send(status, b"{}", "application/json")
                return
            text = raw.decode("utf-8")
            double.texts.append(text)
            link = f"{double.url}/audio/{len(text)}"
            body = {"async": link, "error": 0, "message": "ok", "request_id": "x"}
            self._send(200, json.dumps(body).encode(), "application/json")

        def _zalo(self, raw: bytes, status: int) -> None:
            if status != 200:
                self._send(status, b"{}", "application/json")
                return
            text = urllib.parse.parse_qs(raw.decode("ascii"))["input"][0]
            double.texts.append(text)
            body = {"error_code": 0, "data": {"url": f"{double.url}/audio/{len(text)}"}}
            self._send(200, json.dumps(body).encode(), "application/json")

    return Handler


@contextmanager
def serve(double: TtsDouble) -> Iterator[TtsDouble]:
    """Run the double on 127.0.0.1 (a free port) for the duration of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(double))
    double.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield double
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
