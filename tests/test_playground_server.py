"""The playground server over real HTTP and WebSocket on 127.0.0.1: the page and its files, size
limits, path traversal, CSV uploads, the training protocol, the CLI verb and a clean Ctrl-C."""

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
from websockets.sync.client import connect  # noqa: E402

from nnscratch.cli import build_parser  # noqa: E402
from nnscratch.playground import launch, server  # noqa: E402

SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture(scope="module")
def url():
    with launch.running() as address:
        yield address


def request(url, method, path, body=None, headers=None):
    host, port = url.split("//")[1].strip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True, skip_host="Host" in (headers or {}))
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if body is not None and "Transfer-Encoding" not in (headers or {}):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        if body is not None:
            if (headers or {}).get("Transfer-Encoding") == "chunked":
                for i in range(0, len(body), 4096):
                    piece = body[i:i + 4096]
                    conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                conn.send(b"0\r\n\r\n")
            else:
                conn.send(body)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_the_page_and_its_scripts_are_served(url):
    status, body = request(url, "GET", "/")
    assert status == 200 and b'data-testid="play"' in body
    for name in ("app.js", "draw.js", "style.css"):
        status, body = request(url, "GET", f"/static/{name}")
        assert status == 200 and body == (Path(server.__file__).parent / "static" / name).read_bytes()


@pytest.mark.parametrize("path", [
    "/static/../../etc/passwd", "/static/..%2f..%2fetc%2fpasswd", "/static/%2e%2e/%2e%2e/etc/passwd",
    "/static/%252e%252e%252fetc%252fpasswd", "/static/..\\..\\etc\\passwd", "/static//etc/passwd",
    "/static/../server.py", "/static/../__init__.py",
])
def test_path_traversal_never_leaves_the_package_files(url, path):
    status, body = request(url, "GET", path)
    assert status == 404 and b"root:" not in body and b"import" not in body


def test_an_oversized_request_body_is_refused(url):
    status, body = request(url, "POST", "/api/csv", b"1,2,0\n" * 200_000)  # 1.2 MB > 1 MiB
    assert status == 413 and b"larger than 1,048,576 bytes" in body
    status, _ = request(url, "POST", "/", b"x" * (server.MAX_BODY_BYTES + 1))
    assert status == 413


def test_a_body_without_a_declared_length_is_counted_as_it_arrives(url):
    status, body = request(url, "POST", "/api/csv", b"3,4,1\n" * 200_000, {"Transfer-Encoding": "chunked"})
    assert status == 413 and b"larger than" in body


def test_a_csv_upload_returns_an_id_and_a_bad_one_its_message(url):
    status, body = request(url, "POST", "/api/csv", b"x1,x2,label\n0,0,a\n1,1,b\n")
    assert status == 200 and json.loads(body)["rows"] == 2 and json.loads(body)["classes"] == ["a", "b"]
    status, body = request(url, "POST", "/api/csv", b"0,0,a\n1,x,b\n")
    assert status == 400 and "row 2: x1 and x2 must be numbers" in json.loads(body)["error"]
    status, body = request(url, "POST", "/api/csv", b"\xff\xfe\x00")
    assert status == 400 and "not UTF-8" in json.loads(body)["error"]
    status, body = request(url, "POST", "/api/csv", b"9" * 150_000 + b",1,a\n2,2,b\n")  # was a 500 (csv.Error)
    assert status == 400 and "row 1 cannot be read as CSV" in json.loads(body)["error"]
    status, body = request(url, "POST", "/api/csv", b"0,0,a\r1,1,b\r")  # old Mac line ends: was a 500 too
    assert status == 200 and json.loads(body)["rows"] == 2


@pytest.mark.parametrize("boundary", ["xYz", "----WebKitFormBoundary7MA4YWxk"])
def test_a_csv_sent_as_a_multipart_form_is_refused_naming_the_raw_body(url, boundary):
    # curl -F file=@points.csv was parsed as CSV: "row 1 has 1 column ... separate them with commas"
    form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.csv\"\r\n\r\n"
            f"0,0,a\n1,1,b\n\r\n--{boundary}--\r\n").encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    status, body = request(url, "POST", "/api/csv", form, headers)
    assert status == 400
    assert json.loads(body)["error"] == ("send the CSV's bytes as the request body (curl --data-binary @points.csv), "
                                         "not as a multipart form")


