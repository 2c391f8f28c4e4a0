"""Fuzzing: whatever the source and the data, ``render`` returns or raises TemplateError.

Two generators: token soup (mostly invalid templates, heavy in the language's
keywords and punctuation) and well-formed calls of every function with arguments of
every type. Both must finish within the time budget and never raise anything else.
"""

from __future__ import annotations

import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secretsync.gotemplate import Limits, TemplateError, render
from secretsync.gotemplate.funcs import DEFAULT

TOKENS = [
    "{{", "}}", "{{- ", " -}}", " ", " ", " ", "|", ".", "$", "(", ")", '"', "`", "'a'", ",", ":=", "=", "\n",
    "range", "if", "else", "end", "define", "template", "with", "block", "break", "continue", "nil", "true",
    "$x", "$", ".a", ".b", ".a.b", ".missing", "1", "-1", "0x1f", "1e9", "2.5", "9999999999999999999999",
    '"t"', '"%d"', '"%v"', "printf", "len", "index", "slice", "repeat", "until", "add", "mul", "toJson",
    "fromJson", "regexMatch", "and", "or", "not", "eq", "lt", "default", "dict", "list", "set", "upper",
    "b64enc", "b64dec", "indent", "trunc", "substr", "x", "/*", "*/", "{", "}", "\\", "-",
]  # fmt: skip

ARGS = [
    "1", "0", "-1", "2.5", "-0.0", "1e300", '"s"', '""', '"%d %s"', '"a,b"', '"[a-z]+"', '"("', "true",
    "nil", ".", ".a", ".missing", "(list 1 2)", "(list)", "(dict \"k\" 1)", "(dict)", "now", "$",
    "9223372036854775807", "-9223372036854775808", '"2006-01-02"', '"\\xff"', "(until 3)", '"{\\"a\\":1}"',
]  # fmt: skip

FUNCS = sorted(set(DEFAULT) - {"now", "uuidv4"})

text = st.text(alphabet=st.characters(codec="utf-8"), max_size=20)
data_values = st.recursive(
    text, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3), max_leaves=8
)
datas = st.dictionaries(st.sampled_from(["a", "b", "c", "x"]), data_values, max_size=4) | st.dictionaries(
    st.sampled_from(["a", "b"]), text, max_size=2
)

LIMITS = Limits(time_budget=0.5, max_steps=50_000, max_output_bytes=1 << 16, max_value_bytes=1 << 16)


def check(source: str, data: Any) -> None:
    start = time.monotonic()
    for missing in ("error", "default", "zero"):
        try:
            out = render({"t": source}, data, limits=LIMITS, missing_key=missing)
            assert isinstance(out["t"], str)
        except TemplateError as exc:
            assert exc.kind != "internal error", (source, str(exc))
    assert time.monotonic() - start < 3.0


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=30).map("".join), datas)
def test_token_soup(source: str, data: Any) -> None:
    check(source, data)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(FUNCS),
    st.lists(st.sampled_from(ARGS), max_size=4),
    st.booleans(),
    datas,
)
def test_every_function_with_any_arguments(name: str, args: list[str], piped: bool, data: Any) -> None:
    if piped and args:
        source = "{{ " + args[0] + " | " + " ".join([name, *args[1:]]) + " }}"
    else:
        source = "{{ " + " ".join([name, *args]) + " }}"
    check(source, data)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), datas)
def test_arbitrary_text(source: str, data: Any) -> None:
    check(source, data)
