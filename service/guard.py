"""The HTTP protocol of `territoires serve`: uvicorn's httptools protocol with what uvicorn lacks against slow and
oversized clients, applied to the raw bytes before the parser sees them.

- a request line longer than ``TERRITOIRES_MAX_URL_BYTES`` is answered 414, header lines longer in all than
  ``TERRITOIRES_MAX_HEADER_BYTES`` 431, as soon as that many bytes have arrived (uvicorn with httptools accepts any
  header, and piles up a long URL a piece at a time: a 64 MB URL held the event loop for 7 s);
- a connection must send its whole request head within ``TERRITOIRES_HEADER_TIMEOUT`` seconds (408, closed);
- at most ``TERRITOIRES_MAX_WAITING`` connections per worker may be in the middle of sending their head: one more
  closes the one that has waited longest, so slow clients cannot hold every file descriptor (with the usual soft
  limit of 1,024 open files, 1,250 slow connections made every new request fail);
- beyond ``TERRITOIRES_MAX_CONNECTIONS`` open connections, or as many requests in progress, a request is answered
  503 with Retry-After (in place of uvicorn's ``limit_concurrency``, whose answer is English and says not when).

Idle keep-alive connections are closed after ``TERRITOIRES_KEEP_ALIVE_TIMEOUT`` seconds by uvicorn itself. Bodies
are not limited here (uploads bound their own). Every answer is short French text, then the connection is closed.
"""
from __future__ import annotations

import asyncio
import http

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service.limits import Limits

#: Connections sending their request head, oldest first (one event loop per worker process).
_waiting: dict[GuardedHttpToolsProtocol, None] = {}


def refusal(status: int, message: str, retry_after: int | None = None) -> bytes:
    """A complete HTTP/1.1 answer that closes the connection."""
    body = message.encode()
    head = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}", "content-type: text/plain; charset=utf-8",
            f"content-length: {len(body)}", "connection: close"]
    if retry_after is not None:
        head.append(f"retry-after: {retry_after}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with limits on the request head, a head timeout and a connection limit."""

    limits: Limits | None = None  # read from the environment by the first connection of a worker

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if GuardedHttpToolsProtocol.limits is None:
            GuardedHttpToolsProtocol.limits = Limits()
        self.guard = GuardedHttpToolsProtocol.limits
        self._refused = False
        self._head_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._await_head()

    def _await_head(self) -> None:
        """A request head is expected: start its clock and count its bytes; make room among the waiting."""
        self._line_bytes = self._head_bytes = 0
        self._line_done, self._tail = False, b""
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self.guard.header_timeout, self._head_too_slow)
        _waiting[self] = None
        while len(_waiting) > self.guard.max_waiting:
            oldest = next(iter(_waiting))
            oldest._stop_waiting()
            oldest.transport.close()

    def _stop_waiting(self) -> None:
        _waiting.pop(self, None)
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _refuse(self, status: int, message: str, retry_after: int | None = None) -> None:
        self._refused = True
        self._stop_waiting()
        if not self.transport.is_closing():
            self.transport.write(refusal(status, message, retry_after))
            self.transport.close()

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._line_bytes or self._head_bytes:
            self._refuse(408, f"Requête trop lente : l'en-tête doit arriver en entier en {self.guard.header_timeout:g} secondes.")
        else:  # nothing was asked: close quietly
            self._stop_waiting()
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self in _waiting:
            window = self._tail + data  # the head ends at an empty line, maybe across two reads
            end = window.find(b"\r\n\r\n")
            head = data if end < 0 else data[:max(0, end + 4 - len(self._tail))]  # what follows is a body
            self._tail = window[-3:]
            if not self._line_done:
                eol = head.find(b"\n")
                self._line_bytes += len(head) if eol < 0 else eol
                self._line_done = eol >= 0
                if self._line_bytes > self.guard.max_url_bytes:
                    return self._refuse(414, f"Adresse trop longue : au plus {self.guard.max_url_bytes} octets.")
            self._head_bytes += len(head)
            if self._head_bytes - self._line_bytes > self.guard.max_header_bytes:
                return self._refuse(431, f"En-têtes trop longs : au plus {self.guard.max_header_bytes} octets en tout.")
        super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        if not self._refused:
            self._refused = True
            self._stop_waiting()
            super().send_400_response(msg)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self not in _waiting:
            self._await_head()

    def on_header(self, name: bytes, value: bytes) -> None:
        self._line_done = True
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._stop_waiting()
        if len(self.connections) > self.guard.max_connections or len(self.tasks) >= self.guard.max_connections:
            return self._refuse(503, "Service saturé : trop de connexions sur ce processus. Réessayez dans un instant.", 1)
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)
