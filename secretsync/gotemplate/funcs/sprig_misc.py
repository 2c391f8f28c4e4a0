"""Sprig's reflection, path and URL functions, ``hello`` and ``mustSlice`` (Masterminds/sprig v3.3.0).

Paths are Go's ``path`` package: pure string functions, no file system. The ``os*``
variants are ``path/filepath``, which on Linux (where ESO, Bitnami and we run) is the same.
``urlParse``/``urlJoin`` port ``net/url`` (Go 1.26): a URL is only split and joined here,
never fetched. ``typeOf`` and ``kindOf`` name Go's types for our values; one difference
remains, by design of the value model: Go's ``int64`` results (``add``, ``mul``...) read
as ``int`` here. ``hexdec`` is from ESO's vendored Sprig (``runtime/template/v2/sprig``).
"""

from __future__ import annotations

import binascii
import ipaddress

from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.funcs.spec import Table, alias, register
from secretsync.gotemplate.funcs.sprig_math import to_int64
from secretsync.gotemplate.gostrconv import from_bytes, to_bytes
from secretsync.gotemplate.limits import Budget
from secretsync.gotemplate.values import Value, checked, deep_equal, kind_name, type_name

MISC: Table = {}


@register(MISC, "hello")
def hello(budget: Budget) -> str:
    return "Hello!"


# --- reflection ---------------------------------------------------------------------------------


@register(MISC, "typeOf", "any")
def type_of(budget: Budget, v: Value) -> str:
    return type_name(v)


@register(MISC, "typeIs", "str", "any")
def type_is(budget: Budget, target: str, v: Value) -> bool:
    return target == type_name(v)


@register(MISC, "typeIsLike", "str", "any")
def type_is_like(budget: Budget, target: str, v: Value) -> bool:
    t = type_name(v)
    return target == t or "*" + target == t


@register(MISC, "kindOf", "any")
def kind_of(budget: Budget, v: Value) -> str:
    return kind_name(v)


@register(MISC, "kindIs", "str", "any")
def kind_is(budget: Budget, target: str, v: Value) -> bool:
    return target == kind_name(v)


@register(MISC, "deepEqual", "any", "any")
def deep_equal_(budget: Budget, a: Value, b: Value) -> bool:
    budget.step(1 + _size_hint(a) + _size_hint(b))
    return deep_equal(a, b, 0, budget.limits.max_depth)


def _size_hint(v: Value) -> int:
    return len(v) if isinstance(v, (list, dict)) else 0


# --- paths (Go's path package) -----------------------------------------------------------------


def clean(path: str) -> str:
    """Go's ``path.Clean``: the shortest equivalent path, by lexical processing only."""
    if path == "":
        return "."
    rooted = path[0] == "/"
    n = len(path)
    out: list[str] = ["/"] if rooted else []
    r = dotdot = 1 if rooted else 0
    while r < n:
        if path[r] == "/" or (path[r] == "." and (r + 1 == n or path[r + 1] == "/")):
            r += 1
        elif path[r] == "." and path[r + 1] == "." and (r + 2 == n or path[r + 2] == "/"):
            r += 2
            if len(out) > dotdot:
                w = len(out) - 1  # Go's lazybuf: back up to the slash before the last element
                while w > dotdot and out[w] != "/":
                    w -= 1
                del out[w:]
            elif not rooted:
                if out:
                    out.append("/")
                out += [".", "."]
                dotdot = len(out)
        else:
            if (rooted and len(out) != 1) or (not rooted and len(out) != 0):
                out.append("/")
            start = r
            while r < n and path[r] != "/":
                r += 1
            out.extend(path[start:r])
    return "".join(out) if out else "."


def base(path: str) -> str:
    if path == "":
        return "."
    path = path.rstrip("/")
    if path == "":
        return "/"
    return path[path.rfind("/") + 1 :]


def dir_(path: str) -> str:
    return clean(path[: path.rfind("/") + 1])


def ext(path: str) -> str:
    for i in range(len(path) - 1, -1, -1):
        if path[i] == "/":
            break
        if path[i] == ".":
            return path[i:]
    return ""


@register(MISC, "base", "str")
def base_(budget: Budget, path: str) -> str:
    budget.bytes_step(len(path))
    return base(path)


@register(MISC, "dir", "str")
def dir_f(budget: Budget, path: str) -> str:
    budget.bytes_step(len(path) * 4)
    return dir_(path)


@register(MISC, "clean", "str")
def clean_(budget: Budget, path: str) -> str:
    budget.bytes_step(len(path) * 4)
    return clean(path)


