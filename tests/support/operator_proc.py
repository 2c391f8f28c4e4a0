"""Run the real ``secretsync operator`` as a subprocess against the API emulator.

A subprocess (not an in-process runner) is what users run: it proves the
console script, flag parsing, kubeconfig login, signal handling and the HTTP
servers together, and its stderr is captured whole for canary checks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.ports import release_port, reserve_port

# The operator runs the code beside these tests, not whatever is installed: in a mutation run's
# scratch copy (tests/support/mutation.py) that is the mutated tree, so these tests can kill mutants.
ROOT = Path(__file__).resolve().parents[2]


class OperatorProcess:
    """One operator process: start, wait until ready, read logs and metrics, stop."""

    def __init__(
        self,
        kubeconfig: str,
        workdir: Path,
        *,
        namespace: str = "secretsync-system",
        extra_args: list[str] | None = None,
        env: dict[str, str] | None = None,
        bind_address: str = "127.0.0.1",
    ) -> None:
        self.bind_address = bind_address
        self.http_port = reserve_port()
        self.metrics_port = reserve_port()
        self.log_path = workdir / f"operator-{self.http_port}.log"
        # the command line after the program: a test may run it under another entry point
        self.cli_args = [
            "operator",
            "--kubeconfig",
            kubeconfig,
            "--namespace",
            namespace,
            "--http-port",
            str(self.http_port),
            "--metrics-port",
            str(self.metrics_port),
            "--bind-address",
            bind_address,
            "--log-level",
            "debug",
            *(extra_args or []),
        ]
        self.args = [sys.executable, "-m", "secretsync", *self.cli_args]
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        self.env = {**os.environ, "PYTHONPATH": path, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.bind_address}:{self.http_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://{self.bind_address}:{self.metrics_port}/metrics"

    def start(self) -> OperatorProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT, env=self.env)
        log.close()
        return self

    def logs(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def get(self, path: str, timeout: float = 5.0) -> tuple[int, str]:
        """GET a path on the API port; (status, body). Status 0 when nothing answers."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            return 0, ""

    def metrics(self) -> str:
        with urllib.request.urlopen(self.metrics_url, timeout=5) as resp:
            return str(resp.read().decode())

    def wait_ready(self, timeout: float = 30.0, path: str = "/readyz") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"operator exited with {self.proc.returncode}:\n{self.logs()[-4000:]}")
            if self.get(path, timeout=1.0)[0] == 200:
                return
            time.sleep(0.1)
        raise AssertionError(f"operator not ready on {path} within {timeout}s:\n{self.logs()[-4000:]}")

    def reconciling(self) -> bool:
        """Is this replica the active one (``secretsync_operator_up 1``)? Standbys report 0."""
        try:
            return "secretsync_operator_up 1.0" in self.metrics()
        except OSError:
            return False

    def wait_reconciling(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"operator exited with {self.proc.returncode}:\n{self.logs()[-4000:]}")
            if self.reconciling():
                return
            time.sleep(0.1)
        raise AssertionError(f"operator did not start reconciling within {timeout}s:\n{self.logs()[-4000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Signal the process and wait; kill it if it ignores the signal. Returns the exit code."""
        if self.proc is None:
            return 0
        release_port(self.http_port)
        release_port(self.metrics_port)
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
                raise AssertionError(f"operator ignored signal {sig} for {timeout}s") from None
        return self.proc.returncode
