"""A small, strict DER reader and writer: enough for PKCS#12, PKCS#8 and Go's key formats.

Why our own: PKCS#12 files are tenant data, and OpenSSL's parser would run whatever key
derivation iteration counts a file asks for. Reading the structure ourselves lets us
bound every count before any derivation runs, and match Go's ``encoding/asn1``
strictness (definite lengths only, minimal lengths, minimal OBJECT IDENTIFIER arcs, no
trailing data after a top-level element; extra elements at the end of a SEQUENCE that Go
reads into a struct are left unread, see :func:`fields`). The reader is iterative over one
level at a time and never recurses on input.
"""

from __future__ import annotations

from dataclasses import dataclass

SEQUENCE = 0x30
SET = 0x31
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
NULL = 0x05
OID = 0x06
BMP_STRING = 0x1E


class DERError(ValueError):
    """Malformed DER (the reason is never shown to a template author)."""


@dataclass(frozen=True)
class TLV:
    tag: int
    value: bytes
    raw: bytes  # the whole element, tag and length included


def read(data: bytes, pos: int = 0) -> tuple[TLV, int]:
    """The element at ``pos`` and the offset after it."""
    if pos + 2 > len(data):
        raise DERError("truncated")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise DERError("high tag numbers are not supported")
    first = data[pos + 1]
    hdr = 2
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        if n == 0 or n > 4:
            raise DERError("indefinite or huge length")
        if pos + 2 + n > len(data):
            raise DERError("truncated")
        length = int.from_bytes(data[pos + 2 : pos + 2 + n], "big")
        if length < 0x80 or data[pos + 2] == 0:
            raise DERError("non-minimal length")
        hdr += n
    end = pos + hdr + length
    if end > len(data):
        raise DERError("truncated")
    return TLV(tag, data[pos + hdr : end], data[pos:end]), end


def parse(data: bytes, tag: int | None = None) -> TLV:
    """The one element ``data`` holds, exactly (trailing bytes are an error)."""
    tlv, end = read(data)
    if end != len(data):
        raise DERError("trailing data")
    if tag is not None and tlv.tag != tag:
        raise DERError("unexpected tag")
    return tlv


def children(tlv: TLV, limit: int = 10_000) -> list[TLV]:
    """The elements inside a constructed element (a SEQUENCE, SET or explicit tag)."""
    if not tlv.tag & 0x20:
        raise DERError("not constructed")
    out: list[TLV] = []
    pos = 0
    while pos < len(tlv.value):
        if len(out) >= limit:
            raise DERError("too many elements")
        child, pos = read(tlv.value, pos)
        out.append(child)
    return out


def seq(data: bytes) -> list[TLV]:
    return children(parse(data, SEQUENCE))


def fields(tlv: TLV, n: int) -> list[TLV]:
    """The first ``n`` elements of a SEQUENCE that Go reads into a struct of ``n`` fields.

    encoding/asn1 parseField (reflect.Struct) reads one element per field and then stops: "We allow
    extra bytes at the end of the SEQUENCE", so whatever follows is neither read nor checked. A
    struct is always a SEQUENCE (a SET or a tagged element does not match its tag). Fewer than ``n``
    elements come back when the SEQUENCE ends first; the caller decides which fields are optional.
    """
    if tlv.tag != SEQUENCE:
        raise DERError("unexpected tag")
    out: list[TLV] = []
    pos = 0
    while pos < len(tlv.value) and len(out) < n:
        child, pos = read(tlv.value, pos)
        out.append(child)
    return out


def to_int(tlv: TLV) -> int:
    if tlv.tag != INTEGER or not tlv.value:
        raise DERError("not an integer")
    v = tlv.value
    if len(v) > 1 and ((v[0] == 0 and v[1] < 0x80) or (v[0] == 0xFF and v[1] >= 0x80)):
        raise DERError("non-minimal integer")
    return int.from_bytes(v, "big", signed=True)


def small_int(tlv: TLV, bound: int) -> int:
    """A non-negative INTEGER that fits ``bound`` (an iteration count, a version)."""
    if tlv.tag != INTEGER or len(tlv.value) > 8:
        raise DERError("integer out of range")
    n = to_int(tlv)
    if not 0 <= n <= bound:
        raise DERError("integer out of range")
    return n


def to_oid(tlv: TLV) -> str:
    """An OBJECT IDENTIFIER as Go's encoding/asn1 parseObjectIdentifier reads it.

    Each arc is parseBase128Int's: a leading 0x80 byte is "integer is not minimally encoded", a sixth
    byte or a value past 2**31 - 1 is "base 128 integer too large" (both Go errors, so go-pkcs12
    fails), and a last byte with its top bit set is "truncated base 128 integer".
    """
    if tlv.tag != OID or not tlv.value or tlv.value[-1] & 0x80:
        raise DERError("not an object identifier")
    arcs: list[int] = []
    n = 0
    size = 0
    for b in tlv.value:
        if size == 0 and b == 0x80:
            raise DERError("non-minimal object identifier")
        if size == 5:
            raise DERError("object identifier arc too large")
        n = (n << 7) | (b & 0x7F)
        size += 1
        if not b & 0x80:
            if n > 0x7FFFFFFF:
                raise DERError("object identifier arc too large")
            arcs.append(n)
            n = 0
            size = 0
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(a) for a in head + arcs[1:])


def octets(tlv: TLV) -> bytes:
    if tlv.tag != OCTET_STRING:
        raise DERError("not an octet string")
    return tlv.value


# --- writing -------------------------------------------------------------------------------------


def tlv(tag: int, value: bytes) -> bytes:
    n = len(value)
    if n < 0x80:
        return bytes([tag, n]) + value
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + value


def sequence(*items: bytes) -> bytes:
    return tlv(SEQUENCE, b"".join(items))


def set_of(*items: bytes) -> bytes:
    return tlv(SET, b"".join(sorted(items)))


def integer(n: int) -> bytes:
    length = max(1, (n.bit_length() + 8) // 8) if n >= 0 else max(1, ((~n).bit_length() + 8) // 8)
    return tlv(INTEGER, n.to_bytes(length, "big", signed=True))


def octet_string(b: bytes) -> bytes:
    return tlv(OCTET_STRING, b)


def bit_string(b: bytes) -> bytes:
    return tlv(BIT_STRING, b"\x00" + b)


def null() -> bytes:
    return b"\x05\x00"


def oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray()
    for a in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [a & 0x7F]
        a >>= 7
        while a:
            chunk.append(0x80 | (a & 0x7F))
            a >>= 7
        body += bytes(reversed(chunk))
    return tlv(OID, bytes(body))


def explicit(n: int, content: bytes) -> bytes:
    """A context-specific constructed tag ``[n]`` around ``content``."""
    return tlv(0xA0 | n, content)
