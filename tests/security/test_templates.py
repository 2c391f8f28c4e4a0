"""Attacks 4, 8, 9 and 12: templates and regular expressions as weapons (docs/security.md 11, 15, 16).

Someone who may edit a manifest but not read Secrets must not read a value through a template
error; a template or a regular expression must not stall the operator for everyone; any template
failure is a clean ``Ready=False`` for the current generation.
"""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import time
from typing import Any

import pytest

from tests.support.external_env import (
    API,
    ExternalEnv,
    external_secret,
    root_token_store,
    token_secret,
    vault_store,
)
from tests.support.operator_proc import OperatorProcess
from tests.support.sealed_env import seal, secret

NS = "tenant-a"
OTHER = "team-b"
CANARY = "Canary-Tpl-9qW2"
SHORT = "Ω€"  # a value under 3 characters: the old masking let it through
FORMS = (
    CANARY,
    CANARY[::-1],
    CANARY.upper(),
    CANARY.lower(),
    base64.b64encode(CANARY.encode()).decode(),
    base64.b64encode(CANARY.encode()).decode()[:12],
    CANARY[:6],
    SHORT,
)

# Each fails while transforming a value; none may leave a trace of it anywhere.
FAILING = {
    "fail-b64": "{{ .password | b64enc | fail }}",
    "fail-rev": "{{ fail (.password | upper) }}",
    "fail-short": "{{ fail .short }}",
    "newline": "{{ .nl | mustFromJson }}",
    "index": "{{ index .password 99 }}",
    "number": "{{ .password | atoi | div 7 }}",
    "regex": '{{ mustRegexMatch (printf "(%s" .password) "x" }}',
    "clear": "{{ $d := dict }}{{ index $d .password | upper | fail }}",
    "date": '{{ mustToDate "2006-01-02" .password }}',
    "json": "{{ .password | mustFromJson }}",
    # The same attacks as written for the Jinja2 engine this replaced (its masking let each through);
    # here they are simply not valid Go templates.
    "jinja-b64": "{{ data[password | b64enc] }}",
    "jinja-reverse": "{{ data[password | reverse] }}",
    "jinja-short": "{{ data[short] }}",
    "jinja-newline": "{{ data[nl] }}",
    "jinja-clear": "{{ data.clear() or data[password] }}",
}
# templateAs KeysAndValues (and every literal): the output is read as YAML, and holds the values
# where the YAML reader stops: its own message would quote them (a duplicate key is named).
NOT_YAML = {
    "yaml-duplicate": "{{ .password }}: 1\n{{ .password }}: 2",
    "yaml-escape": 'a: "\\q{{ .password }}"',
    "yaml-short": "{{ .short }}: 1\n{{ .short }}: 2",
}


@pytest.fixture
def env(kube_emulator: Any) -> ExternalEnv:
    for ns in ("secretsync-system", NS, OTHER):
        kube_emulator.ensure_namespace(ns)
    return ExternalEnv(kube_emulator)


def _vault(env: ExternalEnv, openbao: Any, ns: str = NS) -> None:
    root_token_store(env.emu, openbao, ns)


def _es_with_template(openbao: Any, name: str, template: str, ns: str = NS, **spec: Any) -> dict[str, Any]:
    data = [
        {"secretKey": key, "remoteRef": {"key": openbao.path("db"), "property": key}}
        for key in ("password", "short", "nl")
    ]
    target = {"name": name, "template": {"data": {"out": template}}}
    return external_secret(name, ns, "vault", data=data, target=target, **spec)


def _everything(proc: OperatorProcess, env: ExternalEnv) -> str:
    return "\n".join(
        [
            proc.logs(),
            proc.metrics(),
            json.dumps(env.emu.list("v1", "Event")),
            json.dumps(env.emu.list(API, "ExternalSecret")),
            json.dumps(env.emu.list(API, "SealedSecret")),
        ]
    )


