"""Go's ``encoding/pem``: the ``Decode`` scanner and ``Encode``, ported byte for byte.

``bytes.Index`` based like Go's, no regular expression, so hostile input costs linear time.
Used by ESO's ``filterPEM`` and by the key and certificate readers.
"""

from __future__ import annotations

import base64
import binascii

_PEM_START = b"\n-----BEGIN "
_PEM_END = b"\n-----END "
_PEM_EOL = b"-----"


def _get_line(data: bytes, pos: int) -> tuple[bytes, int, int]:
    """Go's pem ``getLine`` from offset ``pos``: (line, next offset, bytes consumed)."""
    i = data.find(b"\n", pos)
    if i < 0:
        i = j = len(data)
    else:
        j = i + 1
        if i > pos and data[i - 1] == 13:
            i -= 1
    return data[pos:i].rstrip(b" \t"), j, j - pos


Block = tuple[bytes, dict[bytes, bytes], bytes]


def decode(data: bytes, start: int) -> tuple[Block | None, int]:
    """Go's ``pem.Decode`` on ``data[start:]``: the next block and where the rest starts.

    Offsets instead of slices keep it linear: each step is a ``find`` from where the
    previous one stopped.
    """
    r = start
    eti = 0
    while True:
        if eti < 0 or eti > len(data) - r:
            return None, start
        r += eti
        ei = data.find(_PEM_END, r)
        if ei < 0:
            return None, start
        ei -= r
        eti = ei + len(_PEM_END)
        bi = data.rfind(_PEM_START[1:], r, r + ei)
        if bi < 0:
            continue
        bi -= r
        if bi > 0 and data[r + bi - 1] != 10:
            continue
        skip = bi + len(_PEM_START) - 1
        r += skip
        ei -= skip
        eti -= skip
        type_line, r, consumed = _get_line(data, r)
        ei -= consumed
        eti -= consumed
        if not type_line.endswith(_PEM_EOL):
            continue
        type_line = type_line[: -len(_PEM_EOL)]
        headers: dict[bytes, bytes] = {}
        while True:
            if r >= len(data):
                return None, start
            line, nxt, consumed = _get_line(data, r)
            key, sep, val = line.partition(b":")
            if not sep:
                break
            headers[key.strip()] = val.strip()
            r = nxt
            ei -= consumed
            eti -= consumed
        if headers and ei < 0:
            continue
        et = r + eti
        trailer_len = len(type_line) + len(_PEM_EOL)
        if len(data) - et < trailer_len:
            continue
        trailer = data[et : et + trailer_len]
        if not trailer.startswith(type_line) or not trailer.endswith(_PEM_EOL):
            continue
        if _get_line(data, et + trailer_len)[0]:
            continue
        body = b""
        if ei > 0:
            raw = data[r : r + ei]
            for ch in (b" ", b"\t", b"\r", b"\n"):
                raw = raw.replace(ch, b"")
            try:
                body = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                continue
        _, nxt, _ = _get_line(data, r + ei + len(_PEM_END) - 1)
        return (type_line, headers, body), nxt


def encode(block: Block) -> bytes:
    """Go's ``pem.Encode``: Proc-Type first, other headers sorted, 64-column base64."""
    typ, headers, body = block
    if any(b":" in k for k in headers):
        raise ValueError
    out = [b"-----BEGIN ", typ, b"-----\n"]
    if headers:
        keys = sorted(k for k in headers if k != b"Proc-Type")
        if b"Proc-Type" in headers:
            keys.insert(0, b"Proc-Type")
        out += [k + b": " + headers[k] + b"\n" for k in keys]
        out.append(b"\n")
    b64 = base64.b64encode(body)
    out += [b64[i : i + 64] + b"\n" for i in range(0, len(b64), 64)]
    out += [b"-----END ", typ, b"-----\n"]
    return b"".join(out)
