"""Fourth-wave mutation survivors: the and/or registration and fmt's ``%#q`` (strconv.CanBackquote).

Expected values are Go 1.26 text/template (``and``/``or`` evaluate their arguments lazily, exec.go
evalCall) and fmt/strconv (``%#q`` prints a backquoted raw string when strconv.CanBackquote
allows it: no backquote, no control character other than tab, no BOM, no byte that is not
UTF-8). A Go string's invalid bytes are lone surrogates U+DC80..U+DCFF here; any other lone
surrogate is U+FFFD in the Go bytes (gostrconv.to_bytes).
"""

from __future__ import annotations

import pytest

from secretsync.gotemplate import execute
from secretsync.gotemplate.funcs import builtins
from secretsync.gotemplate.gostrconv import to_bytes

from .test_mutation_funcsB import AND_OR_CASES, r

# --- and/or: the builtin pair is registered as the short-circuiting one ------------------------------


@pytest.mark.parametrize(("source", "want"), AND_OR_CASES)
def test_register_and_or_makes_the_builtins_short_circuit(
    monkeypatch: pytest.MonkeyPatch, source: str, want: str
) -> None:
    # register_and_or runs when funcs.builtins is imported; call it again on a fresh registry so
    # the registration itself is what decides that the fail is never called.
    monkeypatch.setattr(execute, "_AND_OR", {})
    execute.register_and_or(builtins.and_, builtins.or_)
    assert r(source) == want


# --- %#q: strconv.CanBackquote on bytes that are not UTF-8 ------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("a\udc80", b'"a\\x80"'),  # byte 0x80: RuneError of width 1, not backquotable
        ("\udcff", b'"\\xff"'),  # byte 0xff: likewise
        ("\udc7f", "`\ufffd`".encode()),  # a stray surrogate, not a byte: U+FFFD, a valid rune
        ("a\udd00", "`a\ufffd`".encode()),  # likewise, just past the byte range
    ],
)
def test_sharp_q_backquotes_only_valid_utf8(text: str, want: bytes) -> None:
    assert to_bytes(r('{{ printf "%#q" .s }}', {"s": text})) == want


def test_sharp_q_of_decoded_bytes() -> None:
    assert r('{{ printf "%#q" (b64dec "gA==") }}') == '"\\x80"'  # Go: CanBackquote("\x80") is false
