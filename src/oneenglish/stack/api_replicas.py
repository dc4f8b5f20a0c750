"""Several API processes behind nginx on one machine: `oneenglish run --api-replicas N`.

Each replica is an `oneenglish serve` process of its own on API_REPLICA_BASE_PORT + i (one
worker each, as separate hosts would run them), trusting X-Forwarded-* from nginx on
loopback; nginx listens on PORT (stack/nginx.py). A replica that exits is started again. On
Ctrl-C or SIGTERM: nginx quits gracefully (it finishes the requests it is proxying), then each
replica gets SIGTERM and finishes its own in-flight requests (SHUTDOWN_GRACE_SECONDS).

Correctness does not depend on which replica serves a request: sessions, throttles,
idempotency keys and saga leases live in PostgreSQL, real-time events reach every replica's
sockets through the fan-out (realtime/fanout.py), and what each process keeps in memory (the
field-encryption data keys, the metrics, the sockets it holds) is its own by nature.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from oneenglish.settings import Settings
from oneenglish.stack.nginx import LocalNginx
from oneenglish.stack.process import ensure_port_free, terminate, wait_http

READY_TIMEOUT_SECONDS = 90.0
# The `oneenglish` command, run by this interpreter (whatever its script's path).
_MAIN = "from oneenglish.cli import main; main()"


class ApiReplicas:
    def __init__(self, settings: Settings, count: int) -> None:
        if count < 2:
            raise ValueError("replicas behind nginx means two or more")
        self.settings = settings
        self.root = (settings.data_dir / "api-replicas").resolve()
        self.ports = [settings.api_replica_base_port + i for i in range(count)]
        self.nginx = LocalNginx(self.root / "nginx", settings.port, self.ports)
        self.processes: dict[int, subprocess.Popen[bytes]] = {}

    def start(self) -> None:
        for port in self.ports:
            ensure_port_free("an API replica", port, "API_REPLICA_BASE_PORT")
        for port in self.ports:
            self._start(port)
        for port in self.ports:
            process = self.processes[port]
            wait_http(
                f"the API replica on :{port}",
                f"http://127.0.0.1:{port}/health",
                pid=process.pid,
                log_file=self._log(port),
                timeout=READY_TIMEOUT_SECONDS,
            )
        self.nginx.start()

    def _log(self, port: int) -> Path:
        return self.root / f"api-{port}.log"

    def _start(self, port: int) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "PORT": str(port),
            "WORKERS": "1",
            # nginx, on loopback, says who the client is.
            "FORWARDED_ALLOW_IPS": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        }
        with self._log(port).open("ab") as log:
            self.processes[port] = subprocess.Popen(
                [sys.executable, "-c", _MAIN, "serve", "--port", str(port)],
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                env=env,
                # Its own session: Ctrl-C reaches this supervisor, which stops it in order.
                start_new_session=True,
            )

    def serve_until(self, stop: threading.Event, on_restart: Callable[[int], None]) -> None:
        """Keep the replicas running until `stop` is set (a replica that exits is started
        again, as uvicorn's supervisor does for its workers)."""
        while not stop.wait(1.0):
            for port in self.restart_exited():
                on_restart(port)

    def restart_exited(self) -> list[int]:
        """Start again every replica that exited; returns their ports."""
        restarted = []
        for port, process in list(self.processes.items()):
            if process.poll() is not None:
                self._start(port)
                restarted.append(port)
        return restarted

    def stop(self) -> list[str]:
        """nginx first (it finishes what it is proxying), then each replica, gracefully."""
        stopped = []
        nginx_pid = self.nginx.pid()
        if nginx_pid is not None:
            os.kill(nginx_pid, signal.SIGQUIT)  # nginx's graceful shutdown
            deadline = time.monotonic() + self.settings.shutdown_grace_seconds + 5
            while self.nginx.pid() is not None and time.monotonic() < deadline:
                time.sleep(0.1)
            self.nginx.stop()
            stopped.append("nginx")
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for port, process in self.processes.items():
            try:
                process.wait(timeout=self.settings.shutdown_grace_seconds + 10)
            except subprocess.TimeoutExpired:
                terminate(process.pid, timeout=0)
                process.wait()
            stopped.append(f"api :{port}")
        return stopped
