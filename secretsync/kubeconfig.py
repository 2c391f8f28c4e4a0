"""The Kubernetes client configuration, read as client-go reads it, without the ``kubernetes`` package.

:func:`load` turns ``--kubeconfig``/``--context``, ``KUBECONFIG``, ``~/.kube/config`` or a pod's
service account into one :class:`ClientConfig`: where the API server is and how to authenticate.
:mod:`secretsync.kube` makes its :class:`~secretsync.kube.Connection` of it. The rules are
client-go's (k8s.io/client-go tools/clientcmd: loader.go, client_config.go, validation.go;
rest.InClusterConfig; plugin/pkg/client/auth/exec):

- ``--kubeconfig`` names the one file read (it must exist). Otherwise every file of ``KUBECONFIG``
  (``os.pathsep``-separated, duplicates dropped, missing files skipped) is merged: a cluster, user
  or context name takes the entry of the first file that defines it (later files' entries of that
  name are ignored whole), and ``current-context`` comes from the first file that sets one.
  Without ``KUBECONFIG``: ``~/.kube/config``.
- Relative ``certificate-authority``, ``client-certificate``, ``client-key``, ``tokenFile`` and an
  ``exec`` command with a path separator are relative to the file that defined their entry.
- ``*-data`` and the file of the same thing are not both allowed, nor a token with a username and
  password, nor ``insecure-skip-tls-verify`` with a CA (client-go's validation and transport).
- ``exec`` (``client.authentication.k8s.io/v1`` and ``v1beta1``): the plugin runs once, here,
  non-interactively and within :data:`EXEC_TIMEOUT`; its ExecCredential gives a token or a client
  certificate and key. Its output (stdout and stderr) is never logged nor put in a message.
- ``auth-provider`` (gcp, azure, oidc: removed from client-go or deprecated), impersonation,
  ``proxy-url`` and ``tls-server-name`` are refused with an error naming the field: ignoring them
  would connect with another identity, route or server name than the kubeconfig asks for.

Error messages name files, fields and entries, never a value that could be a credential (tokens,
passwords, keys, certificate data, the plugin's output).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from typing import Any, Final

from secretsync import safeload
from secretsync.errors import InputError, UsageError

#: Where a pod's service account (token, CA, namespace) is mounted.
SERVICE_ACCOUNT_DIR: Final = "/var/run/secrets/kubernetes.io/serviceaccount"
#: The longest an ``exec`` credential plugin may run before it is killed and loading fails.
EXEC_TIMEOUT: Final = 60.0
EXEC_API_VERSIONS: Final = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
#: Fields secretsync does not implement: refused rather than ignored (see the module docstring).
_UNSUPPORTED_USER: Final = {
    "auth-provider": "auth-provider plugins are not supported (client-go removed gcp and azure); use "
    "an exec plugin (e.g. gke-gcloud-auth-plugin, kubelogin) or a token",
    "as": "impersonation (as) is not supported",
    "as-uid": "impersonation (as-uid) is not supported",
    "as-groups": "impersonation (as-groups) is not supported",
    "as-user-extra": "impersonation (as-user-extra) is not supported",
}
_UNSUPPORTED_CLUSTER: Final = {
    "proxy-url": "proxy-url is not supported",
    "tls-server-name": "tls-server-name is not supported",
}


_IN_CLUSTER: Final = "cannot load Kubernetes client configuration (in-cluster)"


class KubeconfigError(UsageError):
    """The client configuration cannot be loaded; the message says where and why, never a secret."""


@dataclasses.dataclass(frozen=True)
class ClientConfig:
    """Where the API server is and how to authenticate. ``*_data`` are PEM bytes (a kubeconfig's
    ``*-data`` decoded, or an exec plugin's), the paths absolute or as written."""

    server: str
    ca_file: str | None = None
    ca_data: bytes | None = dataclasses.field(default=None, repr=False)
    insecure: bool = False
    token: str | None = dataclasses.field(default=None, repr=False)
    token_file: str | None = None
    username: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)
    cert_file: str | None = None
    cert_data: bytes | None = dataclasses.field(default=None, repr=False)
    key_file: str | None = None
    key_data: bytes | None = dataclasses.field(default=None, repr=False)
    namespace: str | None = None
    source: str = ""  # what it was loaded from, for messages: a path, or "in-cluster"


