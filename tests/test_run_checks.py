"""tests/support/run_checks.py: a partial install stops the run in one line; an unexpected skip
fails it; the summary counts the skips."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import run_checks

ROOT = Path(__file__).resolve().parent.parent
PLAIN = ("-p", "no:cacheprovider", "-p", "no:asyncio")  # nothing but the plugin under test


def _pytest(
    tmp_path: Path, test_source: str, conftest: str = "", *args: str
) -> subprocess.CompletedProcess[str]:
    """pytest with only the run_checks plugin (and ``args``), on one test module in ``tmp_path``."""
    (tmp_path / "test_sample.py").write_text(test_source)
    (tmp_path / "conftest.py").write_text(conftest)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.support.run_checks", *PLAIN, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("workers", [(), ("-p", "xdist", "-n", "2")], ids=["one-process", "xdist"])
def test_an_unexpected_skip_fails_the_run_and_is_named(tmp_path: Path, workers: tuple[str, ...]) -> None:
    # make unit runs the suite in two processes (pytest-xdist): the workers' skips count too
    done = _pytest(
        tmp_path,
        "import pytest\n\n"
        "def test_runs():\n    pass\n\n"
        "def test_skips():\n    pytest.skip('no backend here')\n\n"
        "@pytest.mark.xfail(strict=True, reason='known')\ndef test_xfails():\n    assert False\n",
        "",
        *workers,
    )
    assert done.returncode == 1, done.stdout
    assert "skipped tests: 1 (0 expected, 1 unexpected)" in done.stdout
    assert "test_sample.py::test_skips: no backend here" in done.stdout


def test_a_run_without_skips_passes_and_says_so(tmp_path: Path) -> None:
    done = _pytest(tmp_path, "def test_runs():\n    pass\n")
    assert done.returncode == 0, done.stdout
    assert "skipped tests: 0 (0 expected, 0 unexpected)" in done.stdout


def test_a_failing_run_keeps_its_own_exit_status(tmp_path: Path) -> None:
    done = _pytest(
        tmp_path,
        "import pytest\n\ndef test_fails():\n    assert False\n\ndef test_skips():\n    pytest.skip('x')\n",
    )
    assert done.returncode == 1 and "1 failed" in done.stdout


def test_a_missing_package_stops_the_run_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["click"]\n'
        '[project.optional-dependencies]\nall = ["no-such-package-for-secretsync-tests"]\n'
        'dev = ["x[all]", "pytest"]\n'.replace("x[all]", "secretsync[all]")
    )
    conftest = (
        f"import pathlib\nimport tests.support.run_checks as rc\nrc.ROOT = pathlib.Path({str(tmp_path)!r})\n"
    )
    done = _pytest(tmp_path, "def test_runs():\n    pass\n", conftest)
    assert done.returncode == 4, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == [
        "ERROR: test dependencies not installed: no-such-package-for-secretsync-tests; install them with "
        "`make test` (or: pip install -c constraints.txt -e '.[dev]')"
    ]
    assert "1 passed" not in done.stdout


def test_this_install_is_complete() -> None:
    assert run_checks.missing_dev_packages() == []


def test_only_the_listed_skips_with_their_reason_are_expected() -> None:
    node = "tests/test_corpus.py::test_eso_manifest_syncs_as_eso_would[untouched-gcp-sa-store]"
    assert run_checks.classify(node, "not run in mode untouched") is not None
    assert run_checks.classify(node, "hvac is not installed") is None  # the right test, another reason
    other = "tests/test_corpus.py::test_eso_manifest_syncs_as_eso_would[untouched-vault-token]"
    assert run_checks.classify(other, "not run in mode untouched") is None
    assert len(run_checks.EXPECTED_SKIPS) == 14
    assert all(why for why, _ in run_checks.EXPECTED_SKIPS.values())
