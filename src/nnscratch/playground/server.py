"""The playground's web server (Starlette + uvicorn): the page, its static files, CSV uploads and
one WebSocket per open page, over which the model trains and streams frames.

Protocol on /ws (JSON text messages). The page sends {"cmd": "config", "settings": {hash key:
string}, "upload": id or null}, then {"cmd": "play" | "pause" | "step" | "reset"}. The server
answers "config" with {"type": "data", ...} (the points) and a frame; while playing it sends
{"type": "frame", ...} about every FRAME_SECONDS; any refusal is {"type": "error", "message"}.

Safety: every HTTP body is capped (MAX_BODY_BYTES, MAX_CSV_BYTES for /api/csv), every WebSocket
message too (MAX_MESSAGE_BYTES); static files come from a fixed list read out of the package (a
name not on it is a 404, so no path can climb out); WebSocket connections from another origin
are refused. Served on this machine only (the default; launch.allowed_hosts), it answers only
requests addressed to 127.0.0.1, localhost, [::1] or its own address: a web page whose own name
was re-pointed at 127.0.0.1 (DNS rebinding) gets 421, not the playground.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import threading
from collections import OrderedDict
from importlib import resources
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from .datasets import MAX_CSV_ROWS, CSVError, parse_csv
from .launch import page_url
from .session import Session
from .settings import Settings, schema

LOG = logging.getLogger("nnscratch.playground")
MAX_BODY_BYTES = 16 * 1024
MAX_CSV_BYTES = 1024 * 1024  # 10,000 rows of three numbers fit easily
MAX_MESSAGE_BYTES = 16 * 1024
MAX_UPLOADS = 8  # uploads kept (the newest), for the pages that chose them
FRAME_SECONDS = 0.04  # train this long between two frames: about 20 frames a second
STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".css": "text/css; charset=utf-8", ".png": "image/png"}


def static_files():
    """{file name: (bytes, media type)} for every file shipped in nnscratch/playground/static."""
    folder = resources.files(__package__) / "static"
    files = {}
    for entry in folder.iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1]
        if entry.is_file() and suffix in STATIC_TYPES:
            files[entry.name] = (entry.read_bytes(), STATIC_TYPES[suffix])
    return files


class BodyLimit:
    """ASGI middleware: a request body over its limit gets 413, judged by Content-Length and by
    counting what arrives (so a chunked body without a length is capped too). The body, at most
    the limit, is read before the app runs and handed to it in one piece."""

    def __init__(self, app, limits, default):
        self.app, self.limits, self.default = app, limits, default

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limits.get(scope["path"], self.default)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return await _too_large(limit, send)
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > limit:
                return await _too_large(limit, send)
        delivered = False

        async def replay():
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)


# RFC 9110 section 7.2: Host = uri-host [ ":" port ], uri-host from RFC 3986 section 3.2.2 (an IP
# literal in brackets or a name); no userinfo, path, query or fragment
HOST_HEADER = re.compile(r"(?P<name>\[[0-9A-Za-z:.]*\]|[^\[\]:@/?#\s]*)(?::(?P<port>[0-9]{0,5}))?")


def host_name(header):
    """The lower-cased host name a Host header names ("LocalHost:8000" -> "localhost", "[::1]:80" ->
    "::1"), or None when the header is not a name and an optional port 0..65535 (RFC 9110 section 7.2):
    "evil.example@127.0.0.1", "127.0.0.1/x" or "localhost:abc" name no host here, so none of them can
    pass for this machine."""
    match = HOST_HEADER.fullmatch(header)
    if match is None or (match["port"] and int(match["port"]) > 65535):
        return None
    name = match["name"].lower()
    return name[1:-1] if name.startswith("[") else name


class HostAllowList:
    """ASGI middleware: a request whose Host header names none of `hosts` gets 421 (a WebSocket is
    closed before it opens). Guards a server on 127.0.0.1 against DNS rebinding, where another web
    site's name is re-pointed at this machine and its page would then talk to the playground."""

    def __init__(self, app, hosts):
        self.app, self.hosts = app, frozenset(hosts)

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        header = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        if host_name(header) in self.hosts:
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 1008})
        home = page_url(*scope["server"]) if scope.get("server") else page_url("127.0.0.1", 8000)
        body = json.dumps({"error": f"this playground answers only at {', '.join(sorted(self.hosts))} (the "
                                    f"request named {header!r}); open {home}, or start it "
                                    f"with --host to serve other machines"}).encode()
        await send({"type": "http.response.start", "status": 421,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


async def _too_large(limit, send):
    body = json.dumps({"error": f"the request is larger than {limit:,} bytes; send less"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def create_app(allowed_hosts=None):
    """The Starlette application, wrapped in the body-size limit and, when `allowed_hosts` (host
    names such as ("127.0.0.1", "localhost", "::1")) is given, in HostAllowList."""
    files = static_files()
    uploads = OrderedDict()

    async def index(request):
        return _static_response(files, "index.html")

    async def static(request):
        return _static_response(files, request.path_params["name"])

    async def favicon(request):
        return Response(status_code=204)

    async def settings_schema(request):
        return JSONResponse(schema())

    async def upload_csv(request):
        """POST a CSV (x1, x2, label) as the body: 200 {"id", "rows", "classes"} or 400 {"error"}."""
        body = await request.body()
        if request.headers.get("content-type", "").startswith("multipart/"):  # an HTML form or curl -F
            return JSONResponse({"error": "send the CSV's bytes as the request body (curl --data-binary "
                                          "@points.csv), not as a multipart form"}, 400)
        try:
            text = body.decode("utf-8-sig")
            X, y, labels = parse_csv(text, MAX_CSV_ROWS)
        except UnicodeDecodeError:
            return JSONResponse({"error": "the file is not UTF-8 text; save it as a CSV of x1, x2, label"}, 400)
        except CSVError as error:
            return JSONResponse({"error": str(error)}, 400)
        token = secrets.token_hex(8)
        uploads[token] = (X, y, labels)
        while len(uploads) > MAX_UPLOADS:
            uploads.popitem(last=False)
        return JSONResponse({"id": token, "rows": len(y), "classes": labels})

    async def websocket(ws: WebSocket):
        """One page's training channel (the protocol is in this module's docstring)."""
        if not _same_origin(ws):
            await ws.close(code=1008)
            return
        await ws.accept()
        await Connection(ws, uploads).run()

    app = Starlette(routes=[
        Route("/", index), Route("/favicon.ico", favicon), Route("/api/settings", settings_schema),
        Route("/static/{name:path}", static),
        Route("/api/csv", upload_csv, methods=["POST"]), WebSocketRoute("/ws", websocket),
    ])
    app = BodyLimit(app, {"/api/csv": MAX_CSV_BYTES}, MAX_BODY_BYTES)
    return HostAllowList(app, allowed_hosts) if allowed_hosts else app


def _static_response(files, name):
    if name not in files:  # a fixed list of names: "../x", "%2e%2e/x" or "/etc/passwd" are never on it
        return JSONResponse({"error": "no such file"}, 404)
    content, media_type = files[name]
    return Response(content, media_type=media_type,
                    headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"})


def _same_origin(ws):
    origin = ws.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == ws.headers.get("host")


class Connection:
    """One open page: its Session, whether it plays, and the task that trains while it does.

    `Connection.open` holds the pages connected right now (a page that is left closes its socket,
    so its training stops and it leaves this set)."""

    open = set()

    def __init__(self, ws, uploads):
        self.ws, self.uploads = ws, uploads
        self.session, self.playing, self.upload, self.closed = None, False, None, False
        self.refusal = None  # why the last config was refused: what play, step or reset answer until a good one
        self.lock = asyncio.Lock()  # a command and a training slice never touch the session at once
        self.wake = asyncio.Event()

    async def run(self):
        """Handle the page's commands until it goes away; a task trains while it plays."""
        trainer = asyncio.create_task(self._train())
        Connection.open.add(self)
        try:
            while True:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None:  # a binary frame: Starlette's receive_text would raise KeyError
                    await self._error('send text messages of JSON like {"cmd": "play"}; binary messages are not understood')
                    continue
                if len(text) > MAX_MESSAGE_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_MESSAGE_BYTES:
                    await self._error(f"a message is limited to {MAX_MESSAGE_BYTES:,} bytes")
                    continue
                await self._handle(text)
        except (WebSocketDisconnect, asyncio.CancelledError):
            pass  # the page closed, or the server is stopping (Ctrl-C) with the page still open
        finally:
            self.closed = True
            Connection.open.discard(self)
            trainer.cancel()
            await asyncio.gather(trainer, return_exceptions=True)  # no send after the handler returns

    async def _handle(self, text):
        try:
            message = json.loads(text)
            command = message["cmd"]
        except (ValueError, KeyError, TypeError):
            return await self._error('a message must be JSON like {"cmd": "play"}')
        async with self.lock:
            try:
                if command == "config":
                    await self._configure(message)
                elif self.session is None:
                    await self._error(f"the settings were refused: {self.refusal}" if self.refusal
                                      else "send the settings first (cmd config)")
                elif command in ("play", "pause"):
                    self.playing = command == "play"
                    self.wake.set()
                elif command == "step":
                    self.playing = False
                    await in_engine(self.session.step_once)
                    await self._send(self.session.frame())
                elif command == "reset":
                    await self._configure({"settings": self.session.settings.to_hash(), "upload": self.upload})
                else:
                    await self._error(f"unknown command {command!r}; use config, play, pause, step or reset")
            except (ValueError, FloatingPointError) as error:
                self.playing = False
                if command in ("config", "reset"):  # the page shows the refused settings: the old run must not go on
                    self.session, self.refusal = None, str(error)
                await self._error(str(error))

    async def _configure(self, message):
        settings = message.get("settings")
        if not isinstance(settings, dict):
            raise ValueError('config needs "settings": {key: value}')
        self.upload = message.get("upload")
        upload = self.uploads.get(self.upload) if isinstance(self.upload, str) else None
        if settings.get("dataset") == "csv" and upload is None:
            raise ValueError(f"dataset=csv needs an uploaded CSV (the server keeps the {MAX_UPLOADS} newest uploads, "
                             f"until it restarts): choose the file again")
        session = await in_engine(Session, Settings.from_hash(settings), upload)
        self.session, self.refusal = session, None
        await self._send(session.data())
        await self._send(await in_engine(session.frame))

    async def _train(self):
        while not self.closed:  # after a bug is reported, play (or a reset) must train again
            try:
                await self._train_while_playing()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a bug must reach the page and the log, not stop training silently
                if self.closed:
                    return
                LOG.exception("training stopped")
                self.playing = False
                with contextlib.suppress(Exception):
                    await self._error(f"training stopped: {type(error).__name__}: {error}")

    async def _train_while_playing(self):
        while True:
            if not (self.playing and self.session is not None):
                self.wake.clear()
                await self.wake.wait()
                continue
            async with self.lock:
                if not self.playing:
                    continue
                try:
                    frame = await in_engine(self._slice, self.session)
                except FloatingPointError as error:
                    self.playing = False
                    await self._error(str(error))
                    continue
            text = encode(frame)  # outside the try: an unsendable frame is a bug, reported above
            try:
                await self.ws.send_text(text)
            except Exception:  # the page went away while this slice trained: stop quietly
                self.closed = True
                return
            await asyncio.sleep(0)  # let a waiting command in before the next slice

    @staticmethod
    def _slice(session):
        session.train_for(FRAME_SECONDS)
        return session.frame()

    async def _send(self, message):
        await self.ws.send_text(encode(message))

    async def _error(self, message):
        await self._send({"type": "error", "message": message})


ENGINE = threading.Lock()


async def in_engine(function, *args):
    """Run `function(*args)` in a worker thread, one at a time in this process: pages share the
    CPU anyway, and nnscratch's grad mode (no_grad while drawing) must not leak into another page's
    training step."""
    def locked():
        with ENGINE:
            return function(*args)
    return await asyncio.to_thread(locked)


def encode(message):
    """JSON for the page; NaN and infinity are refused (JavaScript's JSON.parse rejects them)."""
    return json.dumps(message, allow_nan=False, default=_jsonable)


def _jsonable(value):
    raise TypeError(f"cannot send {type(value).__name__} to the page")