def test_template_errors_never_reveal_a_value_in_any_form(
    env: ExternalEnv, openbao: Any, cert: bytes, running: OperatorProcess
) -> None:
    openbao.client().secrets.kv.v2.create_or_update_secret(
        openbao.path("db"), {"password": CANARY, "short": SHORT, "nl": CANARY + "\n"}
    )
    _vault(env, openbao)
    for name, template in FAILING.items():
        env.emu.create(_es_with_template(openbao, name, template))
    for name, literal in NOT_YAML.items():
        es = _es_with_template(openbao, name, "")
        es["spec"]["target"]["template"] = {"templateFrom": [{"literal": literal}]}
        env.emu.create(es)
    sealed = seal(cert, secret("sealed", NS, {"password": CANARY, "short": SHORT}))
    sealed["spec"]["template"] = {"data": {"out": FAILING["fail-b64"], "two": FAILING["number"]}}
    env.emu.create(sealed)
    for name in FAILING:
        cond = env.wait_reason("ExternalSecret", name, NS, "TemplateFailed")
        assert cond["message"].startswith('spec.target.template: template "out": line 1, column ')
        assert env.secret(name, NS) is None
    for name in NOT_YAML:
        cond = env.wait_reason("ExternalSecret", name, NS, "TemplateFailed")
        assert "its output is not YAML key: value lines at line" in cond["message"], cond
        assert env.secret(name, NS) is None
    cond: dict[str, Any] | None = None
    deadline = time.monotonic() + 20
    while cond is None and time.monotonic() < deadline:
        obj = env.get("SealedSecret", "sealed", NS) or {}
        conds = (obj.get("status") or {}).get("conditions") or []
        cond = next((c for c in conds if c.get("reason") == "TemplateFailed"), None)
        time.sleep(0.2)
    assert cond is not None
    text = _everything(running, env)
    for form in FORMS:
        assert form not in text, f"{form!r} leaked"


def test_a_template_error_is_reported_for_the_current_generation(
    env: ExternalEnv, openbao: Any, running: OperatorProcess
) -> None:
    openbao.client().secrets.kv.v2.create_or_update_secret(
        openbao.path("db"), {"password": CANARY, "short": SHORT, "nl": "x"}
    )
    _vault(env, openbao)
    env.emu.create(_es_with_template(openbao, "gen", "{{ .password | len }}"))
    env.wait_synced("gen", NS)
    good = env.values("gen", NS)
    for template in (
        "{{ div 1 0 }}",
        "{{ mod 1 0 }}",
        '{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}',
        "{{ range $i := until 1000000000 }}{{ end }}",
        "{{ add1 }}",  # wrong number of arguments
        "{{ .password | int64 | mul 9223372036854775807 | div 0 }}",
    ):
        body = env.get("ExternalSecret", "gen", NS) or {}
        generation = int(body["metadata"]["generation"]) + 1
        env.emu.patch(
            API, "ExternalSecret", "gen", {"spec": {"target": {"template": {"data": {"out": template}}}}}, NS
        )
        cond = env.wait_reason("ExternalSecret", "gen", NS, "TemplateFailed")
        deadline = time.monotonic() + 10
        while cond.get("observedGeneration") != generation and time.monotonic() < deadline:
            time.sleep(0.1)
            cond = env.wait_reason("ExternalSecret", "gen", NS, "TemplateFailed")
        assert cond["status"] == "False" and cond["observedGeneration"] == generation, (template, cond)
        assert env.values("gen", NS) == good  # nothing lost


def _healthz_ms(proc: OperatorProcess) -> float:
    started = time.monotonic()
    status, _ = proc.get("/healthz", timeout=5)
    assert status == 200
    return (time.monotonic() - started) * 1000


