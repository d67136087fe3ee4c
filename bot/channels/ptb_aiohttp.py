"""A python-telegram-bot request backend on aiohttp's client.

PTB talks HTTP through :class:`telegram.request.BaseRequest`; its default implementation uses
httpx. PTB documents ``BaseRequest`` as the extension point for other HTTP libraries, and we
already run aiohttp for the web server, so this backend reuses it. Measured on the chat path
(bench/chat_bench.py) httpx's client cost more per sendMessage than our whole conversation core;
aiohttp's is a fraction of it.

The wire format: parameters as an ``application/json`` body, or PTB's ``multipart/form-data``
(JSON-encoded values) when files are attached. Errors map as in
``HTTPXRequest``: a timeout becomes :class:`telegram.error.TimedOut`, any other transport
failure :class:`telegram.error.NetworkError`; HTTP status codes are left to PTB.
"""

from __future__ import annotations

import functools
import json
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = ["AiohttpRequest"]

_dumps = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))


class AiohttpRequest(BaseRequest):
    """``BaseRequest`` over one :class:`aiohttp.ClientSession` with a bounded connection pool.

    Timeouts mean what they mean for ``HTTPXRequest``: ``connect`` to open a connection,
    ``read`` to wait for the answer, ``write`` to send the body, ``pool`` to wait for a free
    connection. aiohttp has no per-write timeout, so ``write`` bounds the whole request together
    with ``read``; for uploads (a 17-minute bulletin MP3 is about 16 MB) that makes
    ``media_write_timeout`` a bound on the whole upload, hence its larger default than httpx's
    per-write 20 s.
    """

    def __init__(self, connection_pool_size: int = 16, *, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0,
                 media_write_timeout: float | None = 120.0) -> None:
        self._pool_size = connection_pool_size
        self._read = read_timeout
        self._write = write_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._media_write = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str] = {}
        self._proxy_cache: dict[tuple[str, str], str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )
        # Like httpx (PTB's default), honour HTTPS_PROXY / HTTP_PROXY / NO_PROXY: many
        # public-sector servers reach the internet only through a proxy. Read once here and
        # cached per host: aiohttp's trust_env looks them (and ~/.netrc) up on every request,
        # which cost a third of the client's throughput.
        self._proxies = urllib.request.getproxies_environment()
        self._proxy_cache.clear()

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _proxy_for(self, url: str) -> str | None:
        if not self._proxies:
            return None
        target = urlsplit(url)
        key = (target.scheme, target.hostname or "")
        if key not in self._proxy_cache:
            bypass = urllib.request.proxy_bypass(key[1])  # NO_PROXY
            self._proxy_cache[key] = None if bypass else self._proxies.get(key[0])
        return self._proxy_cache[key]

    @staticmethod
    def _body(request_data: RequestData | None) -> Any:
        if request_data is None:
            return None
        if not request_data.contains_files:
            # A JSON body (the Bot API takes one for every method but uploads): url-encoding
            # Vietnamese text byte by byte cost more CPU than the rest of a sendMessage.
            params = request_data.parameters
            return aiohttp.JsonPayload(params, dumps=_dumps) if params else None
        fields = request_data.json_parameters
        form = aiohttp.FormData()
        for name, value in fields.items():
            form.add_field(name, value)
        for name, (filename, content, mimetype) in request_data.multipart_data.items():
            form.add_field(name, content, filename=filename, content_type=mimetype)
        return form

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data is not None and request_data.contains_files
        read = self._read if isinstance(read_timeout, DefaultValue) else read_timeout
        write = (self._media_write if files else self._write) \
            if isinstance(write_timeout, DefaultValue) else write_timeout
        connect = self._connect if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = self._pool if isinstance(pool_timeout, DefaultValue) else pool_timeout
        # aiohttp's `connect` covers waiting for a pooled connection plus opening a new one.
        timeout = aiohttp.ClientTimeout(
            total=None if read is None or write is None else read + write,
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect, sock_read=read)
        try:
            async with self._session.request(method, url, data=self._body(request_data),
                                             timeout=timeout, proxy=self._proxy_for(url)) as resp:
                return resp.status, await resp.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc
