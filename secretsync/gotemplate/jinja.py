"""Does a source that failed to parse look like Jinja2 (or Python)?  Then say so, with a fixed hint.

Why: people migrating from Ansible, Salt or Python tooling write ``{{ password }}``,
``{{ user | upper }}``, ``{% if x %}`` or ``data['key']``. Go reports ``unknown function
"password"`` or an unexpected character, which does not tell them what to write instead.
The check only reads the template source (never data), runs in linear time over it, and
only decides *whether* to add the fixed hint ``jinja``; it never changes the error's kind.
"""

from __future__ import annotations

import re
from collections.abc import Container

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_JINJA_WORDS = frozenset({"and", "or", "is", "in", "not", "if", "else", "for", "endif", "endfor", "set"})
_MAX_ACTIONS = 2000


def _actions(source: str) -> list[str]:
    """The text between ``{{`` and ``}}`` of each action, trim markers removed (bounded count)."""
    out: list[str] = []
    pos = 0
    while len(out) < _MAX_ACTIONS:
        start = source.find("{{", pos)
        if start < 0:
            break
        end = source.find("}}", start + 2)
        if end < 0:
            out.append(source[start + 2 :])
            break
        body = source[start + 2 : end]
        if body.startswith("-"):
            body = body[1:]
        if body.endswith("-"):
            body = body[:-1]
        out.append(body.strip())
        pos = end + 2
    return out


def _action_is_jinja(body: str, funcs: Container[str]) -> bool:
    if body.startswith(("/*", "/**")):
        return False
    if "==" in body or "!=" in body or "~" in body:
        return True
    if re.search(r"\[\s*['\"0-9]", body) or re.search(r"\|\s*[A-Za-z_]\w*\s*\(", body):
        return True
    m = _IDENT.match(body)
    if m is None:
        return False
    word = m.group(0)
    if word in funcs or word in ("true", "false", "nil", "if", "else", "end", "range", "with", "define"):
        return False
    if word in ("template", "block", "break", "continue"):
        return False
    after = body[m.end() :]
    if after[:1] in (".", "[", "("):  # ``x.y``, ``x['k']``, ``f(a)``: written against the identifier
        return True
    rest = after.lstrip()
    if not rest or rest[0] == "|":  # ``{{ x }}``, ``{{ x | filter }}``
        return True
    nxt = _IDENT.match(rest)
    return nxt is not None and nxt.group(0) in _JINJA_WORDS


def looks_like_jinja(source: str, funcs: Container[str]) -> bool:
    """True if the source has Jinja2 statements or comments, or an action written the Jinja way."""
    for opener, closer in (("{%", "%}"), ("{#", "#}")):
        start = source.find(opener)
        if start >= 0 and source.find(closer, start + 2) >= 0:
            return True
    return any(_action_is_jinja(body, funcs) for body in _actions(source))