def ws_url(url):
    return url.replace("http", "ws") + "ws"


def receive(ws, kind):
    while True:
        message = json.loads(ws.recv(timeout=30))
        if message["type"] == kind:
            return message
        assert message["type"] != "error", message


def test_the_websocket_trains_and_streams_frames(url):
    with connect(ws_url(url)) as ws:
        ws.send(json.dumps({"cmd": "config", "settings": {"dataset": "xor", "layers": "4,2", "seed": "3"}}))
        data = receive(ws, "data")
        assert data["layers"] == [4, 2] and len(data["train"]["x"]) == 250
        first = receive(ws, "frame")
        assert first["step"] == 0 and first["grads"] is None and first["space"]["layer"] == 1
        ws.send(json.dumps({"cmd": "step"}))
        stepped = receive(ws, "frame")
        assert stepped["step"] == 1 and [len(g) for g in stepped["grads"]] == [2, 4, 2]
        ws.send(json.dumps({"cmd": "play"}))
        frames = [receive(ws, "frame") for _ in range(3)]
        assert frames[-1]["step"] > frames[0]["step"] > 1 and frames[-1]["grads"] is None
        ws.send(json.dumps({"cmd": "reset"}))
        assert receive(ws, "data")["layers"] == [4, 2]
        deadline = time.monotonic() + 30
        while (frame := receive(ws, "frame"))["step"] != 0:  # frames from before the reset may still arrive
            assert time.monotonic() < deadline


def test_bad_messages_get_an_error_not_a_crash(url):
    with connect(ws_url(url)) as ws:
        ws.send(json.dumps({"cmd": "play"}))
        assert "send the settings first" in json.loads(ws.recv(timeout=30))["message"]
        ws.send(json.dumps({"cmd": "config", "settings": {"layers": "4,99", "lr": "-1"}}))
        message = json.loads(ws.recv(timeout=30))["message"]
        assert "layers='4,99': must be from 1 to 16" in message and "lr='-1'" in message
        ws.send("not json")
        assert "must be JSON" in json.loads(ws.recv(timeout=30))["message"]
        ws.send(json.dumps({"cmd": "config", "settings": {"dataset": "csv"}, "upload": "nope"}))
        assert "needs an uploaded CSV" in json.loads(ws.recv(timeout=30))["message"]
        ws.send(json.dumps({"cmd": "x" * (server.MAX_MESSAGE_BYTES + 1)}))
        assert "limited to 16,384 bytes" in json.loads(ws.recv(timeout=30))["message"]


@pytest.mark.parametrize("frame", [b'{"cmd": "play"}', b"\x00\xff\x80"])
def test_a_binary_message_gets_an_error_and_the_connection_goes_on(url, frame):
    # Starlette's receive_text raised KeyError('text') on a binary frame: a traceback, and the page lost its socket
    with connect(ws_url(url)) as ws:
        ws.send(frame)
        assert "binary messages are not understood" in json.loads(ws.recv(timeout=30))["message"]
        ws.send(json.dumps({"cmd": "config", "settings": {"dataset": "xor", "seed": "1"}}))
        assert receive(ws, "data")["layers"] == [4, 2]


def _fails_once(fault):
    """A Connection._slice that returns `fault(frame)` (or raises it) the first time, then trains normally."""
    real, calls = server.Connection._slice, []

    def slice_(session):
        calls.append(1)
        frame = real(session)
        return fault(frame) if len(calls) == 1 else frame
    return staticmethod(slice_)


def _raise_runtime_error(frame):
    raise RuntimeError("a bug in a training slice")


def _unsendable_frame(frame):
    return dict(frame, train_loss=float("nan"))  # encode() refuses NaN: a ValueError outside the slice's try


@pytest.mark.parametrize("fault, says", [(_raise_runtime_error, "RuntimeError: a bug in a training slice"),
                                         (_unsendable_frame, "ValueError: Out of range float")])
def test_training_goes_on_after_a_bug_stopped_one_slice(url, monkeypatch, fault, says):
    # the trainer task ended on the first unexpected error: play (or reset, then play) never trained
    # on that page again (until it reloaded)
    monkeypatch.setattr(server.Connection, "_slice", _fails_once(fault))
    with connect(ws_url(url)) as ws:
        ws.send(json.dumps({"cmd": "config", "settings": {"dataset": "xor", "seed": "2"}}))
        receive(ws, "frame")
        ws.send(json.dumps({"cmd": "play"}))
        while (message := json.loads(ws.recv(timeout=30)))["type"] != "error":
            pass
        assert says in message["message"]
        ws.send(json.dumps({"cmd": "play"}))
        assert receive(ws, "frame")["step"] > 0


