"""Sprig's ``semver`` and ``semverCompare``: Masterminds/semver v3.3.0, ported.

The version and constraint grammars are that package's regular expressions, run on RE2
(``secretsync.regex``: Go's syntax, linear time). ``semver`` returns the ``*Version`` as a
read-only struct: ``.Major``, ``.Minor``, ``.Patch``, ``.Prerelease``, ``.Metadata``,
``.Original`` and ``.String`` read as in Go (niladic methods), ``.IncMajor`` and friends give
the next version; it prints as its string. Methods with arguments (``.Compare``,
``.LessThan``) cannot be called from a template here: there are no method calls.
"""

from __future__ import annotations

from typing import Any

from secretsync import regex
from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.funcs.spec import Table, register
from secretsync.gotemplate.limits import Budget
from secretsync.gotemplate.values import GoStruct

SEMVER: Table = {}

_UINT64_MAX = (1 << 64) - 1
_NUM = frozenset("0123456789")
_ALLOWED = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789")

_SEMVER = (
    r"v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?"
    r"(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
)
_CV = (
    r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?"
    r"(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
)
_OPS = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^"
_VERSION_RE = "^" + _SEMVER + "$"
_CONSTRAINT_RE = rf"^\s*({_OPS})\s*({_CV})\s*$"
_RANGE_RE = rf"\s*({_CV})\s+-\s+({_CV})\s*"
_FIND_RE = rf"({_OPS})\s*({_CV})"
_VALID_RE = rf"^(\s*({_OPS})\s*({_CV})\s*)((?:\s+|,\s*)({_OPS})\s*({_CV})\s*)*$"

_MAX_INPUT = 4096


class SemverError(ValueError):
    """Not a version or constraint (the reason is never shown)."""


def _groups(m: Any) -> list[str]:
    """Go's FindStringSubmatch: a non-participating group is ``""``."""
    return [m.group(0)] + [g or "" for g in m.groups()]


class Version:
    __slots__ = ("major", "metadata", "minor", "original", "patch", "pre")

    def __init__(self, major: int, minor: int, patch: int, pre: str, metadata: str, original: str) -> None:
        self.major, self.minor, self.patch = major, minor, patch
        self.pre, self.metadata, self.original = pre, metadata, original

    def string(self) -> str:
        s = f"{self.major}.{self.minor}.{self.patch}"
        if self.pre:
            s += "-" + self.pre
        if self.metadata:
            s += "+" + self.metadata
        return s

    def compare(self, o: Version) -> int:
        for a, b in ((self.major, o.major), (self.minor, o.minor), (self.patch, o.patch)):
            if a != b:
                return -1 if a < b else 1
        if not self.pre and not o.pre:
            return 0
        if not self.pre:
            return 1
        if not o.pre:
            return -1
        return _compare_prerelease(self.pre, o.pre)

    def v_prefix(self) -> str:
        return "v" if self.original[:1] == "v" else ""


def _parse_uint(s: str) -> int:
    n = int(s)
    if n > _UINT64_MAX:
        raise SemverError("segment out of range")
    return n


def _contains_only(s: str, allowed: frozenset[str]) -> bool:
    return all(c in allowed for c in s)


def _validate_prerelease(p: str) -> None:
    for part in p.split("."):
        if _contains_only(part, _NUM):
            if len(part) > 1 and part[0] == "0":
                raise SemverError("segment starts with 0")
        elif not _contains_only(part, _ALLOWED):
            raise SemverError("invalid prerelease")


def _validate_metadata(m: str) -> None:
    for part in m.split("."):
        if not _contains_only(part, _ALLOWED):
            raise SemverError("invalid metadata")


def new_version(v: str) -> Version:
    m = regex.compile(_VERSION_RE).search(v)
    if m is None:
        raise SemverError("invalid semantic version")
    g = _groups(m)
    sv = Version(
        _parse_uint(g[1]),
        _parse_uint(g[2][1:]) if g[2] else 0,
        _parse_uint(g[3][1:]) if g[3] else 0,
        g[5],
        g[8],
        v,
    )
    if sv.pre:
        _validate_prerelease(sv.pre)
    if sv.metadata:
        _validate_metadata(sv.metadata)
    return sv


