"""Mutants of the JSON encoder, upper/lower, mustToJson's failure and a few ESO crypto bounds.

Expected values are Go's encoding/json (map keys sorted by their UTF-8 bytes, ``<>&`` escaped by
toJson but not toRawJson, invalid bytes written as ``\\ufffd``), strings.ToUpper/ToLower and our
own accounting of the value and depth limits (measured as the encoder writes).
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from secretsync.gotemplate import Limits
from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.funcs import eso_crypto, jsonenc, sprig_lists
from secretsync.gotemplate.limits import Budget

from .cases_crypto import F
from .test_mutation_funcsB import fails, r

# --- toJson / toRawJson / toPrettyJson -----------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "data", "want"),
    [
        ("{{ toJson .v }}", "\n", '"\\n"'),  # all-unsafe ASCII is escaped
        ("{{ toJson .v }}", "<", '"\\u003c"'),  # all-HTML ASCII is escaped
        ("{{ toJson .v }}", "", '""'),
        ("{{ toJson .v }}", {"<": "&"}, '{"\\u003c":"\\u0026"}'),  # keys escaped too
        ("{{ toRawJson .v }}", {"<a>": "<&>"}, '{"<a>":"<&>"}'),  # ... or not
        ("{{ mustToRawJson .v }}", {"<a>": "<&>"}, '{"<a>":"<&>"}'),
        # keys in UTF-8 byte order: the escaped byte 0xff after U+E000 (ee 80 80) and "é" (c3 a9)
        (
            "{{ toJson .v }}",
            {"\udcff": 1, "\ue000": 2, "é": 3, "b": 4},
            '{"b":4,"é":3,"\ue000":2,"\\ufffd":1}',
        ),
        ("{{ toPrettyJson .v }}", [[1]], "[\n  [\n    1\n  ]\n]"),
        ("{{ toPrettyJson .v }}", {"a": [{"b": 1}]}, '{\n  "a": [\n    {\n      "b": 1\n    }\n  ]\n}'),
    ],
)
def test_to_json_as_go(source: str, data: Any, want: str) -> None:
    assert r(source, {"v": data}) == want


def test_must_to_json_of_nan_fails() -> None:
    assert fails("{{ mustToJson .v }}", {"v": float("nan")}).kind == "function failed"
    assert fails("{{ mustToPrettyJson .v }}", {"v": float("inf")}).kind == "function failed"


@pytest.mark.parametrize(("limit", "ok"), [(7, True), (6, False)])
def test_encoder_value_limit_is_exact(limit: int, ok: bool) -> None:
    """Our accounting: the encoder counts every piece it writes, "[1,2,3]" is 7 bytes."""
    budget = Budget(Limits(max_value_bytes=limit))
    if ok:
        assert jsonenc.encode(budget, [1, 2, 3]) == "[1,2,3]"
    else:
        with pytest.raises(Fault) as info:
            jsonenc.encode(budget, [1, 2, 3])
        assert info.value.kind == "value limit"


@pytest.mark.parametrize(
    ("value", "ok"), [([[1]], True), ([[[1]]], False), ({"a": [1]}, True), ({"a": [[1]]}, False)]
)
def test_encoder_depth_limit_is_exact(value: Any, ok: bool) -> None:
    """Our accounting: the top value is depth 0, each list or map element one deeper; at most max_depth."""
    budget = Budget(Limits(max_depth=2))
    if ok:
        assert jsonenc.encode(budget, value) == jsonenc.encode(Budget(Limits()), value)
    else:
        with pytest.raises(Fault) as info:
            jsonenc.encode(budget, value)
        assert info.value.kind == "depth limit"


# --- upper / lower --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "want"),
    [
        ("{{ lower .a }}", "abc"),
        ("{{ upper .a }}", "ABC"),
        ("{{ lower .u }}", "é\ufffd\ufffd\ufffd\ufffd\ue000\uf000"),  # stray surrogates are U+FFFD
        ("{{ upper .u }}", "É\ufffd\ufffd\ufffd\ufffd\ue000\uf000"),
    ],
)
def test_upper_lower(source: str, want: str) -> None:
    assert r(source, {"a": "aBc", "u": "é\ud800\ud801\udffe\udfff\ue000\uf000"}) == want


# --- the map parameter of get/set/keys/...: defensive, the interpreter checks "map" first ----------


def test_map_param_refuses_a_non_map() -> None:
    assert sprig_lists._map(None) == {}
    with pytest.raises(Fault) as info:
        sprig_lists._map([1])
    assert info.value.kind == "wrong type"


# --- pemToPkcs12 / pemTruststoreToPKCS12: our accounting of their inputs and result ---------------

_CERT, _KEY = F["ec_cert"], F["ec_key"]


def _steps(key: str) -> int:
    budget = Budget(Limits())
    eso_crypto._to_pkcs12(budget, _CERT, key, "", False)
    return budget.steps


def test_pkcs12_charges_the_key_pem_length() -> None:
    """One step per 256 bytes of the certificate and key PEM together: 1 KiB more key text, 4 more steps."""
    assert _steps(_KEY + "\n" * 1024) - _steps(_KEY) == 4


def test_pkcs12_refuses_exactly_past_the_value_limit() -> None:
    """Our accounting: the base64 result is estimated as len(pfx) * 4 // 3 + 4 before it is built."""
    for cert, key in ((_CERT, _KEY), (F["ed_cert"], F["ed_key"])):
        pfx = base64.b64decode(eso_crypto._to_pkcs12(Budget(Limits()), cert, key, "", False))
        est = len(pfx) * 4 // 3 + 4
        out = eso_crypto._to_pkcs12(Budget(Limits(max_value_bytes=est)), cert, key, "", False)
        assert len(base64.b64decode(out)) == len(pfx)
        with pytest.raises(Fault) as info:
            eso_crypto._to_pkcs12(Budget(Limits(max_value_bytes=est - 1)), cert, key, "", False)
        assert info.value.kind == "value limit"
        if len(pfx) % 3:  # the estimate's floor division matters
            break
    else:
        raise AssertionError("no archive length off a multiple of 3")


def test_pkcs12_truststore_takes_up_to_64_certificates() -> None:
    """ESO's parseCaCerts has no bound; ours is MAX_CHAIN (64) certificates, the 65th refused."""
    out = r("{{ pemTruststoreToPKCS12 .c }}", {"c": _CERT * 64})
    assert len(pkcs12.load_pkcs12(base64.b64decode(out), b"").additional_certs) == 64
    assert fails("{{ pemTruststoreToPKCS12 .c }}", {"c": _CERT * 65}).kind == "function failed"
