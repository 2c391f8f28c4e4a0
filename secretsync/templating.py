"""Secret templates, shared by SealedSecrets and ExternalSecrets: Go's ``text/template`` with Sprig.

Why Go templates: External Secrets Operator and Bitnami Sealed Secrets users already write
them (``{{ .password }}``, ``{{ index . "db-password" }}``, ``{{ .token | b64enc }}``), so a
migrated manifest renders the same. The engine is our own interpreter
(:mod:`secretsync.gotemplate`), safe by construction: templates come from tenants, so it
reaches no Python attribute, environment, file or network, and every render is bounded in
steps, output, nesting, value sizes and time (:data:`LIMITS`). Callers run :func:`render` off
the event loop (a thread pool), where the time budget bounds how long a hostile template holds
a worker.

Values are bytes. They enter templates as ``str`` decoded as UTF-8 with ``surrogateescape``,
so a binary value passes through ``{{ .blob }}`` unchanged and is encoded back the same way.
The data ("dot") is a map of key to value, exactly as in ESO and Bitnami.

Error messages never contain a value: the engine builds them from the template name, line,
column and a fixed kind only, and anything unexpected becomes a fixed message here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from secretsync import gotemplate
from secretsync.errors import TemplateError

logger = logging.getLogger("secretsync.templating")

_ENC = "utf-8"
_ERR = "surrogateescape"

LIMITS = gotemplate.Limits()
"""Per render call (all templates of one object together): 1 MiB output per template, a million
steps, 100,000 iterations per range, 100 levels of nesting, 1 MiB per value, 1 s of time."""


def to_text(value: bytes) -> str:
    return value.decode(_ENC, _ERR)


def to_bytes(text: str) -> bytes:
    return text.encode(_ENC, _ERR)


def render(
    templates: Mapping[str, str], values: Mapping[str, bytes], *, missing_key: str = "error"
) -> dict[str, bytes]:
    """Render every template against ``values``; any failure raises :class:`TemplateError`.

    ``missing_key``: ``error`` (ESO: an unknown key fails loudly, never an empty password) or
    ``default`` (Go's default, which prints ``<no value>``).
    """
    if not templates:
        return {}
    data = {key: to_text(value) for key, value in values.items()}
    try:
        rendered = gotemplate.render(dict(templates), data, limits=LIMITS, missing_key=missing_key)
    except gotemplate.TemplateError as exc:
        raise TemplateError(str(exc)) from None
    except Exception as exc:  # the engine converts everything; this is the last line of defence
        logger.error("template engine failed unexpectedly: %s", type(exc).__name__)
        raise TemplateError("template rendering failed unexpectedly (see the operator log)") from None
    return {name: to_bytes(text) for name, text in rendered.items()}


def render_one(name: str, template: str, values: Mapping[str, bytes]) -> bytes:
    """Render one template string; ``name`` is what the error message calls it."""
    return render({name: template}, values)[name]