def _compare_pre_part(s: str, o: str) -> int:
    if s == o:
        return 0
    if s == "":
        return -1 if o != "" else 1
    if o == "":
        return 1 if s != "" else -1
    oi = _uint_or_none(o)
    si = _uint_or_none(s)
    if oi is None and si is None:
        return 1 if s > o else -1  # Go compares the strings' bytes; these are ASCII
    if oi is None:
        return -1
    if si is None:
        return 1
    return 1 if si > oi else -1


def _uint_or_none(s: str) -> int | None:
    if not s or not _contains_only(s, _NUM):
        return None
    n = int(s)
    return n if n <= _UINT64_MAX else None


def _compare_prerelease(v: str, o: str) -> int:
    sparts = v.split(".")
    oparts = o.split(".")
    for i in range(max(len(sparts), len(oparts))):
        d = _compare_pre_part(sparts[i] if i < len(sparts) else "", oparts[i] if i < len(oparts) else "")
        if d:
            return d
    return 0


# --- constraints -------------------------------------------------------------------------------


class _Constraint:
    __slots__ = ("con", "dirty", "minor_dirty", "op", "orig", "patch_dirty")

    def __init__(self, con: Version, orig: str, op: str, minor_dirty: bool, patch_dirty: bool, dirty: bool):
        self.con, self.orig, self.op = con, orig, op
        self.minor_dirty, self.patch_dirty, self.dirty = minor_dirty, patch_dirty, dirty


def _is_x(s: str) -> bool:
    return s in ("x", "*", "X")


def _parse_constraint(c: str) -> _Constraint:
    m = regex.compile(_CONSTRAINT_RE).search(c)
    if m is None:
        raise SemverError("improper constraint")
    g = _groups(m)
    ver = g[2]
    minor_dirty = patch_dirty = dirty = False
    if _is_x(g[3]) or g[3] == "":
        ver = "0.0.0" + g[6]
        dirty = True
    elif _is_x(g[4][1:]) or g[4] == "":
        minor_dirty = dirty = True
        ver = f"{g[3]}.0.0{g[6]}"
    elif _is_x(g[5][1:]) or g[5] == "":
        dirty = patch_dirty = True
        ver = f"{g[3]}{g[4]}.0{g[6]}"
    try:
        con = new_version(ver)
    except (SemverError, ValueError):
        raise SemverError("constraint parser error") from None
    return _Constraint(con, g[2], g[1], minor_dirty, patch_dirty, dirty)


def _rewrite_range(s: str) -> str:
    prog = regex.compile(_RANGE_RE)
    out = s
    for m in prog.finditer(s):
        g = _groups(m)
        out = out.replace(g[0], f">= {g[1]}, <= {g[11]} ", 1)
    return out


def new_constraint(c: str) -> list[list[_Constraint]]:
    c = _rewrite_range(c)
    valid = regex.compile(_VALID_RE)
    find = regex.compile(_FIND_RE)
    out: list[list[_Constraint]] = []
    for part in c.split("||"):
        if valid.search(part) is None:
            raise SemverError("improper constraint")
        found = [m.group(0) for m in find.finditer(part)] or [part]
        out.append([_parse_constraint(s) for s in found])
    return out


def _pre_blocked(v: Version, c: _Constraint) -> bool:
    return bool(v.pre) and not c.con.pre


def _not_equal(v: Version, c: _Constraint) -> bool:
    if c.dirty:
        if _pre_blocked(v, c):
            return False
        if c.con.major != v.major:
            return True
        if c.con.minor != v.minor and not c.minor_dirty:
            return True
        if c.minor_dirty:
            return False
        if c.con.patch != v.patch and not c.patch_dirty:
            return True
        if c.patch_dirty:
            if v.pre or c.con.pre:
                return _compare_prerelease(v.pre, c.con.pre) != 0
            return False
    return v.compare(c.con) != 0


def _greater_than(v: Version, c: _Constraint) -> bool:
    if _pre_blocked(v, c):
        return False
    if not c.dirty:
        return v.compare(c.con) == 1
    if v.major > c.con.major:
        return True
    if v.major < c.con.major or c.minor_dirty:
        return False
    if c.patch_dirty:
        return v.minor > c.con.minor
    return v.compare(c.con) == 1


