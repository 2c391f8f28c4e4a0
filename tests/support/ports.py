"""Free loopback TCP ports for the provider test servers.

Why not just ``bind(("127.0.0.1", 0))``: the kernel hands those ports out of the *ephemeral* range, the
same range it uses for the local side of outgoing connections. Our servers are stopped and restarted on
the SAME port to simulate outages; during the outage an outgoing connection (or another server asking for
port 0) can grab that port and the restart fails with EADDRINUSE. So ports are picked at random from a
range *below* the ephemeral range (where the kernel never allocates implicitly) and are kept in an
in-process reservation set until their owner releases them, so two of our servers never share one.

Parallel pytest processes (xdist) draw independently; with ~12 000 candidates the chance that two of them
pick the same free port between the probe and the bind is small, and a collision shows up as a clear
"address in use" error at start, never as a silent mix-up.
"""

from __future__ import annotations

import random
import socket
import threading
from pathlib import Path

__all__ = ["is_port_free", "release_port", "reserve_port"]

LOOPBACK = "127.0.0.1"

_lock = threading.Lock()
_reserved: set[int] = set()
_rng = random.SystemRandom()


def _ephemeral_range() -> tuple[int, int]:
    """The kernel's implicit-allocation range (Linux default 32768-60999)."""
    try:
        low, high = (int(x) for x in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        return 32768, 60999
    return low, high


def _candidate_range() -> tuple[int, int]:
    """A range the kernel never hands out implicitly; falls back to above the ephemeral range."""
    low, high = _ephemeral_range()
    if low - 1 - 20000 >= 1000:
        return 20000, low - 1
    if 65535 - (high + 1) >= 1000:
        return high + 1, 65535
    return 10000, 65535  # a machine with an all-encompassing ephemeral range: best effort


def is_port_free(port: int, host: str = LOOPBACK) -> bool:
    """True if a server could listen on ``host:port`` right now.

    SO_REUSEADDR is set like every server we start sets it (Go, werkzeug, gRPC), so a port whose only
    trace is a TIME_WAIT connection from a previous run counts as free, as it is for those servers.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def reserve_port(host: str = LOOPBACK, attempts: int = 200) -> int:
    """Pick a free port on ``host`` and keep it reserved in this process until :func:`release_port`."""
    low, high = _candidate_range()
    with _lock:
        for _ in range(attempts):
            port = _rng.randint(low, high)
            if port in _reserved or not is_port_free(port, host):
                continue
            _reserved.add(port)
            return port
    raise RuntimeError(f"no free port on {host} in {low}-{high} after {attempts} attempts")


def release_port(port: int) -> None:
    """Give a reserved port back; call it only when its server is stopped for good."""
    with _lock:
        _reserved.discard(port)