def in_cluster(environ: Mapping[str, str] | None = None) -> bool:
    """Running in a pod: the kubelet sets ``KUBERNETES_SERVICE_HOST`` in every container."""
    return bool((os.environ if environ is None else environ).get("KUBERNETES_SERVICE_HOST"))


def load(
    kubeconfig: str | None = None,
    context: str | None = None,
    *,
    service_account_dir: str | None = None,
    environ: Mapping[str, str] | None = None,
    allow_exec: bool = True,
) -> ClientConfig:
    """The configuration in kubectl users' order: an explicit ``kubeconfig`` or ``context`` wins;
    otherwise the in-cluster service account when running in a pod; otherwise ``KUBECONFIG`` or
    ``~/.kube/config``. Raises :class:`KubeconfigError`."""
    environ = os.environ if environ is None else environ
    if kubeconfig is None and context is None and in_cluster(environ):
        return load_in_cluster(service_account_dir or SERVICE_ACCOUNT_DIR, environ)
    return load_kubeconfig(kubeconfig, context, environ, allow_exec=allow_exec)


# --------------------------------------------------------------------------- in-cluster


def load_in_cluster(
    sa_dir: str = SERVICE_ACCOUNT_DIR, environ: Mapping[str, str] | None = None
) -> ClientConfig:
    """rest.InClusterConfig: the API server from ``KUBERNETES_SERVICE_HOST``/``_PORT``, the service
    account's token (kept as a file to re-read as the kubelet rotates it) and CA, and its namespace."""
    environ = os.environ if environ is None else environ
    host, port = environ.get("KUBERNETES_SERVICE_HOST", ""), environ.get("KUBERNETES_SERVICE_PORT", "")
    if not host or not port:
        raise KubeconfigError(
            f"{_IN_CLUSTER}: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must both be set"
        )
    token_file = os.path.join(sa_dir, "token")
    ca_file = os.path.join(sa_dir, "ca.crt")
    token = _read_text(token_file, "the service account token")
    if not token:
        raise KubeconfigError(f"{_IN_CLUSTER}: the token file {token_file} is empty")
    if not os.path.isfile(ca_file):
        raise KubeconfigError(f"{_IN_CLUSTER}: no CA certificate at {ca_file}")
    namespace = None
    ns_file = os.path.join(sa_dir, "namespace")
    if os.path.exists(ns_file):
        namespace = _read_text(ns_file, "the service account namespace") or None
    server_host = f"[{host}]" if ":" in host else host  # net.JoinHostPort
    return ClientConfig(
        server=f"https://{server_host}:{port}",
        ca_file=ca_file,
        token=token,
        token_file=token_file,
        namespace=namespace,
        source="in-cluster",
    )


# --------------------------------------------------------------------------- kubeconfig files


@dataclasses.dataclass
class _Merged:
    """Named entries (first definition wins), each with the file that defined it."""

    clusters: dict[str, tuple[Mapping[str, Any], str]] = dataclasses.field(default_factory=dict)
    users: dict[str, tuple[Mapping[str, Any], str]] = dataclasses.field(default_factory=dict)
    contexts: dict[str, tuple[Mapping[str, Any], str]] = dataclasses.field(default_factory=dict)
    current_context: str | None = None
    files: list[str] = dataclasses.field(default_factory=list)


