"""Sandboxed rendering of Secret templates, shared by SealedSecrets and ExternalSecrets.

Why Jinja2's ``SandboxedEnvironment``: templates come from manifests in Git,
so they must not reach the environment, the filesystem or the network, nor
call unsafe attributes. Undefined names are errors (``StrictUndefined``): a
typo must fail loudly, not render an empty password.

Values are bytes. They enter templates as ``str`` decoded as UTF-8 with
``surrogateescape``, so binary values pass through ``{{ key }}`` unchanged and
are encoded back the same way. Keys that are not identifiers (``tls.crt``,
``db-password``) are reachable as ``data["tls.crt"]``.

Error messages never contain a value: any value that shows up in a Jinja
error is masked before the message leaves this module.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from secretsync.errors import TemplateError

_ENC = "utf-8"
_ERR = "surrogateescape"


def to_text(value: bytes) -> str:
    return value.decode(_ENC, _ERR)


def to_bytes(text: str) -> bytes:
    return text.encode(_ENC, _ERR)


def _b64enc(value: Any) -> str:
    raw = to_bytes(value) if isinstance(value, str) else bytes(value)
    return base64.b64encode(raw).decode("ascii")


def _b64dec(value: str) -> str:
    try:
        return to_text(base64.b64decode(value.strip() + "=" * (-len(value.strip()) % 4), validate=False))
    except (binascii.Error, ValueError):
        raise jinja2.TemplateRuntimeError("b64dec: input is not valid base64") from None


def _b64urlenc(value: Any) -> str:
    raw = to_bytes(value) if isinstance(value, str) else bytes(value)
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _b64urldec(value: str) -> str:
    try:
        return to_text(base64.urlsafe_b64decode(value.strip() + "=" * (-len(value.strip()) % 4)))
    except (binascii.Error, ValueError):
        raise jinja2.TemplateRuntimeError("b64urldec: input is not valid base64url") from None


def _fromjson(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        raise jinja2.TemplateRuntimeError("fromjson: input is not valid JSON") from None


def _tojson(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _env() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        loader=None,
    )
    # Nothing from the outside world: no globals beyond the harmless builtins.
    env.globals = {"range": range, "dict": dict}
    env.filters.update(
        b64enc=_b64enc,
        b64dec=_b64dec,
        b64urlenc=_b64urlenc,
        b64urldec=_b64urldec,
        fromjson=_fromjson,
        tojson=_tojson,
        toJson=_tojson,
        fromJson=_fromjson,
    )
    return env


_ENV = _env()


def _mask(message: str, values: Mapping[str, str]) -> str:
    for value in sorted(values.values(), key=len, reverse=True):
        if len(value) >= 3 and value in message:
            message = message.replace(value, "***")
    return message


def context(values: Mapping[str, bytes]) -> dict[str, Any]:
    """Names a template sees: every identifier-like key, and ``data`` with all keys."""
    text = {key: to_text(val) for key, val in values.items()}
    ctx: dict[str, Any] = {key: val for key, val in text.items() if key.isidentifier()}
    ctx["data"] = text
    return ctx


def render_one(name: str, template: str, values: Mapping[str, bytes]) -> bytes:
    """Render one template string; ``name`` is what the error message calls it."""
    return render({name: template}, values)[name]


def render(templates: Mapping[str, str], values: Mapping[str, bytes]) -> dict[str, bytes]:
    """Render every template against ``values``; the first failure raises :class:`TemplateError`."""
    ctx = context(values)
    out: dict[str, bytes] = {}
    for name, source in templates.items():
        try:
            out[name] = to_bytes(_ENV.from_string(source).render(ctx))
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(
                f"template {name!r}: syntax error on line {exc.lineno}: {exc.message}"
            ) from None
        except jinja2.UndefinedError as exc:
            msg = _mask(str(exc.message), ctx["data"])
            raise TemplateError(
                f"template {name!r}: {msg} (known keys: {', '.join(sorted(values))})"
            ) from None
        except jinja2.exceptions.SecurityError as exc:
            raise TemplateError(f"template {name!r}: not allowed in the sandbox: {exc}") from None
        except (jinja2.TemplateError, TypeError, ValueError, KeyError, AttributeError) as exc:
            msg = _mask(str(exc), ctx["data"])
            raise TemplateError(f"template {name!r}: {type(exc).__name__}: {msg}") from None
    return out
