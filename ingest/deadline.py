"""A total deadline for one HTTP request, enforced at the socket.

`httpx` timeouts apply to each read: a server that sends one byte a second never trips them.
Here every connect, read and write of a request waits at most until the request's deadline
(set per thread by `DeadlineBackend.until`), so the whole exchange (connect, headers, body)
ends by then, however slowly the server drips; the read then fails with `ReadTimeout` and the
caller, seeing the clock past the deadline, says so.
"""

from __future__ import annotations

import functools
import ssl
import threading
import time
import typing
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import httpcore
import httpx
from httpcore import NetworkBackend, NetworkStream

SocketOption = typing.Any


class DeadlineBackend(NetworkBackend):
    """httpcore's blocking network backend, with every wait capped by the thread's deadline."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()
        self._local = threading.local()

    @contextmanager
    def until(self, deadline: float) -> Iterator[None]:
        """Requests made in this thread inside the block end by `deadline` (monotonic)."""
        previous = getattr(self._local, "deadline", None)
        self._local.deadline = deadline
        try:
            yield
        finally:
            self._local.deadline = previous

    def cap(self, timeout: float | None, error: type[Exception]) -> float | None:
        """`timeout` shortened to what is left before the deadline (raises `error` when none)."""
        deadline: float | None = getattr(self._local, "deadline", None)
        if deadline is None:
            return timeout
        left = deadline - time.monotonic()
        if left <= 0:
            raise error("the request's deadline passed")
        return left if timeout is None else min(timeout, left)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> NetworkStream:
        stream = self._inner.connect_tcp(
            host,
            port,
            self.cap(timeout, httpcore.ConnectTimeout),
            local_address,
            socket_options,
        )
        return _DeadlineStream(stream, self)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> NetworkStream:  # pragma: no cover - archives are reached over TCP
        stream = self._inner.connect_unix_socket(
            path, self.cap(timeout, httpcore.ConnectTimeout), socket_options
        )
        return _DeadlineStream(stream, self)

    def sleep(self, seconds: float) -> None:  # pragma: no cover - httpcore retries are off
        self._inner.sleep(seconds)


class _DeadlineStream(NetworkStream):
    def __init__(self, inner: NetworkStream, backend: DeadlineBackend) -> None:
        self._inner = inner
        self._backend = backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._backend.cap(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._backend.cap(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> NetworkStream:
        capped = self._backend.cap(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, capped), self._backend
        )

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """httpx's default context (system CA bundle, hostname checks), made once per process:
    loading the CA bundle costs ~30 ms of CPU, and a scheduler makes a fetcher per job."""
    return httpx.create_ssl_context()


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's transport over a `DeadlineBackend` (no environment proxies: the archive is
    reached directly, so the origin checked is the one connected to)."""

    def __init__(self, backend: DeadlineBackend) -> None:
        super().__init__(verify=shared_ssl_context())
        self._pool = httpcore.ConnectionPool(
            ssl_context=shared_ssl_context(),
            max_connections=10,
            max_keepalive_connections=10,
            keepalive_expiry=5.0,
            network_backend=backend,
        )
