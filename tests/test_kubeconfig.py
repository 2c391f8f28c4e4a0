"""secretsync's own kubeconfig and in-cluster loader (secretsync/kubeconfig.py), against client-go's rules.

Each field of a kubeconfig; KUBECONFIG's merge (the first file to define a name wins, the first
``current-context`` wins, missing files are skipped, relative paths follow the file that holds
them); the in-cluster configuration; ``exec`` credential plugins (v1 and v1beta1, token and client
certificate); and the errors, each one clear line that names the file, field or entry and never a
credential: no token, password, key or certificate data, nor an exec plugin's output.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from secretsync import kube, kubeconfig
from secretsync.errors import UsageError
from secretsync.kubeconfig import KubeconfigError
from tests.support.tls import make_ca

CANARY = "c4n4ry-s3cr3t-t0k3n"
CANARY_B64 = base64.b64encode(CANARY.encode()).decode()


# --------------------------------------------------------------------------- helpers


def _pem_pair(cn: str = "client") -> tuple[bytes, bytes]:
    """A certificate and its key, PEM (a throwaway self-signed CA's: any pair that matches)."""
    ca = make_ca(cn)
    return ca.cert_pem, ca.key_pem


CERT_PEM, KEY_PEM = _pem_pair()
OTHER_CERT_PEM, OTHER_KEY_PEM = _pem_pair("other")


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def config(
    cluster: dict[str, Any] | None = None,
    user: dict[str, Any] | None = None,
    *,
    namespace: str | None = "team-a",
    current: str | None = "ctx",
    name: str = "ctx",
    cluster_name: str = "c",
    user_name: str = "u",
) -> dict[str, Any]:
    context: dict[str, Any] = {"cluster": cluster_name, "user": user_name}
    if namespace:
        context["namespace"] = namespace
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster_name,
                "cluster": cluster if cluster is not None else {"server": "https://api.example:6443"},
            }
        ],
        "users": [{"name": user_name, "user": user if user is not None else {"token": "t"}}],
        "contexts": [{"name": name, "context": context}],
    }
    if current is not None:
        doc["current-context"] = current
    return doc


def write(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc), encoding="utf-8")
    return path


def load(path: Path | None = None, context: str | None = None, **environ: str) -> kubeconfig.ClientConfig:
    env = {"HOME": environ.pop("HOME", "/nonexistent-home"), **environ}
    return kubeconfig.load(str(path) if path else None, context, environ=env)


def error(path: Path | None = None, context: str | None = None, **environ: str) -> str:
    with pytest.raises(KubeconfigError) as info:
        load(path, context, **environ)
    message = str(info.value)
    assert "\n" not in message and message
    for secret in (CANARY, CANARY_B64, KEY_PEM.decode(), "PRIVATE KEY"):
        assert secret not in message
    return message


def plugin(path: Path, body: str) -> Path:
    """An exec credential plugin: a Python script run by this interpreter."""
    path.write_text(f"#!{sys.executable}\nimport json, os, sys\n{body}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def exec_user(
    command: Path | str, api: str = "client.authentication.k8s.io/v1", **extra: Any
) -> dict[str, Any]:
    return {"exec": {"apiVersion": api, "command": str(command), "interactiveMode": "Never", **extra}}


def credential(api: str = "client.authentication.k8s.io/v1", **status: str) -> str:
    return json.dumps({"apiVersion": api, "kind": "ExecCredential", "status": status})


# --------------------------------------------------------------------------- fields


def test_server_token_and_namespace(tmp_path: Path) -> None:
    cfg = load(write(tmp_path / "config", config({"server": "https://api.example:6443/"}, {"token": "abc"})))
    assert cfg.server == "https://api.example:6443"
    assert (cfg.token, cfg.token_file, cfg.namespace) == ("abc", None, "team-a")
    assert not cfg.insecure and cfg.ca_file is None and cfg.ca_data is None
    assert "abc" not in repr(cfg)


def test_no_namespace_and_no_user_is_anonymous(tmp_path: Path) -> None:
    doc = config(namespace=None)
    doc["contexts"][0]["context"].pop("user")
    cfg = load(write(tmp_path / "config", doc))
    assert (cfg.namespace, cfg.token, cfg.username, cfg.cert_file, cfg.cert_data) == (None,) * 5


def test_certificate_authority_file_is_relative_to_the_kubeconfig(tmp_path: Path) -> None:
    write(tmp_path / "pki" / "ca.crt", CERT_PEM.decode())
    cfg = load(
        write(tmp_path / "config", config({"server": "https://a", "certificate-authority": "pki/ca.crt"}))
    )
    assert cfg.ca_file == str(tmp_path / "pki" / "ca.crt") and cfg.ca_data is None


def test_certificate_authority_data(tmp_path: Path) -> None:
    cfg = load(
        write(tmp_path / "c", config({"server": "https://a", "certificate-authority-data": b64(CERT_PEM)}))
    )
    assert cfg.ca_data == CERT_PEM and cfg.ca_file is None


def test_client_certificate_and_key_files(tmp_path: Path) -> None:
    write(tmp_path / "u" / "tls.crt", CERT_PEM.decode())
    write(tmp_path / "u" / "tls.key", KEY_PEM.decode())
    user = {"client-certificate": "u/tls.crt", "client-key": str(tmp_path / "u" / "tls.key")}
    cfg = load(write(tmp_path / "config", config(user=user)))
    assert cfg.cert_file == str(tmp_path / "u" / "tls.crt")
    assert cfg.key_file == str(tmp_path / "u" / "tls.key")
    assert cfg.token is None


def test_client_certificate_and_key_data(tmp_path: Path) -> None:
    user = {"client-certificate-data": b64(CERT_PEM), "client-key-data": b64(KEY_PEM)}
    cfg = load(write(tmp_path / "config", config(user=user)))
    assert (cfg.cert_data, cfg.key_data) == (CERT_PEM, KEY_PEM)
    assert "PRIVATE" not in repr(cfg)


def test_token_file_is_relative_and_wins_over_the_inline_token(tmp_path: Path) -> None:
    write(tmp_path / "sa" / "token", "from-file\n")
    cfg = load(write(tmp_path / "config", config(user={"tokenFile": "sa/token", "token": "inline"})))
    assert (cfg.token, cfg.token_file) == ("from-file", str(tmp_path / "sa" / "token"))
    # Unreadable for now: the inline token is the fallback, the file stays to be re-read.
    (tmp_path / "sa" / "token").unlink()
    cfg = load(tmp_path / "config")
    assert (cfg.token, cfg.token_file) == ("inline", str(tmp_path / "sa" / "token"))


def test_basic_auth(tmp_path: Path) -> None:
    cfg = load(write(tmp_path / "config", config(user={"username": "admin", "password": CANARY})))
    assert (cfg.username, cfg.password, cfg.token) == ("admin", CANARY, None)
    assert CANARY not in repr(cfg)


def test_insecure_skip_tls_verify(tmp_path: Path) -> None:
    cfg = load(write(tmp_path / "config", config({"server": "https://a", "insecure-skip-tls-verify": True})))
    assert cfg.insecure


def test_json_kubeconfig_and_an_explicit_context(tmp_path: Path) -> None:
    doc = config()
    doc["contexts"].append({"name": "other", "context": {"cluster": "c", "user": "u", "namespace": "ns2"}})
    path = tmp_path / "config.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert load(path).namespace == "team-a"
    assert load(path, "other").namespace == "ns2"


# --------------------------------------------------------------------------- KUBECONFIG and its merge


def test_kubeconfig_list_first_file_wins_per_name(tmp_path: Path) -> None:
    first = config({"server": "https://first"}, {"token": "first-token"}, current=None)
    second = config(
        {"server": "https://second"}, {"token": "second-token"}, current="ctx", namespace="second-ns"
    )
    second["clusters"].append({"name": "only-in-second", "cluster": {"server": "https://third"}})
    second["contexts"].append({"name": "ctx2", "context": {"cluster": "only-in-second", "user": "u"}})
    a, b = write(tmp_path / "a", first), write(tmp_path / "b", second)
    env = {"KUBECONFIG": os.pathsep.join([str(a), str(tmp_path / "missing"), str(b), str(a)])}
    cfg = load(**env)
    # current-context only in the second file; the context, cluster and user "ctx"/"c"/"u" from the first.
    assert (cfg.server, cfg.token, cfg.namespace) == ("https://first", "first-token", "team-a")
    assert load(None, "ctx2", **env).server == "https://third"  # a name only the second file defines
    assert cfg.source == "KUBECONFIG (" + os.pathsep.join([str(a), str(b)]) + ")"


