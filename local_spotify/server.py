"""HTTP plumbing of the local Spotify server: a threaded stdlib server around
:class:`~local_spotify.app.LocalSpotifyApp`, and :class:`LocalSpotifyServer`, which
runs it in a background thread (for in-process tests)."""
from __future__ import annotations

import json
import socket
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from local_spotify import catalog
from local_spotify.app import LocalSpotifyApp, Request, Response
from local_spotify.control import LocalSpotifyAddresses


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: spotipy reuses connections
    server_version = "LocalSpotify/1.0"
    timeout = 30  # an idle keep-alive connection is closed after this many seconds
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle plus the client's
    # delayed ACK holds the body back ~40 ms on every keep-alive response.
    disable_nagle_algorithm = True

    def date_time_string(self, timestamp=None):
        """The Date header: the app's simulated instant, not this machine's clock."""
        return self.server.app.http_date()

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        host = self.headers.get("Host") or "%s:%s" % self.server.server_address[:2]
        request = Request(
            method=method,
            path=url.path,
            query=parse_qsl(url.query, keep_blank_values=True),
            headers=self.headers,
            body=body,
            base_url=f"http://{host}",
        )
        try:
            response = self.server.app.handle(request)
        except Exception as error:  # a bug must answer 500, not drop the connection
            self.log_error("unhandled error: %r", error)
            response = Response(500, {"error": {"status": 500, "message": f"local server bug: {error!r}"}})
        self._send(response)

    def _send(self, response: Response) -> None:
        if isinstance(response.body, bytes):  # sent as it is (a malformed answer, on purpose)
            data = response.body
        else:
            data = json.dumps(response.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        if self.server.verbose:
            super().log_message(format, *args)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive connections must not hold up a stop
    request_queue_size = 128  # a benchmark opens many connections at once

    def __init__(self, address, app: LocalSpotifyApp, verbose: bool = False):
        self.app = app
        self.verbose = verbose
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request, client_address):
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End every open connection (their handler threads then finish)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def make_http_server(host: str, port: int, app: LocalSpotifyApp, verbose: bool = False) -> _HTTPServer:
    return _HTTPServer((host, port), app, verbose)


class LocalSpotifyServer(LocalSpotifyAddresses):
    """The local Spotify server in a background thread of this process::

        with LocalSpotifyServer(extra_playlists=40) as server:
            sp = spotipy_client(server.api_url, server.token_url, "id", "secret")
            server.control.advance(1)

    ``port=0`` picks a free port. Other keyword arguments go to :class:`LocalSpotifyApp`;
    ``flips`` takes the flip settings of ``POST /_control/config`` (``flip_times`` etc.).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        start_date: date = catalog.FIRST_DATE,
        speed: float = 0.0,
        latency_ms: int = 0,
        extra_playlists: int = 0,
        development_mode: bool = True,
        client_id: str | None = None,
        client_secret: str | None = None,
        refresh_token: str | None = None,
        redirect_uris: tuple[str, ...] | None = None,
        entry_key: str = "item",
        missing_days: str = "outage",
        flips: dict | None = None,
        preload: bool = False,
        verbose: bool = False,
    ):
        self.host = host
        self.port = port
        self.preload = preload
        self.verbose = verbose
        self.app = LocalSpotifyApp(
            start_date=start_date,
            speed=speed,
            latency_ms=latency_ms,
            extra_playlists=extra_playlists,
            development_mode=development_mode,
            entry_key=entry_key,
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
            redirect_uris=redirect_uris,
            missing_days=missing_days,
            flips=flips,
        )
        self._http: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> "LocalSpotifyServer":
        if self.preload:
            self.app.preload()
        self._http = make_http_server(self.host, self.port, self.app, self.verbose)
        self.port = self._http.server_address[1]
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.1}, name="local-spotify", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.close_connections()
            self._http.server_close()
            self._thread.join(timeout=10)
            self._http = None

    def __enter__(self) -> "LocalSpotifyServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