def kubeconfig_paths(kubeconfig: str | None, environ: Mapping[str, str]) -> tuple[list[str], bool]:
    """(the files to read, whether they were named explicitly: then each must exist)."""
    if kubeconfig:
        return [os.path.expanduser(kubeconfig)], True
    listed = [p for p in environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    if listed:
        return [os.path.expanduser(p) for p in dict.fromkeys(listed)], False
    home = environ.get("HOME") or os.path.expanduser("~")
    return [os.path.join(home, ".kube", "config")], False


def read_kubeconfigs(kubeconfig: str | None = None, environ: Mapping[str, str] | None = None) -> _Merged:
    """Read and merge the kubeconfig files (loader.go ``Load``)."""
    environ = os.environ if environ is None else environ
    paths, explicit = kubeconfig_paths(kubeconfig, environ)
    merged = _Merged()
    for path in paths:
        if not os.path.exists(path):
            if explicit:
                raise KubeconfigError(
                    f"cannot load Kubernetes client configuration from {path}: no such file"
                )
            continue
        _merge(merged, _read_file(path), path)
    if not merged.files:
        where = "KUBECONFIG (" + os.pathsep.join(paths) + ")" if "KUBECONFIG" in environ else paths[0]
        raise KubeconfigError(
            f"cannot load Kubernetes client configuration from {where}: no kubeconfig file exists, and "
            "this is not a pod (KUBERNETES_SERVICE_HOST is not set); pass --kubeconfig"
        )
    return merged


def _read_file(path: str) -> Mapping[str, Any]:
    try:
        with open(path, "rb") as fh:
            data = fh.read(safeload.CLI.max_bytes + 1)
    except OSError as exc:
        raise KubeconfigError(
            f"cannot load Kubernetes client configuration from {path}: {exc.strerror}"
        ) from None
    if not data.strip():
        return {}  # an empty file is an empty config (loader.go)
    try:
        docs, _ = safeload.load_documents(data)
    except InputError as exc:  # a position and the problem, never a fragment of the file
        raise KubeconfigError(f"cannot load Kubernetes client configuration from {path}: {exc}") from None
    doc = docs[0] if docs else None
    if doc is None:
        return {}
    if not isinstance(doc, Mapping):
        raise KubeconfigError(f"cannot load Kubernetes client configuration from {path}: not a kubeconfig")
    return doc


def _merge(merged: _Merged, config: Mapping[str, Any], path: str) -> None:
    merged.files.append(path)
    for key, body_key, target in (
        ("clusters", "cluster", merged.clusters),
        ("users", "user", merged.users),
        ("contexts", "context", merged.contexts),
    ):
        entries = config.get(key)
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise _invalid(path, f"{key} is not a list")
        for i, entry in enumerate(entries):
            if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str) or not entry["name"]:
                raise _invalid(path, f"{key}[{i}] has no name")
            body = entry.get(body_key)
            if body is None:
                body = {}
            if not isinstance(body, Mapping):
                raise _invalid(path, f"{key}[{i}] ({_shown(entry['name'])}): {body_key} is not a mapping")
            target.setdefault(entry["name"], (body, path))  # the first file to define a name wins
    current = config.get("current-context")
    if merged.current_context is None and isinstance(current, str) and current:
        merged.current_context = current


def _invalid(path: str, problem: str) -> KubeconfigError:
    return KubeconfigError(f"cannot load Kubernetes client configuration from {path}: {problem}")


def _shown(name: str) -> str:
    return repr(name) if len(name) <= 100 and name.isprintable() else "(unprintable)"