def test_kubeconfig_list_first_current_context_wins(tmp_path: Path) -> None:
    a = config({"server": "https://a"}, current="ctx-a", name="ctx-a")
    b = config({"server": "https://b"}, current="ctx-b", name="ctx-b", cluster_name="cb", user_name="ub")
    pa, pb = write(tmp_path / "a", a), write(tmp_path / "b", b)
    assert load(KUBECONFIG=f"{pa}{os.pathsep}{pb}").server == "https://a"
    assert load(KUBECONFIG=f"{pb}{os.pathsep}{pa}").server == "https://b"


def test_a_whole_entry_comes_from_one_file(tmp_path: Path) -> None:
    """client-go: "if two files specify a red-user, only values from the first file's red-user are used"."""
    a = config(user={"username": "alice"})
    b = config(user={"username": "bob", "password": "pw"})
    pa, pb = write(tmp_path / "a", a), write(tmp_path / "b", b)
    cfg = load(KUBECONFIG=f"{pa}{os.pathsep}{pb}")
    assert (cfg.username, cfg.password) == ("alice", None)


def test_relative_paths_follow_the_file_that_defines_the_entry(tmp_path: Path) -> None:
    write(tmp_path / "one" / "ca.crt", CERT_PEM.decode())
    write(tmp_path / "two" / "token", "two-token")
    cluster_file = {
        "clusters": [{"name": "c", "cluster": {"server": "https://a", "certificate-authority": "ca.crt"}}]
    }
    rest = config(user={"tokenFile": "token"})
    rest.pop("clusters")
    a, b = write(tmp_path / "one" / "config", cluster_file), write(tmp_path / "two" / "config", rest)
    cfg = load(KUBECONFIG=f"{a}{os.pathsep}{b}")
    assert cfg.ca_file == str(tmp_path / "one" / "ca.crt")
    assert (cfg.token, cfg.token_file) == ("two-token", str(tmp_path / "two" / "token"))


def test_explicit_kubeconfig_ignores_the_environment(tmp_path: Path) -> None:
    env_file = write(tmp_path / "env", config({"server": "https://env"}))
    explicit = write(tmp_path / "explicit", config({"server": "https://explicit"}))
    assert load(explicit, KUBECONFIG=str(env_file)).server == "https://explicit"


def test_home_kubeconfig_without_kubeconfig_variable(tmp_path: Path) -> None:
    write(tmp_path / ".kube" / "config", config({"server": "https://home"}))
    assert load(HOME=str(tmp_path)).server == "https://home"
    assert load(HOME=str(tmp_path), KUBECONFIG="").server == "https://home"  # empty: as unset


def test_an_empty_file_is_an_empty_config(tmp_path: Path) -> None:
    empty = write(tmp_path / "empty", "")
    real = write(tmp_path / "real", config({"server": "https://real"}))
    assert load(KUBECONFIG=f"{empty}{os.pathsep}{real}").server == "https://real"


# --------------------------------------------------------------------------- in-cluster


def service_account(tmp_path: Path, jwt: str = "projected", namespace: str | None = "ops") -> Path:
    sa = tmp_path / "sa"
    write(sa / "token", jwt + "\n")
    write(sa / "ca.crt", CERT_PEM.decode())
    if namespace is not None:
        write(sa / "namespace", namespace)
    return sa


def test_in_cluster(tmp_path: Path) -> None:
    sa = service_account(tmp_path)
    env = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    cfg = kubeconfig.load(service_account_dir=str(sa), environ=env)
    assert cfg.server == "https://10.96.0.1:443"
    assert (cfg.token, cfg.token_file, cfg.ca_file) == ("projected", str(sa / "token"), str(sa / "ca.crt"))
    assert cfg.namespace == "ops" and cfg.source == "in-cluster"
    ipv6 = kubeconfig.load(service_account_dir=str(sa), environ={**env, "KUBERNETES_SERVICE_HOST": "fd00::1"})
    assert ipv6.server == "https://[fd00::1]:443"