@register(MISC, "ext", "str")
def ext_(budget: Budget, path: str) -> str:
    budget.bytes_step(len(path) * 4)
    return ext(path)


@register(MISC, "isAbs", "str")
def is_abs(budget: Budget, path: str) -> bool:
    return path.startswith("/")


for _name, _target in (
    ("osBase", "base"),
    ("osDir", "dir"),
    ("osClean", "clean"),
    ("osExt", "ext"),
    ("osIsAbs", "isAbs"),
):
    alias(MISC, _name, _target)


# --- mustSlice ---------------------------------------------------------------------------------


@register(MISC, "mustSlice", "any", "any", variadic=True)
def must_slice(budget: Budget, lst: Value, *indices: Value) -> Value:
    if not isinstance(lst, list):
        raise Fault("function failed")  # Sprig: "list should be type of slice or array but ..."
    if not lst:
        return None
    start = to_int64(indices[0]) if indices else 0
    end = to_int64(indices[1]) if len(indices) >= 2 else len(lst)
    if not 0 <= start <= end <= len(lst):
        raise Fault("index out of range")  # Go's reflect panics: slice index out of range
    return checked(budget, lst[start:end])


# --- hexdec (ESO's vendored Sprig) --------------------------------------------------------------


@register(MISC, "hexdec", "str")
def hexdec(budget: Budget, s: str) -> str:
    """Hex to bytes; like ``b64dec``, bad input gives Go's error text as the result."""
    raw = to_bytes(s)
    budget.bytes_step(len(raw))
    try:
        return from_bytes(binascii.unhexlify(raw))
    except (binascii.Error, ValueError):
        pass
    for c in raw:
        if chr(c) not in "0123456789abcdefABCDEF":
            ch = chr(c)  # Go's %#U: the code point, then the character if printable
            shown = f" '{ch}'" if (ch == " " or (ch.isprintable() and not ch.isspace())) else ""
            return f"encoding/hex: invalid byte: U+{c:04X}{shown}"
    return "encoding/hex: odd length hex string"


# --- URLs (Go's net/url) ------------------------------------------------------------------------

_PATH, _PATH_SEGMENT, _HOST, _ZONE, _USER_PASSWORD, _QUERY_COMPONENT, _FRAGMENT = range(7)
_UNRESERVED_MARK = frozenset("-_.~")
_RESERVED = frozenset("$&+,/:;=?@")
_HOST_OK = frozenset("!$&'()*+,;=:[]<>\"")


def _should_escape(c: int, mode: int) -> bool:
    ch = chr(c)
    if ch.isascii() and ch.isalnum():
        return False
    if mode in (_HOST, _ZONE) and ch in _HOST_OK:
        return False
    if ch in _UNRESERVED_MARK:
        return False
    if ch in _RESERVED:
        if mode == _PATH:
            return ch == "?"
        if mode == _PATH_SEGMENT:
            return ch in "/;,?"
        if mode == _USER_PASSWORD:
            return ch in "@/?:"
        if mode == _QUERY_COMPONENT:
            return True
        if mode == _FRAGMENT:
            return False
    return not (mode == _FRAGMENT and ch in "!()*")


_HEX = frozenset(b"0123456789abcdefABCDEF")


