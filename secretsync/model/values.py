"""What happens to fetched values: ESO's decodingStrategy and the conversion of remote names to keys."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping

from secretsync.errors import SpecError
from secretsync.model.fields import DECODING_STRATEGIES, is_secret_key

# --------------------------------------------------------------------------- values


def _is_base64(data: bytes, alt: bytes) -> bool:
    return bool(re.fullmatch(b"[A-Za-z0-9" + re.escape(alt) + b"]*={0,2}", data)) and len(data) % 4 == 0


def b64decode(value: bytes, alt: bytes) -> bytes | None:
    """Go's padded ``base64.StdEncoding`` / ``URLEncoding`` ``DecodeString``: CR and LF are
    skipped, padding is required, anything else outside the alphabet fails."""
    data = value.replace(b"\r", b"").replace(b"\n", b"")
    if not _is_base64(data, alt):
        return None
    try:
        return base64.b64decode(data, altchars=alt, validate=True)
    except (binascii.Error, ValueError):  # pragma: no cover - the regex already excludes these
        return None


def decode(value: bytes, strategy: str, *, path: str = "decodingStrategy") -> bytes:
    """Apply an ESO ``decodingStrategy`` to a fetched value.

    None: as is. Base64 / Base64URL: padded standard / URL-safe alphabet, CR/LF
    ignored, anything else an error. Auto: Base64, else Base64URL, else the
    value as is (so a plain string that happens to be valid base64, such as
    ``test``, is decoded, exactly as ESO does). The error never shows the value.
    """
    if strategy == "None":
        return value
    if strategy == "Base64":
        out = b64decode(value, b"+/")
    elif strategy == "Base64URL":
        out = b64decode(value, b"-_")
    elif strategy == "Auto":
        out = b64decode(value, b"+/")
        if out is None:
            out = b64decode(value, b"-_")
        return value if out is None else out
    else:
        raise SpecError(path, f"{strategy!r} is not one of: {', '.join(DECODING_STRATEGIES)}")
    if out is None:
        alphabet = "URL-safe" if strategy == "Base64URL" else "standard"
        raise SpecError(path, f"{strategy}: the remote value is not padded {alphabet} base64")
    return out


def sanitize_key(remote_name: str, strategy: str = "Default") -> str:
    """A remote name as a Secret key: ESO's ``conversionStrategy``.

    ESO replaces every character that is not a letter, a digit, ``-``, ``.``
    or ``_``: with ``_`` under Default (so ``db/prod`` becomes ``db_prod``),
    with ``_U<4 hex digits>_`` under Unicode (``db/prod`` becomes
    ``db_U002f_prod``); nothing is dropped. ESO's "letter" and "digit" are
    Unicode ones, which the API server then refuses in a Secret key; here
    non-ASCII characters are converted as well, so a name ESO can sync comes
    out the same and one it cannot still works.
    """
    if strategy == "Unicode":
        return "".join(
            c if (c.isascii() and c.isalnum()) or c in "-._" else f"_U{ord(c):04x}_" for c in remote_name
        )
    return "".join(c if (c.isascii() and c.isalnum()) or c in "-._" else "_" for c in remote_name)


def sanitize_keys(
    values: Mapping[str, bytes], *, path: str = "spec.dataFrom", strategy: str = "Default"
) -> dict[str, bytes]:
    """:func:`sanitize_key` over an extract or find result, with ESO's checks.

    ESO converts the keys of both ``extract`` and ``find`` results, fails on a
    collision (``a/b`` and ``a_b``), and drops empty keys. Keys that are still
    not valid Secret keys (``.``, ``..``, over 253 characters) fail here
    instead of at the API server.
    """
    out: dict[str, bytes] = {}
    origin: dict[str, str] = {}
    for remote_name, value in values.items():
        key = sanitize_key(remote_name, strategy)
        if not key:
            continue
        if key in out:
            raise SpecError(
                path, f"remote names {origin[key]!r} and {remote_name!r} both become Secret key {key!r}"
            )
        if not is_secret_key(key):
            raise SpecError(path, f"remote name {remote_name[:80]!r} does not make a valid Secret key")
        out[key] = value
        origin[key] = remote_name
    return out


def check_rewritten_keys(values: Mapping[str, bytes], *, path: str) -> dict[str, bytes]:
    """ESO's ValidateKeys, for keys a ``rewrite`` produced (no conversion then): empty keys are
    dropped, any other key must already be a valid Secret key."""
    out: dict[str, bytes] = {}
    for key, value in values.items():
        if not key:
            continue
        if not is_secret_key(key):
            raise SpecError(
                path,
                f"rewrite made {key[:80]!r}, which is not a valid Secret key (letters, digits, '-', '_', "
                "'.'; at most 253): change the rewrite so that every key becomes one",
            )
        out[key] = value
    return out
