"""The commands that talk to a running operator: ``fetch-cert``, ``validate`` and ``reencrypt``,
and the same work for ``seal``'s kubeseal modes (--fetch-cert, --validate, --re-encrypt, and
fetching the certificate when sealing without --cert).

They reach the operator's HTTP API through the Kubernetes API service proxy, or a URL
(secretsync.remote); aiohttp and the kubernetes client are imported only when they run, so
importing this module from seal.py keeps the seal path light.
"""

from __future__ import annotations

from typing import Any

import click

from secretsync.cli.common import (
    _controller_options,
    _emit,
    _output_format,
    _run,
    _stdin_hint,
    env,
    friendly_errors,
)
from secretsync.errors import UsageError


def _target(opts: dict[str, Any]) -> Any:
    import os

    from secretsync.remote import Target

    origins = []  # kubeseal's variables are named in messages: they may point at Bitnami's controller
    ctx = click.get_current_context(silent=True)
    if ctx is not None and not opts.get("controller_url"):
        from click.core import ParameterSource

        for param in ("controller_namespace", "controller_name"):
            flag = param.replace("_", "-")
            kubeseal_var = "SEALED_SECRETS_" + param.upper()
            if (
                ctx.get_parameter_source(param) == ParameterSource.ENVIRONMENT
                and not os.environ.get(env(flag))
                and os.environ.get(kubeseal_var)
            ):
                origins.append(kubeseal_var)
    return Target(
        url=opts.get("controller_url"),
        namespace=opts["controller_namespace"],
        name=opts["controller_name"],
        kubeconfig=opts.get("kubeconfig"),
        context=opts.get("context"),
        origin=" and ".join(origins) or None,
    )


def _fetch_certificate(opts: dict[str, Any], *, for_seal: bool = False) -> bytes:
    """The operator's current certificate (PEM, checked to be one): GET /v1/cert.pem.

    ``for_seal``: sealing without --cert, so a failure says how to seal offline instead.
    """
    from secretsync import crypto
    from secretsync.errors import InputError
    from secretsync.remote import Controller

    target = _target(opts)

    async def fetch() -> tuple[int, bytes]:
        async with Controller(target) as ctl:
            result: tuple[int, bytes] = await ctl.request("GET", "/v1/cert.pem")
            return result

    offline = "pass --cert PATH|URL (or set SECRETSYNC_CERT or SEALED_SECRETS_CERT)"
    status: int
    body: bytes
    try:
        status, body = _run(fetch())
    except UsageError as exc:
        if for_seal:
            reason = " ".join(str(exc).split())
            raise UsageError(f"no certificate: {offline}, or fetch it from the operator: {reason}") from None
        raise
    except InputError as exc:
        if for_seal:
            raise InputError(f"{exc} (to seal offline, {offline})") from None
        raise
    if status != 200:
        hint = f" (to seal offline, {offline})" if for_seal else ""
        raise InputError(f"{target.describe()} answered {status}: {_answer_detail(body)}{hint}")
    try:
        crypto.load_certificate(body)  # refuse to hand out something that is not a certificate
    except InputError as exc:
        raise InputError(f"the certificate from {target.describe()}: {exc}") from None
    return body


def _answer_detail(body: bytes) -> str:
    """The first line of an answer, or the message of a Kubernetes Status (the API server's proxy
    answers with one when the Service has no endpoints)."""
    import json

    text = body.decode("utf-8", "replace").strip()
    try:
        status = json.loads(text) if text.startswith("{") and len(text) < 65536 else None
    except ValueError:
        status = None
    if isinstance(status, dict) and status.get("kind") == "Status" and isinstance(status.get("message"), str):
        text = status["message"]
    lines = text.splitlines()
    return lines[0][:300] if lines else "no detail"


@click.command("fetch-cert")
@_controller_options
@click.option("-w", "--output", type=click.Path(dir_okay=False), help="Write the PEM here (atomically).")
@friendly_errors
def fetch_cert_command(output: str | None, **opts: Any) -> None:
    """Print the operator's current sealing certificate (PEM), for offline sealing.

    kubeseal: --fetch-cert (also taken by secretsync seal).
    """
    _emit(_fetch_certificate(opts).decode("ascii"), output)


def _sealed_documents(paths: tuple[str, ...], alternative: str = "FILES") -> list[tuple[str, dict[str, Any]]]:
    from secretsync import manifests, sealing

    found: list[tuple[str, dict[str, Any]]] = []
    for path in paths or (manifests.STDIN,):
        if path == manifests.STDIN:
            _stdin_hint("SealedSecret", alternative)
        source = "stdin" if path == manifests.STDIN else path
        objects, _ = manifests.load_objects(manifests.read_bytes(path), source)
        for where, obj in objects:
            if isinstance(obj, dict) and obj.get("kind") == sealing.KIND:
                found.append((where, obj))
    return found


@click.command("validate")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@_controller_options
@friendly_errors
def validate_command(files: tuple[str, ...], **opts: Any) -> None:
    """Check with the operator that every SealedSecret in FILES (or stdin) can be unsealed.

    Exits 1 naming every object that cannot, 0 when all can. kubeseal: --validate.
    """
    _validate_documents(_sealed_documents(files), opts)