def load_kubeconfig(
    kubeconfig: str | None = None,
    context: str | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    allow_exec: bool = True,
) -> ClientConfig:
    """The chosen context's cluster and user, from the merged kubeconfig files. ``allow_exec``
    False (the operator, which runs for weeks): an exec plugin's credential, fetched once and
    never refreshed, is refused with what to use instead."""
    environ = os.environ if environ is None else environ
    merged = read_kubeconfigs(kubeconfig, environ)
    where = (
        merged.files[0] if len(merged.files) == 1 else "KUBECONFIG (" + os.pathsep.join(merged.files) + ")"
    )

    def fail(problem: str) -> KubeconfigError:
        return KubeconfigError(f"cannot load Kubernetes client configuration from {where}: {problem}")

    known = ", ".join(_shown(name) for name in sorted(merged.contexts)) or "none"
    name = context or merged.current_context
    if not name:
        raise fail(f"no current-context is set; pass --context (contexts: {known})")
    if name not in merged.contexts:
        what = "--context" if context else "current-context"
        raise fail(f"{what} {_shown(name)}: no such context (contexts: {known})")
    ctx, _ = merged.contexts[name]
    cluster_name, user_name, namespace = ctx.get("cluster"), ctx.get("user"), ctx.get("namespace")
    if not isinstance(cluster_name, str) or not cluster_name:
        raise fail(f"context {_shown(name)} names no cluster")
    if cluster_name not in merged.clusters:
        raise fail(f"context {_shown(name)}: cluster {_shown(cluster_name)} is not defined")
    user: Mapping[str, Any] = {}
    user_origin = ""
    if user_name not in (None, ""):
        if not isinstance(user_name, str) or user_name not in merged.users:
            raise fail(f"context {_shown(name)}: user {_shown(str(user_name))} is not defined")
        user, user_origin = merged.users[user_name]
    cluster, cluster_origin = merged.clusters[cluster_name]
    if namespace is not None and not isinstance(namespace, str):
        raise fail(f"context {_shown(name)}: namespace is not a string")

    server, ca_file, ca_data, insecure = _cluster(cluster, cluster_origin, _shown(cluster_name), fail)
    creds = _user(user, user_origin, _shown(str(user_name)), fail)
    if creds.get("exec") is not None and not allow_exec:
        raise fail(
            f"user {_shown(str(user_name))} gets its credential from an exec plugin, which expires and "
            "is not refreshed by a long-running operator; run it in the cluster as its ServiceAccount, "
            "or give it a context with a token, tokenFile or client certificate"
        )
    if creds.get("exec") is not None:
        try:
            exec_creds = run_exec(
                creds.pop("exec"),
                server,
                ca_data or _read_bytes(ca_file),
                insecure,
                f"user {_shown(str(user_name))}",
            )
        except KubeconfigError as exc:
            raise fail(str(exc)) from None
        for key, value in exec_creds.items():
            creds.setdefault(key, value)
        if creds.get("cert_file") and exec_creds.get("cert_data"):
            creds.pop("cert_data", None)  # the kubeconfig's own certificate wins (both are the pair's)
            creds.pop("key_data", None)
    return ClientConfig(
        server=server,
        ca_file=ca_file,
        ca_data=ca_data,
        insecure=insecure,
        namespace=namespace or None,
        source=where,
        **creds,
    )


def _resolve(path: str, origin: str) -> str:
    """A path in a kubeconfig, relative to the file that holds it (loader.go ResolveLocalPaths)."""
    path = os.path.expanduser(path)
    return (
        path
        if os.path.isabs(path)
        else os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(origin)), path))
    )


def _string(body: Mapping[str, Any], field: str, what: str, fail: Any) -> str | None:
    value = body.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise fail(f"{what}: {field} is not a string")
    return value


def _pem(body: Mapping[str, Any], field: str, what: str, fail: Any) -> bytes | None:
    """A ``*-data`` field: base64 of PEM. The message never quotes the value."""
    value = _string(body, field, what, fail)
    if value is None:
        return None
    try:
        data = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise fail(f"{what}: {field} is not valid base64") from None
    if b"-----BEGIN " not in data:
        raise fail(f"{what}: {field} does not hold PEM data")
    return data


def _readable(path: str, field: str, what: str, fail: Any) -> str:
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise fail(f"{what}: cannot read {field} {path}: {exc.strerror}") from None
    return path


def _cluster(
    cluster: Mapping[str, Any], origin: str, name: str, fail: Any
) -> tuple[str, str | None, bytes | None, bool]:
    what = f"cluster {name}"
    for field, why in _UNSUPPORTED_CLUSTER.items():
        if cluster.get(field):
            raise fail(f"{what}: {why}")
    server = _string(cluster, "server", what, fail)
    if not server:
        raise fail(f"{what} has no server")
    if not server.startswith(("https://", "http://")):
        raise fail(f"{what}: server must be an http:// or https:// URL")
    ca_path = _string(cluster, "certificate-authority", what, fail)
    ca_data = _pem(cluster, "certificate-authority-data", what, fail)
    if ca_path and ca_data:
        raise fail(f"{what}: certificate-authority-data and certificate-authority are both set")
    ca_file = _readable(_resolve(ca_path, origin), "certificate-authority", what, fail) if ca_path else None
    insecure = cluster.get("insecure-skip-tls-verify", False)
    if not isinstance(insecure, bool):
        raise fail(f"{what}: insecure-skip-tls-verify is not true or false")
    if insecure and (ca_file or ca_data) and server.startswith("https"):
        raise fail(
            f"{what}: insecure-skip-tls-verify with a certificate authority is not allowed "
            "(client-go refuses it too)"
        )
    return server.rstrip("/"), ca_file, ca_data, insecure


