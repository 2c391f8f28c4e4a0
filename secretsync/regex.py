"""Regular expressions written by tenants, compiled in one place: RE2, linear time.

Patterns come from manifests (``dataFrom[].find.name.regexp``, a ClusterSecretStore's
``namespaceRegexes``, template functions such as ``regexMatch``). Python's ``re``
backtracks: ``(.+)+#`` against a long name takes exponential time and would freeze
the operator. RE2 matches in time linear in the input, bounds its own memory, and
speaks the syntax of Go's ``regexp`` package, which is what ESO and Bitnami users
wrote their patterns for (no look-around, no backreferences, ``(?P<name>)`` groups).

Every compile goes through :func:`compile`: a size limit on the pattern, a memory
budget for the compiled program, and errors that quote RE2's reason, never input.
"""

from __future__ import annotations

import functools
from typing import Any

import re2

MAX_PATTERN = 4096  # characters; longer patterns are refused before compiling
MAX_PROGRAM_MEMORY = 8 << 20  # bytes RE2 may use for one compiled pattern and its DFA cache


class RegexError(ValueError):
    """A pattern RE2 refuses; the message says why (RE2's reason, never matched text)."""


def _options() -> Any:
    options = re2.Options()
    options.max_mem = MAX_PROGRAM_MEMORY
    options.log_errors = False  # RE2 would print every refused pattern to stderr
    return options


@functools.lru_cache(maxsize=1024)
def compile(pattern: str) -> Any:
    """The compiled pattern (``search``, ``match``, ``fullmatch``, ``sub``, ``split``, ``finditer``)."""
    if len(pattern) > MAX_PATTERN:
        raise RegexError(f"pattern is longer than {MAX_PATTERN} characters")
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid pattern"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise RegexError(f"not a valid RE2 (Go regexp) pattern: {str(reason)[:200]}") from None


def search(pattern: str, text: str) -> bool:
    """Does ``pattern`` match anywhere in ``text`` (Go's ``regexp.MatchString``)?"""
    return compile(pattern).search(text) is not None
