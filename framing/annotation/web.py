"""The annotation page: a small Starlette app over an ``AnnotationSession``, served by uvicorn on 127.0.0.1.

Plain HTML, CSS and JavaScript shipped in ``framing/annotation/static`` (no build step, nothing fetched
from elsewhere). The page is served only to a URL carrying the session's token (``/?token=...``), and
every API call must send the token in the ``X-Framing-Token`` header, so no other local process, and no
other web page open in the browser, can read passages or post labels.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable
from importlib import resources

from framing.annotation.session import AnnotationSession, NotCurrent

TOKEN_HEADER = "X-Framing-Token"
STATIC_FILES = {"app.js": "text/javascript", "app.css": "text/css"}
HOST = "127.0.0.1"


def _static(name: str) -> bytes:
    return resources.files("framing.annotation").joinpath("static", name).read_bytes()


def create_app(session: AnnotationSession, token: str):
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    no_store = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

    def authorised(given: str | None) -> bool:
        return given is not None and secrets.compare_digest(given.encode(), token.encode())

    def refused() -> Response:
        return JSONResponse({"error": "missing or wrong session token; open the URL that framing annotate printed"}, status_code=403, headers=no_store)

    async def index(request: Request) -> Response:
        if not authorised(request.query_params.get("token")):
            return refused()
        headers = dict(no_store, **{"Content-Security-Policy": "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'"})
        return Response(_static("index.html"), media_type="text/html; charset=utf-8", headers=headers)

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC_FILES:
            return Response("not found", status_code=404)
        return Response(_static(name), media_type=STATIC_FILES[name] + "; charset=utf-8", headers=no_store)

    def api(action: Callable[[dict], dict], reads_body: bool = True):
        async def endpoint(request: Request) -> Response:
            if not authorised(request.headers.get(TOKEN_HEADER)):
                return refused()
            body = {}
            if reads_body:
                try:
                    body = await request.json()
                except ValueError:
                    return JSONResponse({"error": "the request body is not JSON"}, status_code=400, headers=no_store)
                if not isinstance(body, dict):
                    return JSONResponse({"error": "the request body must be a JSON object"}, status_code=400, headers=no_store)
            try:
                return JSONResponse(await run_in_threadpool(action, body), headers=no_store)
            except NotCurrent as exc:
                return JSONResponse({"error": str(exc), "state": session.state()}, status_code=409, headers=no_store)
            except (ValueError, TypeError, KeyError) as exc:
                return JSONResponse({"error": f"bad request: {exc}"}, status_code=400, headers=no_store)
        return endpoint

    def answer(body: dict) -> dict:
        labels = body["labels"]
        if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
            raise ValueError("labels must be a list of frame names")
        return session.answer(str(body["id"]), labels, float(body.get("seconds", 0.0)))

    routes = [
        Route("/", index),
        Route("/static/{name}", static),
        Route("/api/codebook", api(lambda _: session.codebook_view(), reads_body=False)),
        Route("/api/state", api(lambda _: session.state(), reads_body=False)),
        Route("/api/answer", api(answer), methods=["POST"]),
        Route("/api/skip", api(lambda body: session.skip(str(body["id"]))), methods=["POST"]),
        Route("/api/undo", api(lambda _: session.undo(), reads_body=False), methods=["POST"]),
    ]
    return Starlette(routes=routes, max_body_size=1 << 20)


def bind(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1 (``port`` 0: any free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(64)
    return sock


def serve(app, sock: socket.socket, on_started: Callable[[], None] | None = None) -> None:
    """Serve ``app`` on ``sock`` until Ctrl-C or SIGTERM; ``on_started`` runs once the server accepts connections."""
    import threading

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    if on_started is not None:
        def announce() -> None:
            while not server.started and not server.should_exit:
                threading.Event().wait(0.05)
            if server.started:
                on_started()
        threading.Thread(target=announce, daemon=True).start()
    server.run(sockets=[sock])