@pytest.mark.parametrize("bad, says", [({"lr": "abc", "layers": "4,99"}, "lr='abc'"),
                                       ({"dataset": "csv"}, "dataset=csv needs an uploaded CSV")])
def test_refused_settings_stop_the_old_run_and_play_says_why(url, bad, says):
    # a URL with bad settings and play=1 showed "send the settings first (cmd config)" (the page sends
    # config, then play), and after a good run, refused settings left the old run to play on unseen
    with connect(ws_url(url)) as ws:
        ws.send(json.dumps({"cmd": "config", "settings": bad}))
        ws.send(json.dumps({"cmd": "play"}))
        first, second = (json.loads(ws.recv(timeout=30))["message"] for _ in range(2))
        assert says in first and second.startswith("the settings were refused: ") and says in second
        ws.send(json.dumps({"cmd": "config", "settings": {"dataset": "xor", "seed": "5"}}))
        receive(ws, "frame")
        ws.send(json.dumps({"cmd": "config", "settings": bad}))
        ws.send(json.dumps({"cmd": "play"}))
        messages = [json.loads(ws.recv(timeout=30)) for _ in range(2)]
        assert [m["type"] for m in messages] == ["error", "error"] and says in messages[1]["message"]
        with pytest.raises(TimeoutError):  # no frame: nothing trains
            ws.recv(timeout=1)


@pytest.mark.parametrize("char", ["\u00e9", "\u20ac"])  # 2 and 3 bytes in UTF-8
def test_the_message_limit_counts_bytes_not_characters(url, char):
    # 9,000 characters of 2-3 bytes each passed the 16,384-"byte" check, which counted characters
    with connect(ws_url(url)) as ws:
        ws.send(json.dumps({"cmd": char * 9000}, ensure_ascii=False))
        assert "limited to 16,384 bytes" in json.loads(ws.recv(timeout=30))["message"]


def test_an_uploaded_csv_is_used_by_its_id(url):
    rows = "".join(f"{x},{y},{'in' if x * x + y * y < 4 else 'out'}\n" for x in range(-5, 6) for y in range(-5, 6))
    _, body = request(url, "POST", "/api/csv", rows.encode())
    with connect(ws_url(url)) as ws:
        ws.send(json.dumps({"cmd": "config", "settings": {"dataset": "csv"}, "upload": json.loads(body)["id"]}))
        data = receive(ws, "data")
        assert data["class_names"] == ["in", "out"] and len(data["train"]["x"]) + len(data["test"]["x"]) == 121


@pytest.mark.parametrize("later", [server.MAX_UPLOADS, server.MAX_UPLOADS + 3])
def test_an_upload_pushed_out_by_newer_ones_says_why(url, later):
    # the message blamed "a server restart" when other pages' uploads had pushed this one out
    ids = [json.loads(request(url, "POST", "/api/csv", f"0,0,a\n{i},1,b\n".encode())[1])["id"] for i in range(later + 1)]
    with connect(ws_url(url)) as ws:
        ws.send(json.dumps({"cmd": "config", "settings": {"dataset": "csv"}, "upload": ids[0]}))
        message = json.loads(ws.recv(timeout=30))["message"]
        assert f"the server keeps the {server.MAX_UPLOADS} newest uploads, until it restarts" in message
        ws.send(json.dumps({"cmd": "config", "settings": {"dataset": "csv"}, "upload": ids[-1]}))
        assert receive(ws, "data")["class_names"] == ["a", "b"]


def test_a_websocket_from_another_origin_is_refused(url):
    with pytest.raises(Exception):
        with connect(ws_url(url), origin="http://evil.example") as ws:
            ws.recv(timeout=5)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example:{port}",
                                  "[::1", "", "localhost.:{port}x"])
def test_a_request_for_another_host_name_is_refused_dns_rebinding(url, host):
    # a page at evil.example whose name was re-pointed at 127.0.0.1 got the playground: 200
    port = url.rstrip("/").rsplit(":", 1)[1]
    status, body = request(url, "GET", "/api/settings", headers={"Host": host.format(port=port)})
    assert status == 421
    assert f"open http://127.0.0.1:{port}/, or start it with --host" in json.loads(body)["error"]


