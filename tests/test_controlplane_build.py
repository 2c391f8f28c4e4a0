"""The control-plane build script: cached binaries are reused; without Go it says so in one line."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.support import k8s_bin

TOOLS = ("bash", "dirname", "awk", "cat", "sha256sum", "cut", "mkdir", "date", "mv")  # all but Go


def _without_go(tmp_path: Path, binaries: Path) -> subprocess.CompletedProcess[str]:
    """build.sh on a PATH holding the ordinary tools it uses, and no Go."""
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found is not None, tool
        (tools / tool).symlink_to(found)
    env = {"PATH": str(tools), "HOME": str(tmp_path), "SECRETSYNC_K8S_BIN": str(binaries)}
    return subprocess.run(
        ["bash", str(k8s_bin.BUILD)], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_a_machine_without_go_gets_one_clear_line(tmp_path: Path) -> None:
    done = _without_go(tmp_path, tmp_path / "empty")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: Go is needed to build the test control plane"), (
        done.stderr
    )
    assert done.stdout == ""


def test_cached_binaries_are_reused_without_go(tmp_path: Path) -> None:
    cached = k8s_bin.bin_dir()  # built (or found) by the real script
    done = _without_go(tmp_path, cached)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(cached)