def test_in_cluster_yields_to_an_explicit_kubeconfig_or_context(tmp_path: Path) -> None:
    sa = service_account(tmp_path)
    path = write(tmp_path / "config", config({"server": "https://explicit"}))
    env = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443", "KUBECONFIG": str(path)}
    assert kubeconfig.load(str(path), service_account_dir=str(sa), environ=env).server == "https://explicit"
    assert kubeconfig.load(None, "ctx", service_account_dir=str(sa), environ=env).server == "https://explicit"
    assert kubeconfig.load(service_account_dir=str(sa), environ=env).server == "https://10.96.0.1:443"


@pytest.mark.parametrize(
    ("env", "remove", "expected"),
    [
        ({"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, None, "KUBERNETES_SERVICE_PORT must both be set"),
        ({"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}, "token", "cannot read"),
        ({"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}, "ca.crt", "no CA"),
    ],
)
def test_in_cluster_errors(tmp_path: Path, env: dict[str, str], remove: str | None, expected: str) -> None:
    sa = service_account(tmp_path, jwt=CANARY)
    if remove:
        (sa / remove).unlink()
    with pytest.raises(KubeconfigError) as info:
        kubeconfig.load(service_account_dir=str(sa), environ=env)
    assert expected in str(info.value) and "(in-cluster)" in str(info.value)
    assert CANARY not in str(info.value)


def test_kube_load_connection_in_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sa = service_account(tmp_path)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "6443")
    conn = kube.load_connection(service_account_dir=str(sa))
    assert (conn.server, conn.token, conn.token_file) == (
        "https://10.96.0.1:6443",
        "projected",
        str(sa / "token"),
    )
    assert (conn.ca_path, conn.default_namespace) == (str(sa / "ca.crt"), "ops")


# --------------------------------------------------------------------------- errors


def test_missing_explicit_file(tmp_path: Path) -> None:
    message = error(tmp_path / "nope.yaml")
    assert (
        message == f"cannot load Kubernetes client configuration from {tmp_path / 'nope.yaml'}: no such file"
    )


def test_no_kubeconfig_anywhere(tmp_path: Path) -> None:
    assert "no kubeconfig file exists" in error(HOME=str(tmp_path))
    message = error(KUBECONFIG=f"{tmp_path / 'a'}{os.pathsep}{tmp_path / 'b'}")
    assert "KUBECONFIG" in message and str(tmp_path / "a") in message and "KUBERNETES_SERVICE_HOST" in message


def test_no_current_context(tmp_path: Path) -> None:
    message = error(write(tmp_path / "config", config(current=None)))
    assert "no current-context is set; pass --context (contexts: 'ctx')" in message


def test_unknown_context(tmp_path: Path) -> None:
    path = write(tmp_path / "config", config(current="gone"))
    assert "current-context 'gone': no such context (contexts: 'ctx')" in error(path)
    assert "--context 'typo': no such context (contexts: 'ctx')" in error(path, "typo")


def test_undefined_cluster_and_user(tmp_path: Path) -> None:
    doc = config()
    doc["contexts"][0]["context"]["cluster"] = "nowhere"
    assert "context 'ctx': cluster 'nowhere' is not defined" in error(write(tmp_path / "a", doc))
    doc = config()
    doc["contexts"][0]["context"]["user"] = "nobody"
    assert "context 'ctx': user 'nobody' is not defined" in error(write(tmp_path / "b", doc))
    doc = config()
    doc["contexts"][0]["context"].pop("cluster")
    assert "context 'ctx' names no cluster" in error(write(tmp_path / "c", doc))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("clusters: [", "not valid YAML"),
        ("- a\n- b\n", "not a kubeconfig"),
        ("clusters: {c: 1}\n", "clusters is not a list"),
        ("users: [{user: {}}]\n", "users[0] has no name"),
    ],
)
def test_malformed_files(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path / "config", text)
    message = error(path)
    assert (
        message.startswith(f"cannot load Kubernetes client configuration from {path}: ")
        and expected in message
    )


@pytest.mark.parametrize(
    ("cluster", "user", "expected"),
    [
        ({}, None, "cluster 'c' has no server"),
        ({"server": "api.example:6443"}, None, "server must be an http:// or https:// URL"),
        (
            {
                "server": "https://a",
                "certificate-authority": "ca.crt",
                "certificate-authority-data": b64(CERT_PEM),
            },
            None,
            "certificate-authority-data and certificate-authority are both set",
        ),
        (
            {"server": "https://a", "certificate-authority": "missing.crt"},
            None,
            "cannot read certificate-authority",
        ),
        (
            {"server": "https://a", "certificate-authority-data": "!!" + CANARY_B64},
            None,
            "is not valid base64",
        ),
        ({"server": "https://a", "certificate-authority-data": CANARY_B64}, None, "does not hold PEM data"),
        (
            {
                "server": "https://a",
                "insecure-skip-tls-verify": True,
                "certificate-authority-data": b64(CERT_PEM),
            },
            None,
            "insecure-skip-tls-verify with a certificate authority is not allowed",
        ),
        ({"server": "https://a", "insecure-skip-tls-verify": "yes"}, None, "is not true or false"),
        ({"server": "https://a", "proxy-url": "http://proxy:3128"}, None, "proxy-url is not supported"),
        ({"server": "https://a", "tls-server-name": "x"}, None, "tls-server-name is not supported"),
        (None, {"token": CANARY, "username": "u", "password": CANARY}, "more than one authentication method"),
        (None, {"client-certificate-data": b64(CERT_PEM)}, "a client certificate needs its key"),
        (None, {"client-key-data": b64(KEY_PEM)}, "a client certificate needs its key"),
        (
            None,
            {
                "client-certificate-data": b64(CERT_PEM),
                "client-certificate": "x",
                "client-key-data": b64(KEY_PEM),
            },
            "client-certificate-data and client-certificate are both set",
        ),
        (
            None,
            {"client-certificate-data": b64(CERT_PEM), "client-key": "k", "client-key-data": b64(KEY_PEM)},
            "client-key-data and client-key are both set",
        ),
        (
            None,
            {"client-certificate-data": b64(CERT_PEM), "client-key-data": CANARY},
            "client-key-data is not valid",
        ),
        (
            None,
            {"client-certificate": "nope.crt", "client-key": "nope.key"},
            "cannot read client-certificate",
        ),
        (None, {"tokenFile": "missing-token"}, "cannot read tokenFile"),
        (
            None,
            {"auth-provider": {"name": "oidc", "config": {"id-token": CANARY}}},
            "auth-provider plugins are not",
        ),
        (None, {"token": CANARY, "as": "admin"}, "impersonation (as) is not supported"),
        (None, {"token": CANARY, "as-groups": ["system:masters"]}, "impersonation (as-groups)"),
        (None, {"token": 123}, "user 'u': token is not a string"),
    ],
)
def test_invalid_fields(
    tmp_path: Path, cluster: dict[str, Any] | None, user: dict[str, Any] | None, expected: str
) -> None:
    path = write(tmp_path / "config", config(cluster, user))
    message = error(path)
    assert message.startswith(f"cannot load Kubernetes client configuration from {path}: ")
    assert expected in message


def test_kube_load_connection_errors_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot load Kubernetes client configuration"):
        kube.load_connection(str(tmp_path / "missing"))


# --------------------------------------------------------------------------- TLS material reaches ssl


def test_certificate_data_loads_into_the_tls_context(tmp_path: Path) -> None:
    cluster = {"server": "https://a", "certificate-authority-data": b64(CERT_PEM)}
    user = {"client-certificate-data": b64(CERT_PEM), "client-key-data": b64(KEY_PEM)}
    conn = kube.load_connection(str(write(tmp_path / "config", config(cluster, user))))
    assert (conn.ca_data, conn.certificate_data, conn.private_key_data) == (CERT_PEM, CERT_PEM, KEY_PEM)
    ctx = kube.ssl_context(conn)
    assert isinstance(ctx, ssl.SSLContext) and ctx.verify_mode == ssl.CERT_REQUIRED
    assert len(ctx.get_ca_certs()) == 1


def test_a_key_that_does_not_match_its_certificate_is_one_clear_line(tmp_path: Path) -> None:
    user = {"client-certificate-data": b64(CERT_PEM), "client-key-data": b64(OTHER_KEY_PEM)}
    path = write(tmp_path / "config", config(user=user))
    with pytest.raises(UsageError) as info:
        kube.load_connection(str(path))
    message = str(info.value)
    assert "the client certificate and key cannot be loaded" in message and str(path) in message
    assert "PRIVATE KEY" not in message and b64(OTHER_KEY_PEM)[:40] not in message


def test_no_writable_temporary_directory_is_not_called_a_bad_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Certificate data goes through a private temporary directory: a read-only /tmp says so."""
    import errno
    import tempfile

    def read_only(*_: Any, **__: Any) -> Any:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(tempfile, "TemporaryDirectory", read_only)
    user = {"client-certificate-data": b64(CERT_PEM), "client-key-data": b64(KEY_PEM)}
    with pytest.raises(UsageError) as info:
        kube.load_connection(str(write(tmp_path / "config", config(user=user))))
    message = str(info.value)
    assert "the client certificate and key cannot be read: Read-only file system" in message
    assert "does not match" not in message


def test_certificate_files_load_into_the_tls_context(tmp_path: Path) -> None:
    write(tmp_path / "tls.crt", CERT_PEM.decode())
    write(tmp_path / "tls.key", KEY_PEM.decode())
    user = {"client-certificate": "tls.crt", "client-key": "tls.key"}
    conn = kube.load_connection(str(write(tmp_path / "config", config(user=user))))
    assert conn.certificate_path == str(tmp_path / "tls.crt") and conn.has_client_certificate
    kube.ssl_context(conn)


# --------------------------------------------------------------------------- exec plugins


def test_exec_v1_token_with_env_args_and_exec_info(tmp_path: Path) -> None:
    seen = tmp_path / "seen.json"
    body = (
        "info = json.loads(os.environ['KUBERNETES_EXEC_INFO'])\n"
        f"json.dump({{'info': info, 'env': os.environ.get('PLUGIN_VAR'), 'args': sys.argv[1:],"
        f" 'stdin': sys.stdin.read()}}, open({str(seen)!r}, 'w'))\n"
        f"print({credential(token=CANARY)!r})"
    )
    (tmp_path / "bin").mkdir()
    plugin(tmp_path / "bin" / "plugin", body)
    user = exec_user(
        "bin/plugin",
        args=["--flag", "x"],
        env=[{"name": "PLUGIN_VAR", "value": "v"}],
        provideClusterInfo=True,
    )
    cluster = {"server": "https://a", "certificate-authority-data": b64(CERT_PEM)}
    cfg = load(write(tmp_path / "config", config(cluster, user)))
    assert cfg.token == CANARY and cfg.token_file is None
    got = json.loads(seen.read_text())
    assert got["env"] == "v" and got["args"] == ["--flag", "x"] and got["stdin"] == ""
    assert got["info"]["apiVersion"] == "client.authentication.k8s.io/v1"
    assert got["info"]["kind"] == "ExecCredential" and got["info"]["spec"]["interactive"] is False
    assert got["info"]["spec"]["cluster"]["server"] == "https://a"
    assert got["info"]["spec"]["cluster"]["certificate-authority-data"] == b64(CERT_PEM)


def test_the_operator_refuses_an_exec_credential_it_could_not_refresh(tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    command = plugin(
        tmp_path / "plugin", f"open({str(ran)!r}, 'w').write('x')\nprint({credential(token=CANARY)!r})"
    )
    path = write(tmp_path / "config", config(user=exec_user(command)))
    with pytest.raises(UsageError) as info:
        kube.load_connection(str(path), allow_exec=False)
    assert "exec plugin" in str(info.value) and "ServiceAccount" in str(info.value)
    assert not ran.exists()  # refused before the plugin runs
    assert kube.load_connection(str(path)).token == CANARY  # the CLI still uses it


def test_exec_v1beta1_client_certificate(tmp_path: Path) -> None:
    api = "client.authentication.k8s.io/v1beta1"
    out = credential(api, clientCertificateData=CERT_PEM.decode(), clientKeyData=KEY_PEM.decode())
    command = plugin(tmp_path / "plugin", f"print({out!r})")
    conn = kube.load_connection(str(write(tmp_path / "config", config(user=exec_user(command, api)))))
    assert (conn.certificate_data, conn.private_key_data, conn.token) == (CERT_PEM, KEY_PEM, None)
    kube.ssl_context(conn)


def test_exec_is_found_in_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bin").mkdir()
    plugin(tmp_path / "bin" / "my-auth-plugin", f"print({credential(token='from-path')!r})")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    assert load(write(tmp_path / "config", config(user=exec_user("my-auth-plugin")))).token == "from-path"


def test_a_static_token_wins_over_exec(tmp_path: Path) -> None:
    user = {"token": "static", **exec_user(tmp_path / "never-run")}
    assert load(write(tmp_path / "config", config(user=user))).token == "static"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (f"sys.stderr.write({CANARY!r}); print({CANARY!r}); sys.exit(3)", "failed with exit code 3"),
        (f"print('not json ' + {CANARY!r})", "did not print an ExecCredential (not JSON)"),
        (f"print(json.dumps({{'kind': 'Other', 'token': {CANARY!r}}}))", "did not print an ExecCredential"),
        (
            f"print({credential('client.authentication.k8s.io/v1beta1', token=CANARY)!r})",
            "answered with apiVersion 'client.authentication.k8s.io/v1beta1'",
        ),
        (
            "print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1', 'kind': 'ExecCredential'}))",
            "no status",
        ),
        (f"print({credential()!r})", "neither a token nor a client certificate and key"),
        (
            f"print({credential(clientKeyData=CANARY)!r})",
            "only one of clientCertificateData and clientKeyData",
        ),
        ("import time; time.sleep(30)", "did not finish within 0.5 s"),
    ],
)
def test_exec_errors_never_show_the_plugins_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, expected: str
) -> None:
    monkeypatch.setattr(kubeconfig, "EXEC_TIMEOUT", 0.5)
    command = plugin(tmp_path / "plugin", body)
    path = write(tmp_path / "config", config(user=exec_user(command)))
    message = error(path)
    assert message.startswith(f"cannot load Kubernetes client configuration from {path}: user 'u': ")
    assert expected in message


@pytest.mark.parametrize(
    ("exec_config", "expected"),
    [
        (
            {"apiVersion": "client.authentication.k8s.io/v1alpha1", "command": "x"},
            "apiVersion 'client.authentication",
        ),
        ({"command": "x"}, "exec apiVersion (none) is not supported"),
        ({"apiVersion": "client.authentication.k8s.io/v1"}, "exec has no command"),
        (
            {"apiVersion": "client.authentication.k8s.io/v1", "command": "x", "interactiveMode": "Always"},
            "needs a terminal",
        ),
        (
            {
                "apiVersion": "client.authentication.k8s.io/v1",
                "command": "no-such-plugin-here",
                "installHint": "brew it",
            },
            "exec plugin 'no-such-plugin-here' not found (brew it)",
        ),
        (
            {"apiVersion": "client.authentication.k8s.io/v1", "command": "x", "env": [{"value": CANARY}]},
            "env[0] has no name",
        ),
    ],
)
def test_exec_configuration_errors(tmp_path: Path, exec_config: dict[str, Any], expected: str) -> None:
    assert expected in error(
        write(tmp_path / "config", config(user={"exec": exec_config})), PATH=str(tmp_path)
    )


def test_error_messages_name_no_secret_anywhere(tmp_path: Path) -> None:
    """Every failing kubeconfig above, with canary credentials in all the secret fields."""
    secrets = {
        "token": CANARY,
        "password": CANARY,
        "client-certificate-data": CANARY_B64,
        "client-key-data": CANARY_B64,
    }
    path = write(
        tmp_path / "config",
        config({"server": "https://a", "certificate-authority-data": CANARY_B64}, secrets),
    )
    error(path)
    with pytest.raises(UsageError) as info:
        kube.load_connection(str(path))
    assert CANARY not in str(info.value) and CANARY_B64 not in str(info.value)
