"""A tiny real HTTP server on 127.0.0.1 whose routes each test scripts.

Used wherever the code under test must speak real HTTP (fetching, platforms,
LLMs) without leaving the machine.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Response:
    status: int = 200
    body: bytes | Iterator[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Route = Callable[[RecordedRequest], Response]


class LoopbackServer:
    """Start with `with LoopbackServer() as srv:`; add routes with `srv.route(path, fn)`."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.fallback: Route | None = None
        self.requests: list[RecordedRequest] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                request = RecordedRequest(self.command, self.path, dict(self.headers), body)
                server.requests.append(request)
                route = server.routes.get(self.path.split("?")[0]) or server.fallback
                response = route(request) if route else Response(404, b"not found")
                if response.delay:
                    time.sleep(response.delay)
                self.send_response(response.status)
                headers = dict(response.headers)
                chunks = response.body if not isinstance(response.body, bytes) else None
                if chunks is None:
                    headers.setdefault("Content-Length", str(len(response.body)))  # type: ignore[arg-type]
                else:
                    headers.setdefault("Transfer-Encoding", "chunked")
                headers.setdefault("Content-Type", "text/plain")
                for key, value in headers.items():
                    self.send_header(key, value)
                try:
                    if chunks is None:  # the head and body in one write, as a real server
                        # sends a small answer: two writes cost the client a second wake-up
                        # per request that no platform would (`make bench`, replicas)
                        self._headers_buffer.append(b"\r\n" + response.body)  # type: ignore[attr-defined,operator]
                        self.flush_headers()
                    else:
                        self.end_headers()
                        for chunk in chunks:
                            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                            self.wfile.flush()
                        self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda _request, _address: None  # type: ignore[method-assign]  # clients that hang up are no news
        self.port = self.httpd.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def route(self, path: str, handler: Route | Response) -> None:
        self.routes[path] = handler if callable(handler) else (lambda _req, r=handler: r)

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
