"""The commands that talk to a running operator: ``fetch-cert``, ``validate`` and ``reencrypt``,
and the same work for ``seal``'s kubeseal modes (--fetch-cert, --validate, --re-encrypt, and
fetching the certificate when sealing without --cert).

They reach the operator's HTTP API through the Kubernetes API service proxy, or a URL
(secretsync.remote); aiohttp and the kubernetes client are imported only when they run, so
importing this module from seal.py keeps the seal path light.

Behind the proxy every user shares the operator's rate limits, so ``validate`` sends SealedSecrets
to /v1/verify in batches (one token per ten documents instead of one per document) and every
command waits out 429s within ``--max-wait`` (secretsync.remote): a rate limit is reported as
"not checked", never as a document that cannot be unsealed.
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

    from secretsync import limits
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
        max_wait=float(opts["max_wait"]) if opts.get("max_wait") is not None else limits.CLI_MAX_WAIT,
    )


def _controller(target: Any) -> Any:
    """A :class:`secretsync.remote.Controller` for ``target`` that says on stderr when it waits."""
    from secretsync.remote import Controller

    def say(seconds: float, status: int, detail: str) -> None:
        what = "rate-limiting" if status == 429 else "unavailable"
        click.echo(f"waiting {seconds:.1f} s: the operator is {what} ({status}: {detail})", err=True)

    return Controller(target, on_wait=say)


def _fetch_certificate(opts: dict[str, Any], *, for_seal: bool = False) -> bytes:
    """The operator's current certificate (PEM, checked to be one): GET /v1/cert.pem.

    ``for_seal``: sealing without --cert, so a failure says how to seal offline instead.
    """
    from secretsync import crypto
    from secretsync.errors import InputError
    from secretsync.remote import answer_detail

    target = _target(opts)

    async def fetch() -> tuple[int, bytes]:
        async with _controller(target) as ctl:
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
        raise InputError(f"{target.describe()} answered {status}: {answer_detail(body)}{hint}")
    try:
        crypto.load_certificate(body)  # refuse to hand out something that is not a certificate
    except InputError as exc:
        raise InputError(f"the certificate from {target.describe()}: {exc}") from None
    return body


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

    Sends up to 100 per request and waits out the operator's rate limit (up to --max-wait).
    Prints ok: (stdout), invalid: or not checked: (stderr) per object; exits 0 only when all
    are ok. kubeseal: --validate.
    """
    _validate_documents(_sealed_documents(files), opts)


# A verdict on one document: ("ok" | "invalid" | "unchecked", detail). Only a 200 is "ok" and only
# the operator's own refusal (409: cannot be unsealed; 400: not a usable SealedSecret) "invalid";
# anything else (a rate limit that outlasted --max-wait, a 5xx, an unreachable operator) is
# "unchecked": it says nothing about the document.
_Verdict = tuple[str, str]
_VERIFY_RESULTS_KIND = "VerifyResults"  # secretsync.http.verify_answer


def _verdict(status: int, detail: str) -> _Verdict:
    if status == 200:
        return "ok", ""
    if status in (400, 409):
        return "invalid", detail or "cannot be unsealed"  # Bitnami's controller answers 409 with no body
    return "unchecked", f"the operator answered {status}: {detail}"


def _verify_batches(encoded: list[bytes]) -> list[list[int]]:
    """Indexes of the documents, grouped into /v1/verify batches: at most
    ``limits.HTTP_VERIFY_MAX_BATCH`` documents and ``limits.CLI_VERIFY_BATCH_BYTES`` each (a larger
    document goes alone)."""
    from secretsync import limits

    batches: list[list[int]] = []
    current: list[int] = []
    size = 2
    for index, doc in enumerate(encoded):
        full = len(current) >= limits.HTTP_VERIFY_MAX_BATCH
        if current and (full or size + len(doc) + 1 > limits.CLI_VERIFY_BATCH_BYTES):
            batches.append(current)
            current, size = [], 2
        current.append(index)
        size += len(doc) + 1
    if current:
        batches.append(current)
    return batches


def _batch_verdicts(status: int, body: bytes, count: int) -> list[_Verdict] | None:
    """The per-document verdicts of a batch answer, or None when it is not one (an operator that
    takes one document at a time: Bitnami's controller, an older secretsync, answers 400 or 500)."""
    from secretsync import manifests
    from secretsync.errors import InputError
    from secretsync.remote import answer_detail

    if status not in (200, 409):
        return None
    try:
        docs, _ = manifests.parse_documents(body, "the operator's answer")
    except InputError:
        return None
    answer = docs[0] if len(docs) == 1 else None
    if not isinstance(answer, dict) or answer.get("kind") != _VERIFY_RESULTS_KIND:
        return None
    results = answer.get("results")
    if not isinstance(results, list) or len(results) != count:
        return None
    verdicts = []
    for index, result in enumerate(results):
        if not isinstance(result, dict) or result.get("index") != index:
            return None
        code, message = result.get("status"), result.get("message")
        if not isinstance(code, int) or isinstance(code, bool):
            return None
        verdicts.append(_verdict(code, answer_detail(str(message or "").encode())))
    return verdicts


