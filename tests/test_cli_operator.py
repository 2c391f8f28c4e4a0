"""The CLI skeleton and the operator command's flag handling, without a cluster."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from typing import Any

import pytest
from click.testing import CliRunner

from secretsync import __version__, cli, config, logs
from secretsync.errors import UsageError

GROUPS = ("seal", "unseal", "keys", "fetch-cert", "validate", "reencrypt", "operator")
OPERATOR_FLAGS = (
    "--kubeconfig",
    "--context",
    "--namespace",
    "--watch-namespace",
    "--http-port",
    "--metrics-port",
    "--leader-elect",
    "--log-level",
    "--log-format",
)


def test_version() -> None:
    result = CliRunner().invoke(cli.main, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_help_lists_every_command_group() -> None:
    result = CliRunner().invoke(cli.main, ["--help"])
    assert result.exit_code == 0
    for group in GROUPS:
        assert f"  {group} " in result.output, group


def test_operator_help_lists_every_flag() -> None:
    result = CliRunner().invoke(cli.main, ["operator", "--help"])
    assert result.exit_code == 0
    for flag in OPERATOR_FLAGS:
        assert flag in result.output, flag


@pytest.fixture
def captured_settings(monkeypatch: pytest.MonkeyPatch) -> list[config.Settings]:
    """Replace the run loop so the flags can be checked without a cluster."""
    from secretsync import operator

    seen: list[config.Settings] = []

    async def fake_run(settings: config.Settings, **_: Any) -> None:
        seen.append(settings)

    monkeypatch.setattr(operator, "run", fake_run)
    monkeypatch.setattr(logs, "configure", lambda *a, **k: None)
    for name in (
        "POD_NAMESPACE",
        "SECRETSYNC_NAMESPACE",
        "SECRETSYNC_HTTP_PORT",
        "SECRETSYNC_WATCH_NAMESPACE",
    ):
        monkeypatch.delenv(name, raising=False)
    return seen


def test_operator_defaults(captured_settings: list[config.Settings]) -> None:
    result = CliRunner().invoke(cli.main, ["operator"])
    assert result.exit_code == 0, result.output
    (settings,) = captured_settings
    assert settings.namespace == "secretsync-system"
    assert settings.watch_namespaces == ()
    assert settings.clusterwide
    assert (settings.http_port, settings.metrics_port) == (8080, 8081)
    assert settings.leader_elect is False
    assert (settings.log_level, settings.log_format) == ("info", "text")


def test_operator_flags_from_environment(captured_settings: list[config.Settings]) -> None:
    env = {
        "POD_NAMESPACE": "from-pod",
        "SECRETSYNC_HTTP_PORT": "9000",
        "SECRETSYNC_METRICS_PORT": "9001",
        "SECRETSYNC_WATCH_NAMESPACE": "team-a,team-b team-c",
        "SECRETSYNC_LEADER_ELECT": "true",
        "SECRETSYNC_LOG_FORMAT": "json",
        "SECRETSYNC_LOG_LEVEL": "debug",
        "SECRETSYNC_CONTEXT": "prod",
    }
    result = CliRunner().invoke(cli.main, ["operator"], env=env)
    assert result.exit_code == 0, result.output
    (settings,) = captured_settings
    assert settings.namespace == "from-pod"
    assert settings.watch_namespaces == ("team-a", "team-b", "team-c")
    assert not settings.clusterwide
    assert (settings.http_port, settings.metrics_port) == (9000, 9001)
    assert settings.leader_elect is True
    assert (settings.log_level, settings.log_format) == ("debug", "json")
    assert settings.context == "prod"


def test_secretsync_namespace_beats_pod_namespace(captured_settings: list[config.Settings]) -> None:
    env = {"POD_NAMESPACE": "from-pod", "SECRETSYNC_NAMESPACE": "explicit"}
    CliRunner().invoke(cli.main, ["operator"], env=env)
    assert captured_settings[0].namespace == "explicit"


def test_flags_beat_environment(captured_settings: list[config.Settings]) -> None:
    result = CliRunner().invoke(
        cli.main,
        ["operator", "--http-port", "7000", "--watch-namespace", "x", "--watch-namespace", "y"],
        env={"SECRETSYNC_HTTP_PORT": "9000"},
    )
    assert result.exit_code == 0, result.output
    assert captured_settings[0].http_port == 7000
    assert captured_settings[0].watch_namespaces == ("x", "y")


def test_same_port_twice_is_a_usage_error(captured_settings: list[config.Settings]) -> None:
    result = CliRunner().invoke(cli.main, ["operator", "--http-port", "9000", "--metrics-port", "9000"])
    assert result.exit_code == 2
    assert "must differ" in result.output
    assert captured_settings == []


def test_bad_kubeconfig_is_one_clear_line(tmp_path: Any) -> None:
    missing = tmp_path / "nope.yaml"
    proc = subprocess.run(
        [sys.executable, "-m", "secretsync", "operator", "--kubeconfig", str(missing), "--http-port", "0",
         "--metrics-port", "0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "cannot load Kubernetes client configuration" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_import_has_no_side_effects() -> None:
    code = (
        "import logging, sys, secretsync, secretsync.cli\n"
        "names = ('kopf', 'kubernetes', 'aiohttp', 'hvac', 'boto3', 'google.cloud')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert not logging.getLogger().handlers\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0.0), ("90", 90.0), ("90s", 90.0), ("15m", 900.0), ("720h", 2_592_000.0), ("1h30m", 5400.0),
     ("250ms", 0.25), ("1d", 86400.0)],
)  # fmt: skip
def test_parse_duration(text: str, seconds: float) -> None:
    assert config.parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "h", "1x", "1h 30m", "-5s", "1.2.3s", "m5"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="duration"):
        config.parse_duration(text)


def test_json_log_format() -> None:
    fields = {"name": "secretsync.x", "levelno": 20, "levelname": "INFO", "msg": "hi %s", "args": ("there",)}
    record = logging.makeLogRecord({**fields, "object": "ns/name"})
    out = json.loads(logs.JsonFormatter().format(record))
    assert out["message"] == "hi there"
    assert out["level"] == "info"
    assert out["object"] == "ns/name"


def test_json_log_keeps_object_refs_and_drops_kopfs_settings_and_reprs() -> None:
    """kopf adds its whole OperatorSettings to every record of an object: 2 KiB of repr per line,
    thousands of lines at a first sync. Kept: the object's names; anything else is only its type."""

    class Opaque:
        def __repr__(self) -> str:
            return "canary-repr-must-not-be-logged"

    ref = {"apiVersion": "secretsync.io/v1alpha1", "kind": "SealedSecret", "name": "db", "namespace": "a"}
    fields = {"name": "kopf.objects", "levelno": 30, "levelname": "WARNING", "msg": "m", "args": ()}
    record = logging.makeLogRecord(
        {**fields, "settings": Opaque(), "k8s_skip": True, "k8s_ref": ref, "other": Opaque()}
    )
    line = logs.JsonFormatter().format(record)
    out = json.loads(line)
    assert out["k8s_ref"] == ref
    assert "settings" not in out and "k8s_skip" not in out
    assert out["other"] == "<Opaque>" and "canary-repr" not in line


def test_kopfs_per_event_successes_are_not_logged_at_info() -> None:
    root, kopf_objects = logging.getLogger(), logging.getLogger("kopf.objects")
    saved = (list(root.handlers), root.level, kopf_objects.level)
    try:
        logs.configure("info", "json")
        assert not kopf_objects.isEnabledFor(logging.INFO)
        assert kopf_objects.isEnabledFor(logging.WARNING)
        assert logging.getLogger("secretsync.sealed").isEnabledFor(logging.INFO)
    finally:  # pytest's own capture handlers back
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        kopf_objects.setLevel(saved[2])
