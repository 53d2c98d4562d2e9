"""`nnscratch.playground`: the live web trainer. A page (vendored HTML/CSS/JS in `static/`, no CDN)
sends its settings over a WebSocket; the network trains in Python with nnscratch (`session`) and
streams frames back (`server`). `nnscratch playground` starts it (`launch`).
"""

from .launch import add_playground_arguments, make_server, serve
from .session import Session
from .settings import Settings

__all__ = ["Session", "Settings", "add_playground_arguments", "make_server", "serve"]
