"""Running uvicorn with one or several worker processes.

With ``workers > 1`` uvicorn binds the listening socket itself with protocol
0, and asyncio only sets ``TCP_NODELAY`` on connections accepted from a
socket whose protocol is ``IPPROTO_TCP``: every answer after the first on a
kept-alive connection then waits for the peer's delayed ACK, about 40 ms
(uvicorn issue 3149, open). We bind the socket here, as TCP, and hand it to
uvicorn's own multiprocess supervisor (which still restarts dead workers)."""

from __future__ import annotations

import socket
import sys
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess


def tcp_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        sys.exit(f"cannot listen on {host}:{port}: {exc.strerror}")
    sock.set_inheritable(True)
    return sock


def serve(app: Any, *, workers: int, host: str, port: int, **options: Any) -> None:
    """``app``: the app itself (one worker) or an import string (several;
    ``factory=True`` in ``options`` when it names a function building it)."""
    if workers <= 1:
        uvicorn.run(app, host=host, port=port, **options)
        return
    config = uvicorn.Config(app, host=host, port=port, workers=workers, **options)
    Multiprocess(config, sockets=[tcp_socket(host, port)]).run()
