"""`make demo` must keep working: run the demo script as a user would and check what it prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_demo_runs_end_to_end_and_masks_values() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "examples" / "demo.py")], capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SealedSecret demo/db-sealed: Ready=True reason=Unsealed" in proc.stdout
    assert "SecretStore demo/vault: Ready=True reason=Valid" in proc.stdout
    assert "ExternalSecret demo/db-credentials: Ready=True reason=SecretSynced" in proc.stdout
    assert "password: 23 bytes, ********" in proc.stdout
    assert "dsn: 60 bytes, ********" in proc.stdout
    for plaintext in ("demo-password-change-me", "vault-password-change-me"):
        assert plaintext not in proc.stdout + proc.stderr
    assert proc.stdout.rstrip().endswith("demo OK")
