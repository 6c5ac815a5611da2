"""Running the app: bind first (a busy port is a user error before anything starts), say where,
then hand the socket to uvicorn. :class:`Background` runs it in a thread, for tests and notebooks.
"""

from __future__ import annotations

import ipaddress
import signal
import socket
import sys
import threading
import time

from .._errors import ConfigError
from ._app import LOOPBACK_HOSTS, create_app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one), or a ConfigError saying why not."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535; got {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConfigError(f"--host {host!r} is not an address of this machine ({exc.strerror})") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        hint = "choose another --port (--port 0 picks a free one)"
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror}); {hint}") from None
    sock.listen(128)
    return sock


def url_of(sock: socket.socket, host: str) -> str:
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def _app_for(dirs, host: str, data_dir):
    # On 127.0.0.1 only the machine's own names are accepted as Host: a page on another site
    # cannot reach the server by pointing a name of its own at 127.0.0.1 (DNS rebinding).
    allowed = LOOPBACK_HOSTS if is_loopback(host) else None
    return create_app(dirs, data_dir=data_dir, allowed_hosts=allowed)


def serve(
    dirs, *, host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False, data_dir=None
) -> None:
    """Serve ``dirs`` until Ctrl-C. Prints the address first (a script may read it from stdout)."""
    import uvicorn

    app = _app_for(dirs, host, data_dir)
    sock = bind(host, port)
    url = url_of(sock, host)
    if not is_loopback(host):
        print(
            f"note: --host {host}: anyone who can reach this machine on port {sock.getsockname()[1]} "
            "can see these runs and use these models",
            file=sys.stderr,
            flush=True,
        )
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)

    def stop(signum, frame):
        server.should_exit = True

    # Ctrl-C is how a server stops. Until uvicorn installs its own handler (and after it puts
    # ours back) a Ctrl-C only asks the server to exit: a KeyboardInterrupt raised inside
    # asyncio's start-up can leave the event loop hung instead of stopped.
    previous = signal.signal(signal.SIGINT, stop)
    try:
        print(f"serving {url}  (Ctrl-C stops it)", flush=True)
        if open_browser:
            import webbrowser

            # The socket already listens: the browser's first request waits for uvicorn to accept it.
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
        server.run(sockets=[sock])
    finally:
        signal.signal(signal.SIGINT, previous)
    sock.close()
    print("stopped", flush=True)


class Background:
    """The app served from a thread of this process, on 127.0.0.1 and a free port::

    with Background(["runs"]) as server:
        httpx.get(server.url + "api/runs")
    """

    def __init__(self, dirs, *, data_dir=None, host: str = "127.0.0.1", port: int = 0):
        import uvicorn

        self.app = _app_for(dirs, host, data_dir)
        self._sock = bind(host, port)
        self.url = url_of(self._sock, host)
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def __enter__(self) -> Background:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._sock.close()