@pytest.mark.parametrize("host", ["evil.example@127.0.0.1", "127.0.0.1/evil", "127.0.0.1?x", "localhost#x",
                                  "localhost:abc", "localhost:99999999", "127.0.0.1:80:80", "[::1]x",
                                  "user:pw@localhost:{port}"])
def test_a_host_header_that_is_not_a_name_and_port_is_refused(url, host):
    # urlsplit read "evil.example@127.0.0.1" as 127.0.0.1 and ignored a path, a query or a bad port: 200
    port = url.rstrip("/").rsplit(":", 1)[1]
    status, body = request(url, "GET", "/api/settings", headers={"Host": host.format(port=port)})
    assert status == 421 and "open http://127.0.0.1:" in json.loads(body)["error"]


@pytest.mark.parametrize("header, name", [
    ("LocalHost:8000", "localhost"), ("[::1]:80", "::1"), ("127.0.0.1", "127.0.0.1"), ("localhost:", "localhost"),
    ("[::1]", "::1"), ("a@localhost", None), ("localhost:65536", None), ("localhost/x", None), ("[::1", None),
    ("", "")])
def test_host_name_reads_only_a_name_and_an_optional_port(header, name):
    assert server.host_name(header) == name


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}", "[::1]:{port}",
                                  "localhost"])
def test_this_machines_names_are_served(url, host):
    port = url.rstrip("/").rsplit(":", 1)[1]
    status, body = request(url, "GET", "/api/settings", headers={"Host": host.format(port=port)})
    assert status == 200 and json.loads(body)


def test_a_websocket_for_another_host_name_is_refused(url):
    port = int(url.rstrip("/").rsplit(":", 1)[1])

    def connect_as(name):  # the URL's name goes into the Host header; the socket goes to 127.0.0.1
        return connect(f"ws://{name}:{port}/ws", sock=socket.create_connection(("127.0.0.1", port)))

    with pytest.raises(Exception):
        with connect_as("rebound.example") as ws:
            ws.recv(timeout=5)
    with connect_as("localhost") as ws:
        ws.send(json.dumps({"cmd": "config", "settings": {}}))
        assert receive(ws, "data")


@pytest.mark.parametrize("host", ["rebound.example@127.0.0.1", "127.0.0.1/x"])
def test_a_websocket_upgrade_with_a_malformed_host_is_refused(url, host):
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        status_line = sock.recv(4096).split(b"\r\n")[0]
    assert status_line == b"HTTP/1.1 403 Forbidden"  # a WebSocket closed before it opens; 101 would be open


@pytest.mark.parametrize("host", ["LOCALHOST", "127.0.0.2", "::1"])
def test_a_server_on_any_loopback_name_answers_only_this_machines_names(host):
    # --host LOCALHOST or 127.0.0.2 (loopback, this machine only) served every name: open to DNS rebinding;
    # and running("::1") could not start (an IPv4 probe socket) nor give a usable URL (http://::1:PORT/)
    with launch.running(host) as address:
        parts = urlsplit(address)
        answers, bodies = {}, {}
        for name in ("evil.example", parts.netloc, f"localhost:{parts.port}"):
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            try:
                conn.request("GET", "/api/settings", headers={"Host": name})
                response = conn.getresponse()
                answers[name], bodies[name] = response.status, response.read()
            finally:
                conn.close()
    assert answers == {"evil.example": 421, parts.netloc: 200, f"localhost:{parts.port}": 200}
    # the refusal names an address this server answers at (for ::1 it said http://127.0.0.1:PORT/)
    bound = address if host != "LOCALHOST" else f"http://127.0.0.1:{parts.port}/"
    assert f"open {bound}, or start it with --host" in json.loads(bodies["evil.example"])["error"]


@pytest.mark.parametrize("host, allowed", [
    ("127.0.0.1", ("127.0.0.1", "localhost", "::1")), ("LocalHost", ("127.0.0.1", "localhost", "::1")),
    ("127.0.0.2", ("127.0.0.1", "localhost", "::1", "127.0.0.2")), ("0.0.0.0", None), ("::", None),
    ("192.168.1.5", None), ("my-laptop.lan", None)])
