"""A loopback HTTP server (127.0.0.1, in a thread) that serves checkpoint files and misbehaves on request.

Each served file is a :class:`ServedFile`: its bytes, whether ``Content-Length`` is sent, how many of the first
requests are cut short (half the bytes, then the connection closes although ``Content-Length`` announced them
all) and a pause between chunks (to keep a download running while other processes start theirs). The server
records every request path and when each response started and ended.
"""
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Tuple

CHUNK = 64 * 1024


@dataclass
class ServedFile:
    payload: bytes
    send_length: bool = True
    cut_short_requests: int = 0
    pause_per_chunk_s: float = 0.0


class _Handler(BaseHTTPRequestHandler):
    server: '_Server'

    def do_GET(self):  # noqa: N802 (http.server's name)
        state = self.server.state
        with state.lock:
            state.requests.append(self.path)
            served = state.files.get(self.path)
            number = state.requests.count(self.path)
        if served is None:
            self.send_error(404)
            return
        started = time.monotonic()
        self.send_response(200)
        self.send_header('Content-Type', 'application/octet-stream')
        if served.send_length:
            self.send_header('Content-Length', str(len(served.payload)))
        self.end_headers()
        payload = served.payload
        if number <= served.cut_short_requests:
            payload = payload[:len(payload) // 2]
        for start in range(0, len(payload), CHUNK):
            self.wfile.write(payload[start:start + CHUNK])
            self.wfile.flush()
            time.sleep(served.pause_per_chunk_s)
        with state.lock:
            state.responses.append((self.path, started, time.monotonic()))
        self.close_connection = True

    def log_message(self, format, *args):  # noqa: A002 (http.server's signature)
        pass


class _State:
    def __init__(self):
        self.lock = threading.Lock()
        self.files: Dict[str, ServedFile] = {}
        self.requests: List[str] = []
        self.responses: List[Tuple[str, float, float]] = []


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: _State


class LoopbackServer:
    """Serve :class:`ServedFile` s at ``http://127.0.0.1:<port>/<name>`` until :meth:`close`."""

    def __init__(self):
        self._server = _Server(('127.0.0.1', 0), _Handler)
        self._server.state = _State()
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs=dict(poll_interval=0.05),
                                        daemon=True)
        self._thread.start()

    def serve(self, name: str, served: ServedFile) -> str:
        """Serve ``served`` under ``/zoo/<name>``; return its URL."""
        self._server.state.files[f'/zoo/{name}'] = served
        return f'http://127.0.0.1:{self._server.server_address[1]}/zoo/{name}'

    def requests_for(self, url: str) -> int:
        path = '/' + url.split('/', 3)[3]
        with self._server.state.lock:
            return self._server.state.requests.count(path)

    @property
    def responses(self) -> List[Tuple[str, float, float]]:
        with self._server.state.lock:
            return list(self._server.state.responses)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