def _less_than(v: Version, c: _Constraint) -> bool:
    return not _pre_blocked(v, c) and v.compare(c.con) < 0


def _greater_equal(v: Version, c: _Constraint) -> bool:
    return not _pre_blocked(v, c) and v.compare(c.con) >= 0


def _less_equal(v: Version, c: _Constraint) -> bool:
    if _pre_blocked(v, c):
        return False
    if not c.dirty:
        return v.compare(c.con) <= 0
    if v.major > c.con.major:
        return False
    return not (v.major == c.con.major and v.minor > c.con.minor and not c.minor_dirty)


def _tilde(v: Version, c: _Constraint) -> bool:
    if _pre_blocked(v, c) or v.compare(c.con) < 0:
        return False
    if c.con.major == 0 and c.con.minor == 0 and c.con.patch == 0 and not c.minor_dirty and not c.patch_dirty:
        return True
    if v.major != c.con.major:
        return False
    return not (v.minor != c.con.minor and not c.minor_dirty)


def _tilde_or_equal(v: Version, c: _Constraint) -> bool:
    if _pre_blocked(v, c):
        return False
    if c.dirty:
        return _tilde(v, c)
    return v.compare(c.con) == 0


def _caret(v: Version, c: _Constraint) -> bool:
    if _pre_blocked(v, c) or v.compare(c.con) < 0:
        return False
    if c.con.major > 0 or c.minor_dirty:
        return v.major == c.con.major
    if c.con.major == 0 and v.major > 0:
        return False
    if c.con.minor > 0 or c.patch_dirty:
        return v.minor == c.con.minor
    if c.con.minor == 0 and v.minor > 0:
        return False
    return c.con.patch == v.patch


_OPS_TABLE = {
    "": _tilde_or_equal,
    "=": _tilde_or_equal,
    "!=": _not_equal,
    ">": _greater_than,
    "<": _less_than,
    ">=": _greater_equal,
    "=>": _greater_equal,
    "<=": _less_equal,
    "=<": _less_equal,
    "~": _tilde,
    "~>": _tilde,
    "^": _caret,
}


def check(constraints: list[list[_Constraint]], v: Version) -> bool:
    return any(all(_OPS_TABLE[c.op](v, c) for c in group) for group in constraints)


# --- template functions ------------------------------------------------------------------------


def _version_struct(v: Version, with_inc: bool = True) -> GoStruct:
    items: dict[str, Any] = {
        "Major": v.major,
        "Minor": v.minor,
        "Patch": v.patch,
        "Prerelease": v.pre,
        "Metadata": v.metadata,
        "String": v.string(),
    }
    if with_inc:  # a *Version; Original has a pointer receiver, so a Version value lacks it
        items["Original"] = v.original
        prefix = v.v_prefix()
        nxt = [
            Version(v.major, v.minor, v.patch + (0 if v.pre else 1), "", "", ""),
            Version(v.major, v.minor + 1, 0, "", "", ""),
            Version(v.major + 1, 0, 0, "", "", ""),
        ]
        for name, n in zip(("IncPatch", "IncMinor", "IncMajor"), nxt, strict=True):
            n.original = prefix + n.string()
            items[name] = GoStruct("semver.Version", _version_struct(n, False), stringer=n.string())
    return GoStruct("*semver.Version", items, stringer=v.string(), go_kind="ptr")


def _bounded(budget: Budget, *texts: str) -> None:
    size = sum(len(t) for t in texts)
    if size > _MAX_INPUT:
        raise Fault("function failed")
    budget.bytes_step(size * 16)


@register(SEMVER, "semver", "str")
def semver(budget: Budget, v: str) -> GoStruct:
    _bounded(budget, v)
    try:
        return _version_struct(new_version(v))
    except ValueError:
        raise Fault("function failed") from None


@register(SEMVER, "semverCompare", "str", "str")
def semver_compare(budget: Budget, constraint: str, version: str) -> bool:
    _bounded(budget, constraint, version)
    try:
        return check(new_constraint(constraint), new_version(version))
    except ValueError:
        raise Fault("function failed") from None
