"""The real Kubernetes binaries the tests use, built from Go modules by tests/cluster/controlplane/.

``binary("kubectl")`` builds the control plane on first use (or reuses the cache outside the
repository) and returns the path. A machine without Go gets one clear error, never a skip:
tests that need a real kubectl must not pass silently because a tool is missing.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "tests" / "cluster" / "controlplane" / "build.sh"
BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager", "kubectl")


class ControlPlaneBuildError(RuntimeError):
    """build.sh failed; the message is its last line (e.g. that Go is missing)."""


@functools.cache
def _build() -> tuple[Path | None, str]:
    """Run build.sh once per test session: (the binaries' directory, "") or (None, why not)."""
    done = subprocess.run(["bash", str(BUILD)], capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        return None, lines[-1] if lines else f"{BUILD} failed with exit code {done.returncode}"
    return Path(done.stdout.strip().splitlines()[-1]), ""


def bin_dir() -> Path:
    """The directory holding the four binaries (built now if the cache lacks them). A failed build
    is not tried again by every test that needs a binary: each fails with the same one line."""
    path, problem = _build()
    if path is None:
        raise ControlPlaneBuildError(problem)
    missing = [name for name in BINARIES if not (path / name).is_file()]
    if missing:
        raise ControlPlaneBuildError(f"{BUILD} did not produce {', '.join(missing)} in {path}")
    return path


def binary(name: str) -> str:
    if name not in BINARIES:
        raise ValueError(f"not a control-plane binary: {name}")
    return str(bin_dir() / name)
