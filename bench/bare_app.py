"""The baseline of `make bench`: a bare Litestar app with one GET handler.

It runs under uvicorn exactly as ``sigap serve`` runs SIGAP (see
``sigap.cli._serve`` through ``sigap.serving``: ``--workers`` processes on a
TCP socket, no access log, no server header), so the
difference between the two measures SIGAP's own work (middleware, session
lookup in the database, Jinja rendering), not the server.

    python -m bench.bare_app --port 8001 [--workers 2]
"""

from __future__ import annotations

import argparse

from litestar import Litestar, MediaType, get

from sigap.serving import serve


@get("/", media_type=MediaType.TEXT)
async def hello() -> str:
    return "ok"


app = Litestar(route_handlers=[hello], logging_config=None, debug=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    # Same keyword arguments as sigap.cli._serve (proxy_headers is False there
    # unless SIGAP_TRUST_PROXY is set, and the benchmark never sets it).
    serve(
        "bench.bare_app:app" if args.workers > 1 else app,
        workers=args.workers,
        host="127.0.0.1",
        port=args.port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
