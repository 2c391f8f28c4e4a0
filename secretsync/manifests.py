"""Reading and writing Kubernetes manifests for the CLI: YAML or JSON, multi-document, atomically.

Error messages here quote positions and problems, never file content: a
parser's context snippet could hold a secret value, so it is dropped and any
quoted fragment of the parser's message is masked. Parsing goes through the
bounded reader in :mod:`secretsync.safeload` (sizes, depth, aliases and
duplicate keys), with the budgets of :mod:`secretsync.limits`.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

import yaml

from secretsync import limits, safeload
from secretsync.errors import InputError

Format = safeload.Format
Manifest = dict[str, Any]

STDIN: Final = "-"
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


# --------------------------------------------------------------------------- reading


def read_bytes(location: str, what: str = "input", limit: int = limits.CLI_MAX_INPUT_BYTES) -> bytes:
    """The bytes of a file path, or of stdin for ``-``; InputError naming the path if unreadable
    or larger than ``limit`` (read no further than that: stdin may never end)."""
    if location == STDIN:
        data = sys.stdin.buffer.read(limit + 1)
        location = "stdin"
    else:
        try:
            with open(location, "rb") as handle:
                data = handle.read(limit + 1)
        except OSError as exc:
            raise InputError(f"cannot read {what} {location}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise InputError(f"{what} {location} is larger than {safeload.size_text(limit)}")
    return data


def read_location(location: str, what: str = "certificate", timeout: float = 15.0) -> bytes:
    """A path, ``file://`` URL or ``http(s)://`` URL. urllib is imported only for URLs."""
    if location.startswith("file://"):
        from urllib.parse import unquote, urlparse

        return read_bytes(unquote(urlparse(location).path), what)
    if location.startswith(("http://", "https://")):
        import urllib.error
        import urllib.request

        limit = limits.CLI_MAX_INPUT_BYTES
        try:
            with urllib.request.urlopen(location, timeout=timeout) as response:  # noqa: S310 (scheme checked)
                body: bytes = response.read(limit + 1)
        except urllib.error.HTTPError as exc:
            raise InputError(f"cannot fetch {what} {location}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise InputError(f"cannot fetch {what} {location}: {reason}") from None
        if len(body) > limit:
            raise InputError(f"{what} {location} is larger than {safeload.size_text(limit)}")
        return body
    if "://" in location:
        raise InputError(f"cannot read {what} {location}: only file://, http:// and https:// URLs")
    return read_bytes(location, what)


def detect_format(text: str) -> Format:
    """JSON if the first non-blank character opens a JSON object or array, else YAML."""
    return safeload.detect_format(text)


def parse_documents(
    data: bytes | str, source: str, budget: safeload.Budget = safeload.CLI
) -> tuple[list[Any], Format]:
    """Every document in ``data`` (empty YAML documents dropped) and the format they were in.

    JSON may be one value or several concatenated (kubeseal's JSON output). The bounded
    parser (:mod:`secretsync.safeload`) refuses oversized, over-deep or alias-amplified
    input and duplicate keys with one line naming ``source``, a position and the problem.
    """
    try:
        docs, fmt = safeload.load_documents(data, budget)
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from None
    if fmt == "yaml":
        docs = [doc for doc in docs if doc is not None]
    return docs, fmt


def flatten_lists(docs: Iterable[Any], source: str) -> list[tuple[str, Any]]:
    """Documents with ``v1`` ``List`` items spliced in, each with a position for messages."""
    out: list[tuple[str, Any]] = []
    for index, doc in enumerate(docs, 1):
        if isinstance(doc, list):  # a bare JSON array of objects
            out.extend((f"{source} document {index} item {i}", item) for i, item in enumerate(doc, 1))
        elif isinstance(doc, Mapping) and doc.get("kind") == "List":
            items = doc.get("items") or []
            if not isinstance(items, list):
                raise InputError(f"{source} document {index}: List items must be a list")
            out.extend((f"{source} document {index} item {i}", item) for i, item in enumerate(items, 1))
        else:
            out.append((f"{source} document {index}", doc))
    return out


def load_objects(data: bytes | str, source: str) -> tuple[list[tuple[str, Any]], Format]:
    """Parse and flatten: the usual way the CLI reads its input."""
    docs, fmt = parse_documents(data, source)
    return flatten_lists(docs, source), fmt


# --------------------------------------------------------------------------- writing


def format_for_path(path: str) -> Format | None:
    """The format a file name asks for: ``.json`` -> JSON, ``.yaml``/``.yml`` -> YAML, else None."""
    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    return None


def dump_documents(docs: list[Manifest], fmt: Format) -> str:
    """YAML: documents separated by ``---``. JSON: one object, or a ``v1`` ``List`` of several."""
    if fmt == "json":
        import json

        if len(docs) == 1:
            value: Any = docs[0]
        else:
            value = {"apiVersion": "v1", "kind": "List", "items": docs}
        return json.dumps(value, indent=2, ensure_ascii=False) + "\n"
    if not docs:
        return ""
    out: str = yaml.dump_all(
        docs,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1 << 30,  # never fold long values (base64 stays on one line)
    )
    return out


def write_atomic(path: str, data: bytes, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` all at once: a reader sees the old file or the new one.

    ``mode`` None keeps an existing file's mode (or the umask default for a new
    file); pass 0o600 for anything holding plaintext or a private key.
    """
    target = Path(path)
    if mode is None:
        try:
            mode = target.stat().st_mode & 0o7777
        except OSError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
    import tempfile  # lazily: ~4 ms of imports that stdout output never needs

    directory = target.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        _unlink_quietly(tmp)
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        _unlink_quietly(tmp)
        raise


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


# --------------------------------------------------------------------------- kubeconfig


DEFAULT_NAMESPACE: Final = "default"


def kubeconfig_namespace(environ: Mapping[str, str] | None = None) -> str | None:
    """The namespace of the kubeconfig's current context, or None (also when the kubeconfig
    cannot be read: callers that must not guess use :func:`context_namespace`)."""
    try:
        return context_namespace(environ=environ)[0]
    except InputError:
        return None


def context_namespace(
    kubeconfig: str | None = None, context: str | None = None, environ: Mapping[str, str] | None = None
) -> tuple[str | None, bool]:
    """(the namespace the context names or None, whether any kubeconfig was found), as kubectl
    resolves it, read as plain YAML so sealing never imports the Kubernetes client.

    Files: ``kubeconfig`` (``--kubeconfig``) if given, else every file of $KUBECONFIG (missing
    ones skipped, the first to set ``current-context`` or define a context wins, as kubectl
    merges them), else ~/.kube/config. ``context`` (``--context``) replaces the current context.
    Raises InputError naming the file (never its content) for an unreadable ``--kubeconfig``,
    a kubeconfig that cannot be parsed, or a ``--context`` that no file defines.
    """
    environ = os.environ if environ is None else environ
    if kubeconfig:
        paths, explicit = [Path(kubeconfig)], True
    else:
        listed = [p for p in environ.get("KUBECONFIG", "").split(os.pathsep) if p]
        home = Path(environ.get("HOME", "~")).expanduser()
        paths, explicit = ([Path(p) for p in listed] or [home / ".kube" / "config"]), False
    configs: list[Mapping[str, Any]] = []
    for path in paths:
        if not explicit and not path.is_file():
            continue
        docs = _kubeconfig_documents(path)
        if docs and not isinstance(docs[0], Mapping | None):
            raise InputError(f"kubeconfig {path}: not a kubeconfig (expected a mapping)")
        configs.append(docs[0] if docs and docs[0] is not None else {})
    if not configs:
        return None, False
    current = context or next((c.get("current-context") for c in configs if c.get("current-context")), None)
    if not isinstance(current, str) or not current:
        return None, True
    for config in configs:
        contexts = config.get("contexts")
        for entry in contexts if isinstance(contexts, list) else []:
            if isinstance(entry, Mapping) and entry.get("name") == current:
                found = entry.get("context")
                namespace = found.get("namespace") if isinstance(found, Mapping) else None
                return (namespace if isinstance(namespace, str) and namespace else None), True
    if context:
        raise InputError(f"--context {_shown_name(context)}: no such context in the kubeconfig")
    return None, True


def _kubeconfig_documents(path: Path) -> list[Any]:
    data = read_bytes(str(path), "kubeconfig")
    try:
        docs, _ = safeload.load_documents(data)
    except InputError as exc:  # a position and the problem, never a fragment of the file
        raise InputError(f"kubeconfig {path}: {exc}") from None
    return docs


def _shown_name(value: str) -> str:
    return repr(value) if len(value) <= 100 and value.isprintable() else "(unprintable)"