def _user(user: Mapping[str, Any], origin: str, name: str, fail: Any) -> dict[str, Any]:
    """The user's credentials as :class:`ClientConfig` fields (``exec``: its config, to run)."""
    what = f"user {name}"
    for field, why in _UNSUPPORTED_USER.items():
        if user.get(field):
            raise fail(f"{what}: {why}")
    creds: dict[str, Any] = {}
    token = _string(user, "token", what, fail)
    token_path = _string(user, "tokenFile", what, fail)
    username = _string(user, "username", what, fail)
    password = _string(user, "password", what, fail)
    if token and (username or password):
        raise fail(f"{what}: more than one authentication method (token and username/password)")
    if token_path:
        creds["token_file"] = _resolve(token_path, origin)
        # client-go: the file wins over an inline token, which stays as the fallback while the
        # file cannot be read; without an inline token the file must be readable now.
        read = _read_optional(creds["token_file"])
        if read is None and not token:
            raise fail(f"{what}: cannot read tokenFile {creds['token_file']}")
        token = read or token
    if token:
        creds["token"] = token
    if username or password:
        creds["username"], creds["password"] = username, password
    cert_path = _string(user, "client-certificate", what, fail)
    cert_data = _pem(user, "client-certificate-data", what, fail)
    key_path = _string(user, "client-key", what, fail)
    key_data = _pem(user, "client-key-data", what, fail)
    if cert_path and cert_data:
        raise fail(f"{what}: client-certificate-data and client-certificate are both set")
    if key_path and key_data:
        raise fail(f"{what}: client-key-data and client-key are both set")
    if bool(cert_path or cert_data) != bool(key_path or key_data):
        raise fail(f"{what}: a client certificate needs its key and a key its certificate")
    if cert_path:
        creds["cert_file"] = _readable(_resolve(cert_path, origin), "client-certificate", what, fail)
    if key_path:
        creds["key_file"] = _readable(_resolve(key_path, origin), "client-key", what, fail)
    if cert_data:
        creds["cert_data"], creds["key_data"] = cert_data, key_data
    exec_config = user.get("exec")
    if exec_config is not None and not (token or token_path):
        if not isinstance(exec_config, Mapping):
            raise fail(f"{what}: exec is not a mapping")
        creds["exec"] = _exec_config(exec_config, origin, what, fail)
    return creds


