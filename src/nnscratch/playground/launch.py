"""`nnscratch playground`: its options and the serving loop (uvicorn), with the browser opened."""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
import threading
import time
import webbrowser

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def is_this_machine_only(host):
    """True when a server bound to `host` (a --host value) is reachable from this machine only:
    localhost in any letter case, or a loopback address (127.0.0.0/8, ::1)."""
    name = host.lower().rstrip(".")
    try:
        return name == "localhost" or ipaddress.ip_address(name).is_loopback
    except ValueError:  # a name other than localhost
        return False


def allowed_hosts(host):
    """The Host names a server bound to `host` answers: this machine's names (LOCAL_HOSTS and `host`
    itself, lower-cased) when only this machine can reach it, which keeps out a web page whose name
    was re-pointed at it (DNS rebinding); None (any name) when other machines can."""
    if not is_this_machine_only(host):
        return None
    return LOCAL_HOSTS if host.lower() in LOCAL_HOSTS else LOCAL_HOSTS + (host.lower(),)


def page_url(host, port):
    """The playground's address for a browser: http://HOST:PORT/, an IPv6 address in brackets."""
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}/"


def add_playground_arguments(parser):
    """The options of `nnscratch playground` on an argparse (sub)parser."""
    parser.add_argument("--port", type=_port, default=8000, help="TCP port (default %(default)s)")
    parser.add_argument("--host", type=_host, default="127.0.0.1",
                        help="address to bind (default %(default)s: this machine only; anything else lets "
                             "other machines reach the page, with a warning)")
    parser.add_argument("--no-browser", action="store_true", help="do not open the page in a browser")
    return parser


def _port(text):
    import argparse
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"--port must be a whole number from 1 to 65535, got {text!r}")
    return port


def _host(text):
    import argparse
    if not text.strip():  # "" binds every network, and the printed URL "http://:8000/" opens nothing
        raise argparse.ArgumentTypeError("--host must name an address, e.g. 127.0.0.1 (this machine only)")
    return text.strip()


def _family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


PORT_ERRORS = (errno.EADDRINUSE, errno.EACCES)  # the port is taken, or needs root: the fix is --port


def check_port_free(host, port):
    """Raise OSError naming the option to change (--port when the port is taken or privileged, --host
    when the address is not one of this machine's or not an address at all) when `host:port` cannot be bound."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            reason = error.strerror or str(error)
            if isinstance(error, socket.gaierror) or error.errno not in PORT_ERRORS:
                raise OSError(f"cannot listen on --host {host} ({reason}): it is not an address of this machine; "
                              f"use 127.0.0.1 (this machine only) or one that `ip addr` lists, without a port "
                              f"(the port goes in --port)") from None
            raise OSError(f"cannot listen on {host}:{port} ({reason}); pick another with --port") from None


def make_server(host="127.0.0.1", port=8000):
    """A uvicorn.Server for the playground app (call .run(), or set .should_exit to stop it)."""
    try:
        import uvicorn
    except ImportError:
        raise ImportError("the playground needs Starlette and uvicorn: pip install starlette uvicorn websockets "
                          "(or, in the nnscratch checkout, pip install -e '.[playground]')") from None
    from .server import MAX_MESSAGE_BYTES, create_app

    app = create_app(allowed_hosts=allowed_hosts(host))
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off",
                            ws="auto", ws_max_size=MAX_MESSAGE_BYTES * 4, timeout_graceful_shutdown=2)
    return uvicorn.Server(config)


def serve(host="127.0.0.1", port=8000, open_browser=True, echo=print):
    """Serve the playground until Ctrl-C (uvicorn stops cleanly on SIGINT/SIGTERM)."""
    if not is_this_machine_only(host):
        echo(f"warning: --host {host} lets other machines on the network open the playground and use this "
             f"computer's CPU; use the default 127.0.0.1 unless you mean that")
    check_port_free(host, port)
    server = make_server(host, port)
    url = page_url(host, port)
    echo(f"nnscratch playground at {url} (Ctrl-C stops it)")
    if open_browser:
        threading.Timer(0.8, webbrowser.open, (url,)).start()
    try:
        server.run()  # returns after a graceful shutdown on SIGINT/SIGTERM ...
    except KeyboardInterrupt:
        pass  # ... and newer uvicorn re-raises the Ctrl-C afterwards: for a server it is the normal way to stop
    echo("playground stopped")


@contextlib.contextmanager
def running(host="127.0.0.1", port=0):
    """Serve in a background thread for the duration of a `with` block; yields the page's URL.
    port=0 picks a free port. Used by the tests and benchmarks/playground.py."""
    if port == 0:
        with socket.socket(_family(host)) as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
    server = make_server(host, port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the playground server did not start on {host}:{port}")
        time.sleep(0.02)
    try:
        yield page_url(host, port)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