def _validate_documents(documents: list[tuple[str, dict[str, Any]]], opts: dict[str, Any]) -> None:
    """POST each SealedSecret to /v1/verify: ``ok:`` lines on stdout, one line per bad one on stderr."""
    import json

    from secretsync.errors import InputError
    from secretsync.remote import Controller

    if not documents:
        raise InputError("no SealedSecret found in the input")

    async def check() -> list[tuple[str, dict[str, Any], int, str]]:
        out = []
        async with Controller(_target(opts)) as ctl:
            for where, obj in documents:
                status, body = await ctl.request("POST", "/v1/verify", json.dumps(obj).encode())
                out.append((where, obj, status, body.decode("utf-8", "replace").strip()))
        return out

    failed = 0
    for where, obj, status, text in _run(check()):
        meta = obj.get("metadata") or {}
        ref = f"{meta.get('namespace') or '?'}/{meta.get('name') or '?'}"
        if status == 200:
            click.echo(f"ok: {ref} ({where})")
        else:
            failed += 1
            click.echo(f"invalid: {ref} ({where}): {text}", err=True)
    if failed:
        raise InputError(f"{failed} of {len(documents)} SealedSecrets cannot be unsealed")


def _expand(paths: tuple[str, ...]) -> list[str]:
    import os

    out: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                out.extend(
                    os.path.join(root, n)
                    for n in sorted(names)
                    if n.lower().endswith((".yaml", ".yml", ".json"))
                )
        else:
            out.append(path)
    return out


async def _rotate_one(ctl: Any, doc: dict[str, Any], where: str) -> dict[str, Any]:
    """One SealedSecret re-encrypted by the operator (POST /v1/rotate); InputError naming it if not."""
    import json

    from secretsync import manifests
    from secretsync.errors import InputError

    status, body = await ctl.request("POST", "/v1/rotate", json.dumps(doc).encode())
    if status != 200:
        meta = doc.get("metadata") or {}
        raise InputError(
            f"{where} ({meta.get('namespace')}/{meta.get('name')}): {body.decode('utf-8', 'replace').strip()}"
        )
    # the answer is parsed like any input: bounded, one object
    answer, _ = manifests.parse_documents(body, f"{where}: the operator's answer")
    if len(answer) != 1 or not isinstance(answer[0], dict):
        raise InputError(f"{where}: the operator's answer is not one SealedSecret")
    return answer[0]


def _is_sealed(doc: Any) -> bool:
    from secretsync import sealing

    return isinstance(doc, dict) and doc.get("kind") == sealing.KIND


@click.command("reencrypt")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@_controller_options
@friendly_errors
def reencrypt_command(paths: tuple[str, ...], **opts: Any) -> None:
    """Re-encrypt every SealedSecret in PATHS with the operator's newest key, in place.

    Directories are searched recursively for .yaml/.yml/.json files. Other documents in
    a file and its format are kept; a file is rewritten only if all of its SealedSecrets
    re-encrypt. YAML comments are not preserved. kubeseal: --re-encrypt (also taken by
    secretsync seal, on stdin or one file).
    """
    import sys as _sys

    from secretsync import manifests
    from secretsync.errors import InputError
    from secretsync.remote import Controller

    files = _expand(paths)

    async def rotate_all() -> tuple[int, int, list[str]]:
        changed, objects, problems = 0, 0, []
        async with Controller(_target(opts)) as ctl:
            with click.progressbar(
                files, label="re-encrypting", file=_sys.stderr, show_pos=True, hidden=not _sys.stderr.isatty()
            ) as bar:
                for path in bar:
                    data = manifests.read_bytes(path)
                    try:
                        docs, fmt = manifests.parse_documents(data, path)
                    except InputError as exc:
                        problems.append(f"{path}: {exc}")
                        continue
                    new_docs, touched = [], 0
                    try:
                        for index, doc in enumerate(docs, 1):
                            if _is_sealed(doc):
                                doc = await _rotate_one(ctl, doc, f"{path} document {index}")
                                touched += 1
                            new_docs.append(doc)
                    except InputError as exc:
                        problems.append(str(exc))
                        continue
                    if not touched:
                        continue
                    manifests.write_atomic(path, manifests.dump_documents(new_docs, fmt).encode("utf-8"))
                    changed += 1
                    objects += touched
        return changed, objects, problems

    changed, objects, problems = _run(rotate_all())
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    click.echo(f"re-encrypted {objects} SealedSecrets in {changed} files", err=True)
    if problems:
        raise InputError(f"{len(problems)} files could not be re-encrypted; they were left unchanged")


def _reencrypt_stream(
    files: tuple[str, ...], output: str | None, fmt: str | None, opts: dict[str, Any]
) -> None:
    """``seal --re-encrypt``: the SealedSecrets of -f (or stdin) re-encrypted, other documents kept,
    written to -w, else back into the single -f file (as kubeseal does), else to stdout; all or nothing.
    """
    from secretsync import manifests
    from secretsync.errors import InputError
    from secretsync.remote import Controller

    if not output and len(files) == 1 and files[0] != manifests.STDIN:
        output = files[0]
    inputs: list[tuple[str, Any]] = []
    in_fmt = None
    for location in files or (manifests.STDIN,):
        if location == manifests.STDIN:
            _stdin_hint("SealedSecret", "-f FILE")
        source = "stdin" if location == manifests.STDIN else location
        docs, found_fmt = manifests.parse_documents(manifests.read_bytes(location), source)
        in_fmt = in_fmt or found_fmt
        inputs.extend((f"{source} document {i}", doc) for i, doc in enumerate(docs, 1))
    if not any(_is_sealed(doc) for _, doc in inputs):
        raise InputError(f"no SealedSecret in {', '.join(files) if files else 'stdin'}")

    async def rotate_all() -> list[Any]:
        async with Controller(_target(opts)) as ctl:
            return [await _rotate_one(ctl, doc, where) if _is_sealed(doc) else doc for where, doc in inputs]

    new_docs = _run(rotate_all())
    _emit(manifests.dump_documents(new_docs, _output_format(fmt, output, in_fmt or "yaml")), output)