def _read_optional(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def _read_text(path: str, what: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip()
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise KubeconfigError(f"{_IN_CLUSTER}: cannot read {what} {path}: {why}") from None


def _read_bytes(path: str | None) -> bytes | None:
    if not path:
        return None
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


# --------------------------------------------------------------------------- exec plugins


@dataclasses.dataclass(frozen=True)
class ExecConfig:
    command: str
    args: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    api_version: str
    install_hint: str | None
    provide_cluster_info: bool
    cluster_config: Any = None  # the cluster's extension client.authentication.k8s.io/exec


def _exec_config(body: Mapping[str, Any], origin: str, what: str, fail: Any) -> ExecConfig:
    command = _string(body, "command", f"{what} exec", fail)
    if not command:
        raise fail(f"{what}: exec has no command")
    api_version = _string(body, "apiVersion", f"{what} exec", fail)
    if api_version not in EXEC_API_VERSIONS:
        shown = _shown(api_version) if api_version else "(none)"
        raise fail(
            f"{what}: exec apiVersion {shown} is not supported; use one of {', '.join(EXEC_API_VERSIONS)}"
        )
    if body.get("interactiveMode") == "Always":
        raise fail(
            f"{what}: the exec plugin needs a terminal (interactiveMode: Always); secretsync runs none"
        )
    args = body.get("args") or []
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise fail(f"{what}: exec args is not a list of strings")
    env: list[tuple[str, str]] = []
    for i, item in enumerate(body.get("env") or []):
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str) or not item["name"]:
            raise fail(f"{what}: exec env[{i}] has no name")
        value = item.get("value", "")
        env.append((item["name"], value if isinstance(value, str) else str(value)))
    if os.sep in command:  # only a path is resolved; a bare name is looked up in PATH
        command = _resolve(command, origin)
    hint = body.get("installHint")
    return ExecConfig(
        command=command,
        args=tuple(args),
        env=tuple(env),
        api_version=api_version,
        install_hint=hint if isinstance(hint, str) and hint else None,
        provide_cluster_info=bool(body.get("provideClusterInfo")),
    )


def run_exec(
    config: ExecConfig,
    server: str,
    ca_data: bytes | None,
    insecure: bool,
    what: str,
    *,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Run the credential plugin once: ``token``, or ``cert_data`` and ``key_data``. Its stdout is
    parsed and dropped, its stderr dropped unread: neither reaches a log or a message."""
    timeout = EXEC_TIMEOUT if timeout is None else timeout
    name = os.path.basename(config.command)
    cred_input: dict[str, Any] = {
        "apiVersion": config.api_version,
        "kind": "ExecCredential",
        "spec": {"interactive": False},
    }
    if config.provide_cluster_info:
        cluster: dict[str, Any] = {"server": server, "insecure-skip-tls-verify": insecure}
        if ca_data:
            cluster["certificate-authority-data"] = base64.b64encode(ca_data).decode("ascii")
        cred_input["spec"]["cluster"] = cluster
    env = dict(os.environ)
    env.update(config.env)
    env["KUBERNETES_EXEC_INFO"] = json.dumps(cred_input)
    executable = (
        config.command if os.sep in config.command else shutil.which(config.command, path=env.get("PATH"))
    )
    hint = f" ({config.install_hint.strip()})" if config.install_hint else ""
    if executable is None or not os.path.exists(executable):
        raise KubeconfigError(f"{what}: exec plugin {_shown(config.command)} not found{hint}")
    try:
        done = subprocess.run(  # the kubeconfig's own command, as kubectl runs it
            [executable, *config.args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=env,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise KubeconfigError(
            f"{what}: exec plugin {_shown(name)} did not finish within {timeout:g} s"
        ) from None
    except OSError as exc:
        raise KubeconfigError(
            f"{what}: cannot run exec plugin {_shown(name)}: {exc.strerror}{hint}"
        ) from None
    if done.returncode != 0:
        raise KubeconfigError(
            f"{what}: exec plugin {_shown(name)} failed with exit code {done.returncode} "
            "(its output is not shown: it may hold credentials)"
        )
    return _exec_credential(done.stdout, config.api_version, f"{what}: exec plugin {_shown(name)}")


def _exec_credential(stdout: bytes, api_version: str, who: str) -> dict[str, Any]:
    try:
        cred = json.loads(stdout)
    except (ValueError, UnicodeDecodeError):
        raise KubeconfigError(f"{who} did not print an ExecCredential (not JSON)") from None
    if not isinstance(cred, dict) or cred.get("kind") != "ExecCredential":
        raise KubeconfigError(f"{who} did not print an ExecCredential")
    if cred.get("apiVersion") != api_version:
        got = cred.get("apiVersion")
        shown = _shown(got) if isinstance(got, str) else "(none)"
        raise KubeconfigError(
            f"{who} answered with apiVersion {shown}; the kubeconfig asks for {api_version}"
        )
    status = cred.get("status")
    if not isinstance(status, dict):
        raise KubeconfigError(f"{who} returned no status")
    token, cert, key = (status.get(k) for k in ("token", "clientCertificateData", "clientKeyData"))
    if not all(v is None or isinstance(v, str) for v in (token, cert, key)):
        raise KubeconfigError(f"{who}: status.token, clientCertificateData and clientKeyData must be strings")
    if not token and not cert and not key:
        raise KubeconfigError(f"{who} returned neither a token nor a client certificate and key")
    if bool(cert) != bool(key):
        raise KubeconfigError(f"{who} returned only one of clientCertificateData and clientKeyData")
    creds: dict[str, Any] = {}
    if token:
        creds["token"] = token
    if cert and key:
        creds["cert_data"], creds["key_data"] = cert.encode(), key.encode()
    return creds