def _validate_documents(documents: list[tuple[str, dict[str, Any]]], opts: dict[str, Any]) -> None:
    """Check each SealedSecret with /v1/verify, in batches: ``ok:`` lines on stdout, one line per bad
    or unchecked one on stderr, exit 1 unless every one is ok."""
    import json

    from secretsync.errors import InputError
    from secretsync.remote import answer_detail

    if not documents:
        raise InputError("no SealedSecret found in the input")
    encoded = [json.dumps(obj).encode() for _, obj in documents]
    verdicts: list[_Verdict | None] = [None] * len(documents)

    async def check(ctl: Any, indexes: list[int], batches: bool) -> bool:
        """Verdicts for ``indexes``; False when the operator turned out to take one document at a time."""
        if batches and len(indexes) > 1:
            body = b"[" + b",".join(encoded[i] for i in indexes) + b"]"
            status, answer = await ctl.request("POST", "/v1/verify", body)
            found = _batch_verdicts(status, answer, len(indexes))
            if found is not None:
                for index, verdict in zip(indexes, found, strict=True):
                    verdicts[index] = verdict
                return True
            batches = False
        for index in indexes:
            status, answer = await ctl.request("POST", "/v1/verify", encoded[index])
            verdicts[index] = _verdict(status, answer_detail(answer) if answer.strip() else "")
        return batches

    async def check_all() -> str | None:
        """None, or why checking stopped early (a rate limit beyond --max-wait, an unreachable operator)."""
        batches = True
        async with _controller(_target(opts)) as ctl:
            for indexes in _verify_batches(encoded):
                try:
                    batches = await check(ctl, indexes, batches)
                except InputError as exc:
                    return str(exc)
        return None

    stopped = _run(check_all())
    if stopped is not None and all(verdict is None for verdict in verdicts):
        raise InputError(stopped)
    invalid = unchecked = 0
    for (where, obj), verdict in zip(documents, verdicts, strict=True):
        meta = obj.get("metadata") or {}
        ref = f"{meta.get('namespace') or '?'}/{meta.get('name') or '?'}"
        kind, detail = verdict or ("unchecked", "")
        if kind == "ok":
            click.echo(f"ok: {ref} ({where})")
        elif kind == "invalid":
            invalid += 1
            click.echo(f"invalid: {ref} ({where}): {detail}", err=True)
        else:
            unchecked += 1
            click.echo(f"not checked: {ref} ({where})" + (f": {detail}" if detail else ""), err=True)
    problems = []
    if invalid:
        problems.append(f"{invalid} of {len(documents)} SealedSecrets cannot be unsealed")
    if unchecked:
        reason = f": {stopped}" if stopped else ""
        problems.append(f"{unchecked} of {len(documents)} SealedSecrets could not be checked{reason}")
    if problems:
        raise InputError("; ".join(problems))


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
    from secretsync.remote import Busy

    files = _expand(paths)
    left_alone = 0  # files not even tried: the rate limit outlasted --max-wait

    async def rotate_all() -> tuple[int, int, list[str]]:
        nonlocal left_alone
        changed, objects, problems = 0, 0, []
        async with _controller(_target(opts)) as ctl:
            with click.progressbar(
                files, label="re-encrypting", file=_sys.stderr, show_pos=True, hidden=not _sys.stderr.isatty()
            ) as bar:
                for position, path in enumerate(bar):
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
                    except Busy as exc:  # every later request would meet it too: stop here
                        problems.append(f"{path}: {exc}")
                        left_alone = len(files) - position - 1
                        break
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
        more = f", and {left_alone} more were not tried" if left_alone else ""
        raise InputError(f"{len(problems)} files could not be re-encrypted{more}; they were left unchanged")


def _reencrypt_stream(
    files: tuple[str, ...], output: str | None, fmt: str | None, opts: dict[str, Any]
) -> None:
    """``seal --re-encrypt``: the SealedSecrets of -f (or stdin) re-encrypted, other documents kept,
    written to -w, else back into the single -f file (as kubeseal does), else to stdout; all or nothing.
    """
    from secretsync import manifests
    from secretsync.errors import InputError

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
        async with _controller(_target(opts)) as ctl:
            return [await _rotate_one(ctl, doc, where) if _is_sealed(doc) else doc for where, doc in inputs]

    new_docs = _run(rotate_all())
    _emit(manifests.dump_documents(new_docs, _output_format(fmt, output, in_fmt or "yaml")), output)