def test_allowed_hosts_follow_whether_the_address_is_this_machine_only(host, allowed):
    assert launch.allowed_hosts(host) == allowed


def test_a_loopback_host_other_than_127_0_0_1_prints_no_network_warning():
    with busy_port("127.0.0.2") as port:
        lines = []
        with pytest.raises(OSError, match="pick another with --port"):
            launch.serve("127.0.0.2", port, open_browser=False, echo=lines.append)
    assert lines == []  # it warned "--host 127.0.0.2 lets other machines on the network open the playground"


def test_a_server_for_other_machines_answers_any_name():
    port = free_port("0.0.0.0")
    with launch.running("0.0.0.0", port) as address:
        status, _ = request(address.replace("0.0.0.0", "127.0.0.1"), "GET", "/api/settings",
                            headers={"Host": f"my-laptop.lan:{port}"})
    assert status == 200


def test_the_cli_verb_parses_its_options():
    args = build_parser().parse_args(["playground", "--port", "8123", "--no-browser"])
    assert (args.port, args.host, args.no_browser) == (8123, "127.0.0.1", True)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["playground", "--port", "70000"])


def test_another_host_prints_a_warning_and_a_busy_port_an_error():
    with busy_port("127.0.0.1") as port:
        lines = []
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{port}.*pick another with --port"):
            launch.serve("127.0.0.1", port, open_browser=False, echo=lines.append)
        assert lines == []
        with pytest.raises(OSError):
            launch.serve("0.0.0.0", port, open_browser=False, echo=lines.append)
        assert "warning: --host 0.0.0.0 lets other machines" in lines[0]


@pytest.mark.parametrize("host", ["192.0.2.1", "198.51.100.7"])  # documentation ranges: never this machine's
def test_an_address_not_of_this_machine_names_host_not_port(host):
    # it said "cannot listen on 192.0.2.1:8000 (Cannot assign requested address); pick another with --port"
    with pytest.raises(OSError) as error:
        launch.serve(host, 8000, open_browser=False, echo=lambda line: None)
    assert f"cannot listen on --host {host} (" in str(error.value) and "use 127.0.0.1" in str(error.value)
    assert "pick another with --port" not in str(error.value)


@pytest.mark.parametrize("host", ["", "   "])
def test_an_empty_host_is_refused_at_the_command_line(host, capsys):
    # "" bound every network and printed the URL http://:8000/, which opens nothing
    with pytest.raises(SystemExit):
        build_parser().parse_args(["playground", "--host", host])
    assert "--host must name an address, e.g. 127.0.0.1" in capsys.readouterr().err


def free_port(host="127.0.0.1"):
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def busy_port(host):
    """A port on `host` that another socket listens on for the `with` block."""
    with socket.socket() as busy:
        busy.bind((host, 0))
        busy.listen()
        yield busy.getsockname()[1]


def test_ctrl_c_stops_the_server_cleanly():
    port = free_port()
    env = dict(os.environ, PYTHONPATH=SRC)
    proc = subprocess.Popen([sys.executable, "-m", "nnscratch", "playground", "--no-browser", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = request(f"http://127.0.0.1:{port}/", "GET", "/")
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
                time.sleep(0.2)
        assert status == 200
        with connect(f"ws://127.0.0.1:{port}/ws"):  # an open page must not keep the server alive
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert f"playground at http://127.0.0.1:{port}/" in err and "playground stopped" in err


# A background job of a script starts with SIGINT ignored; a Ctrl-C / `kill -INT` that came while the server
# was still starting (before uvicorn's handler) was lost, and the server ran on. This child sends itself the
# signal at that moment, deterministically: just before the server is made.
STARTING_WITH_SIGINT_IGNORED = """
import os, signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
from nnscratch.cli import main
from nnscratch.playground import launch
real = launch.make_server
def interrupted_while_starting(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(1)
    return real(*args, **kwargs)
launch.make_server = interrupted_while_starting
sys.exit(main(["playground", "--no-browser", "--port", sys.argv[1]]))
"""


def test_ctrl_c_while_starting_stops_a_server_started_with_sigint_ignored():
    proc = subprocess.run([sys.executable, "-c", STARTING_WITH_SIGINT_IGNORED, str(free_port())],
                          env=dict(os.environ, PYTHONPATH=SRC), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr.strip().endswith("interrupted") and "Traceback" not in proc.stderr