def test_hostile_templates_and_regexps_do_not_stall_anyone_else(
    env: ExternalEnv, openbao: Any, cert: bytes, running: OperatorProcess, kube_emulator: Any
) -> None:
    kv = openbao.client().secrets.kv.v2
    kv.create_or_update_secret(openbao.path("db"), {"password": CANARY, "short": SHORT, "nl": "x"})
    for i in range(3):
        kv.create_or_update_secret(openbao.path(f"list/{'a' * 40}{i}"), {"k": "v"})
    _vault(env, openbao)
    hostile = {
        "loop": "{{ range $i := until 100000000 }}{{ range $j := until 100000000 }}x{{ end }}{{ end }}",
        "range": "{{ range 10000000000 }}{{ end }}",
        "huge": '{{ repeat 1000000000 "x" }}',
        "grow": '{{ $s := "xxxxxxxxxxxxxxxx" }}{{ range until 100 }}{{ $s = print $s $s }}{{ end }}{{ $s }}',
        "recurse": '{{ define "t" }}{{ template "t" . }}{{ template "t" . }}{{ end }}{{ template "t" . }}',
    }
    legacy = {  # what froze the Jinja2 engine this replaced: literal text or a syntax error now
        "jinja-loop": "{% for i in range(10**10) %}{% endfor %}x",
        "jinja-huge": "{{ 'x' * 10**10 }}",
    }
    for name, template in legacy.items():
        env.emu.create(_es_with_template(openbao, name, template))
    for name, template in hostile.items():
        for copy in range(2):
            env.emu.create(_es_with_template(openbao, f"{name}-{copy}", template, refreshInterval="1s"))
    sealed = seal(cert, secret("sealed-loop", NS, {"p": CANARY}))
    sealed["spec"]["template"] = {"data": {"out": hostile["loop"]}}
    env.emu.create(sealed)
    # Catastrophic backtracking for a backtracking engine: (.+)+# against long names without '#'.
    env.emu.create(
        external_secret(
            "regex",
            NS,
            "vault",
            refreshInterval="1s",
            dataFrom=[{"find": {"path": openbao.path("list"), "name": {"regexp": "(.+)+#"}}}],
        )
    )
    # ... and in a ClusterSecretStore's namespaceRegexes, matched against a 63-character namespace.
    long_ns = "a" * 61 + "-b"
    kube_emulator.ensure_namespace(long_ns)
    env.emu.create(token_secret("vault-token", "secretsync-system", openbao.root_token))
    auth = {"tokenSecretRef": {"name": "vault-token", "key": "token", "namespace": "secretsync-system"}}
    css = vault_store("regexy", None, openbao.addr, auth)
    css["spec"]["conditions"] = [{"namespaceRegexes": ["^(a+)+$"]}]
    env.emu.create(css)
    env.emu.create(
        external_secret(
            "from-long",
            long_ns,
            "regexy",
            secretStoreRef={"name": "regexy", "kind": "ClusterSecretStore"},
            data=[{"secretKey": "k", "remoteRef": {"key": openbao.path("db"), "property": "password"}}],
        )
    )
    # While all that runs: health answers fast, and another tenant's object becomes Ready.
    _vault(env, openbao, OTHER)
    started = time.monotonic()
    env.emu.create(_es_with_template(openbao, "innocent", "{{ .password | len }}", ns=OTHER))
    slowest = 0.0
    while time.monotonic() - started < 6:
        slowest = max(slowest, _healthz_ms(running))
        time.sleep(0.1)
    env.wait_synced("innocent", OTHER, timeout=15)
    assert slowest < 1000, f"/healthz took {slowest:.0f} ms"
    for name in hostile:
        env.wait_reason("ExternalSecret", f"{name}-0", NS, "TemplateFailed", timeout=30)
    cond = env.wait_reason("ExternalSecret", "regex", NS, "SecretSynced", timeout=30)
    assert cond["message"].startswith("the sources hold no data")  # nothing matched, and quickly
    env.wait_reason("ExternalSecret", "from-long", long_ns, "StoreNotAllowed", timeout=30)
    # SIGTERM is still obeyed, and a restart with all of it in place becomes ready again.
    assert running.proc is not None
    running.proc.send_signal(signal.SIGTERM)
    try:
        running.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail("the operator ignored SIGTERM")
    running.start()
    running.wait_ready()
    assert _healthz_ms(running) < 1000
