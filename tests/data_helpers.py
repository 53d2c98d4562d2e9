"""Helpers for the data tests: an HTTP server on 127.0.0.1 and dataset entries for test-made files."""

import contextlib
import dataclasses
import hashlib
import http.server
import threading
from pathlib import Path

from nnscratch.data.registry import RemoteFile


def sha256(path):
    return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; under /truncated/ it promises the whole file but sends half of it."""

    def do_GET(self):
        if self.path.startswith("/truncated/"):
            body = (Path(self.directory) / self.path[len("/truncated/"):]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(folder):
    """An HTTP server on 127.0.0.1 (a free port) serving `folder`; yields its base URL."""
    handler = lambda *a, **k: _Handler(*a, directory=str(folder), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def with_files(info, split_files):
    """A copy of `info` whose files are the test's own, pinned by their SHA-256."""
    files = {split: tuple(RemoteFile(Path(p).name, (sha256(p),)) for p in paths)
             for split, paths in split_files.items()}
    return dataclasses.replace(info, files=files, system_dirs=())