def _unescape(s: bytes, mode: int) -> bytes:
    n = 0
    i = 0
    while i < len(s):
        c = s[i]
        if c == 0x25:  # %
            n += 1
            if i + 2 >= len(s) or s[i + 1] not in _HEX or s[i + 2] not in _HEX:
                raise ValueError("invalid URL escape")
            if mode == _HOST and int(chr(s[i + 1]), 16) < 8 and s[i : i + 3] != b"%25":
                raise ValueError("invalid URL escape")
            if mode == _ZONE:
                v = int(s[i + 1 : i + 3], 16)
                if s[i : i + 3] != b"%25" and v != 0x20 and _should_escape(v, _HOST):
                    raise ValueError("invalid URL escape")
            i += 3
        else:
            if mode in (_HOST, _ZONE) and c < 0x80 and _should_escape(c, mode):
                raise ValueError("invalid character in host name")
            i += 1
    if n == 0:
        return s
    out = bytearray()
    i = 0
    while i < len(s):
        if s[i] == 0x25:
            out.append(int(s[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(s[i])
            i += 1
    return bytes(out)


def _escape(s: bytes, mode: int) -> bytes:
    out = bytearray()
    for c in s:
        if _should_escape(c, mode):
            out += b"%%%02X" % c
        else:
            out.append(c)
    return bytes(out)


def _valid_optional_port(port: bytes) -> bool:
    if not port:
        return True
    return port[:1] == b":" and all(0x30 <= b <= 0x39 for b in port[1:])


def _valid_userinfo(s: bytes) -> bool:
    ok = frozenset(b"-._:~!$&'()*+,;=%@")
    for ch in from_bytes(s):
        if ch.isascii() and (ch.isalnum() or ord(ch) in ok):
            continue
        return False
    return True


def _parse_host(scheme: str, host: bytes) -> bytes:
    open_idx = host.rfind(b"[")
    if open_idx > 0:
        raise ValueError("invalid IP-literal")
    if open_idx == 0:
        close_idx = host.rfind(b"]")
        if close_idx < 0:
            raise ValueError("missing ']' in host")
        colon_port = host[close_idx + 1 :]
        if not _valid_optional_port(colon_port):
            raise ValueError("invalid port")
        colon_port = _unescape(colon_port, _HOST)
        hostname = host[1:close_idx]
        zone = hostname.find(b"%25")
        if zone >= 0:
            unescaped = _unescape(hostname[:zone], _HOST) + _unescape(hostname[zone:], _ZONE)
        else:
            unescaped = _unescape(hostname, _HOST)
        try:
            addr = ipaddress.ip_address(unescaped.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            raise ValueError("invalid host") from None
        if addr.version == 4:
            raise ValueError("invalid IP-literal")
        return b"[" + unescaped + b"]" + colon_port
    i = host.find(b":")
    if i != -1:
        last = host.rfind(b":")
        if last != i and scheme not in ("http", "https"):
            i = last
        if not _valid_optional_port(host[i:]):
            raise ValueError("invalid port")
    return _unescape(host, _HOST)


class _URL:
    __slots__ = (
        "force_query",
        "fragment",
        "host",
        "omit_host",
        "opaque",
        "path",
        "query",
        "raw_fragment",
        "raw_path",
        "scheme",
        "user",
    )

    def __init__(self) -> None:
        self.scheme = self.opaque = self.host = self.path = self.raw_path = b""
        self.query = self.fragment = self.raw_fragment = b""
        self.user: tuple[bytes, bytes | None] | None = None
        self.force_query = self.omit_host = False

    def set_path(self, p: bytes) -> None:
        self.path = _unescape(p, _PATH)
        self.raw_path = b"" if _escape(self.path, _PATH) == p else p

    def set_fragment(self, f: bytes) -> None:
        self.fragment = _unescape(f, _FRAGMENT)
        self.raw_fragment = b"" if _escape(self.fragment, _FRAGMENT) == f else f


def _get_scheme(raw: bytes) -> tuple[bytes, bytes]:
    for i, c in enumerate(raw):
        if 0x61 <= c <= 0x7A or 0x41 <= c <= 0x5A:
            continue
        if 0x30 <= c <= 0x39 or c in b"+-.":
            if i == 0:
                return b"", raw
            continue
        if c == 0x3A:  # :
            if i == 0:
                raise ValueError("missing protocol scheme")
            return raw[:i], raw[i + 1 :]
        return b"", raw
    return b"", raw


def _parse_authority(url: _URL, authority: bytes) -> None:
    at = authority.rfind(b"@")
    url.host = _parse_host(from_bytes(url.scheme), authority[at + 1 :] if at >= 0 else authority)
    if at < 0:
        return
    userinfo = authority[:at]
    if not _valid_userinfo(userinfo):
        raise ValueError("invalid userinfo")
    if b":" not in userinfo:
        url.user = (_unescape(userinfo, _USER_PASSWORD), None)
    else:
        name, _, password = userinfo.partition(b":")
        url.user = (_unescape(name, _USER_PASSWORD), _unescape(password, _USER_PASSWORD))


def parse_url(raw_url: bytes) -> _URL:
    """Go's ``url.Parse``; raises ValueError (the reason is never shown)."""
    raw, _, frag = raw_url.partition(b"#")
    if any(b < 0x20 or b == 0x7F for b in raw):
        raise ValueError("invalid control character in URL")
    url = _URL()
    if raw == b"*":
        url.path = b"*"
    else:
        scheme, rest = _get_scheme(raw)
        url.scheme = scheme.lower()
        if rest.endswith(b"?") and rest.count(b"?") == 1:
            url.force_query = True
            rest = rest[:-1]
        else:
            rest, _, url.query = rest.partition(b"?")
        opaque = False
        if not rest.startswith(b"/"):
            if url.scheme:
                url.opaque = rest  # a rootless path after a scheme is opaque (RFC 3986)
                opaque = True
            elif b":" in rest.partition(b"/")[0]:
                raise ValueError("first path segment in URL cannot contain colon")
        if not opaque:
            if rest.startswith(b"//") and (url.scheme or not rest.startswith(b"///")):
                authority, slash, tail = rest[2:].partition(b"/")
                rest = slash + tail
                _parse_authority(url, authority)
            elif url.scheme and rest.startswith(b"/"):
                url.omit_host = True
            url.set_path(rest)
    if frag:
        url.set_fragment(frag)
    return url


def _userinfo_string(user: tuple[bytes, bytes | None]) -> bytes:
    s = _escape(user[0], _USER_PASSWORD)
    if user[1] is not None:
        s += b":" + _escape(user[1], _USER_PASSWORD)
    return s


def _valid_encoded(s: bytes, mode: int) -> bool:
    return all(chr(c) in "!$&'()*+,;=:@[]%" or not _should_escape(c, mode) for c in s)


def _escaped_path(u: _URL) -> bytes:
    if u.raw_path and _valid_encoded(u.raw_path, _PATH):
        try:
            if _unescape(u.raw_path, _PATH) == u.path:
                return u.raw_path
        except ValueError:
            pass
    if u.path == b"*":
        return b"*"
    return _escape(u.path, _PATH)


def _escaped_fragment(u: _URL) -> bytes:
    if u.raw_fragment and _valid_encoded(u.raw_fragment, _FRAGMENT):
        try:
            if _unescape(u.raw_fragment, _FRAGMENT) == u.fragment:
                return u.raw_fragment
        except ValueError:
            pass
    return _escape(u.fragment, _FRAGMENT)


def url_string(u: _URL) -> bytes:
    """Go's ``(*url.URL).String``."""
    buf = bytearray()
    if u.scheme:
        buf += u.scheme + b":"
    if u.opaque:
        buf += u.opaque
    else:
        if (u.scheme or u.host or u.user is not None) and not (u.omit_host and not u.host and u.user is None):
            if u.host or u.path or u.user is not None:
                buf += b"//"
            if u.user is not None:
                buf += _userinfo_string(u.user) + b"@"
            if u.host:
                buf += _escape(u.host, _HOST)
        path = _escaped_path(u)
        if path and path[:1] != b"/" and u.host:
            buf += b"/"
        if not buf and b":" in path.partition(b"/")[0]:
            buf += b"./"
        buf += path
    if u.force_query or u.query:
        buf += b"?" + u.query
    if u.fragment:
        buf += b"#" + _escaped_fragment(u)
    return bytes(buf)


def _hostname(host: bytes) -> bytes:
    colon = host.rfind(b":")
    if colon != -1 and _valid_optional_port(host[colon:]):
        host = host[:colon]
    if host.startswith(b"[") and host.endswith(b"]"):
        host = host[1:-1]
    return host


@register(MISC, "urlParse", "str")
def url_parse(budget: Budget, v: str) -> Value:
    raw = to_bytes(v)
    budget.bytes_step(len(raw) * 8)
    try:
        u = parse_url(raw)
    except ValueError:
        raise Fault("function failed") from None  # Sprig panics: "unable to parse url: ..."
    budget.check_size(len(raw) * 3 + 64)
    return {
        "scheme": from_bytes(u.scheme),
        "host": from_bytes(u.host),
        "hostname": from_bytes(_hostname(u.host)),
        "path": from_bytes(u.path),
        "query": from_bytes(u.query),
        "opaque": from_bytes(u.opaque),
        "fragment": from_bytes(u.fragment),
        "userinfo": from_bytes(_userinfo_string(u.user)) if u.user is not None else "",
    }


def _dict_str(d: dict[str, Value], key: str) -> bytes:
    if key not in d:
        return b""
    v = d[key]
    if not isinstance(v, str):
        raise Fault("wrong type")  # Sprig panics: "unable to parse ... key, must be of type string"
    return to_bytes(v)


@register(MISC, "urlJoin", "map")
def url_join(budget: Budget, d: Value) -> str:
    m: dict[str, Value] = d or {}
    u = _URL()
    u.scheme = _dict_str(m, "scheme")
    u.host = _dict_str(m, "host")
    u.path = _dict_str(m, "path")
    u.query = _dict_str(m, "query")
    u.opaque = _dict_str(m, "opaque")
    u.fragment = _dict_str(m, "fragment")
    userinfo = _dict_str(m, "userinfo")
    budget.bytes_step(sum(len(x) for x in (u.scheme, u.host, u.path, u.query, u.opaque, u.fragment)) * 8)
    if userinfo:
        try:
            tmp = parse_url(b"proto://" + userinfo + b"@host")
        except ValueError:
            raise Fault("function failed") from None
        u.user = tmp.user
    out = url_string(u)
    budget.check_size(len(out))
    return from_bytes(out)
