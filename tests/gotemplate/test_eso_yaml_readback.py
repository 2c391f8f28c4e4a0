"""ESO's toYaml reads its JSON back with yaml.v2 (sigs.k8s.io/yaml's JSONToYAML): what yaml.v2's
reader and scanner do to encoding/json's text, as Go does it.

Expected outputs are go1.26.8 running ESO's ``toYAML`` over sigs.k8s.io/yaml v1.6.0 (yaml.v2
v2.4.2); "" is Go's failure, which ESO's toYaml swallows into an empty string:
- encoding/json leaves U+007F-U+009F and U+FFFE/U+FFFF raw, and yaml.v2's reader refuses them
  ("control characters are not allowed"), except U+0085 (NEL);
- NEL is a line break to yaml.v2's scanner, folded like one inside the double-quoted string
  (one break a space, n breaks n-1 newlines, spaces around them dropped); a NEL right before
  "---" or "..." and a blank starts a document marker, and a key holding one spans two lines;
- a key whose JSON text (escapes counted) is over 1,022 characters is forgotten by the scanner.
"""

from __future__ import annotations

import pytest

from secretsync.gotemplate.funcs.eso import to_yaml
from secretsync.gotemplate.limits import Budget, Limits
from secretsync.gotemplate.values import Value

CASES: list[tuple[str, Value, str]] = [
    ("nel-alone", "\x85", "' '"),
    ("nel-between", "a\x85b", "a b"),
    ("nel-spaces-around", "a \x85 b", "a b"),
    ("two-nels", "a\x85\x85b", "|-\n  a\n  b"),
    ("nels-and-spaces", "a \x85 \x85\x85 b", "|-\n  a\n\n  b"),
    ("only-nels", "\x85\x85\x85", "|2+\n\n"),
    ("nel-document-start", "x\x85--- y", ""),
    ("nel-dashes-at-end", "x\x85---", "x ---"),
    ("nel-space-dashes", "x\x85 --- y", "x --- y"),
    ("nel-document-end", "x\x85...\x85", ""),
    ("nel-two-dots", "x\x85..", "x .."),
    ("del", "\x7f", ""),
    ("c1-control", "a\x80", ""),
    ("last-c1-control", "\x9f", ""),
    ("noncharacter-fffe", "\ufffe", ""),
    ("noncharacter-ffff", "\uffff", ""),
    ("replacement-char", "\ufffd", "\ufffd"),
    ("nbsp", "\xa0", "\xa0"),
    ("key-nel", {"\x85": 1}, ""),
    ("key-with-nel", {"a\x85b": 1}, ""),
    ("key-1022", {"k" * 1022: 1}, "? " + "k" * 1022 + "\n: 1"),
    ("key-1023", {"k" * 1023: 1}, ""),
    ("key-170-escapes", {"<" * 170: 1}, "? " + "<" * 170 + "\n: 1"),
    ("key-171-escapes", {"<" * 171: 1}, ""),
    ("nested-key-1023", {"a": {"b": [{"k" * 1023: 1}]}}, ""),
    ("key-del", {"a\x7f": 1}, ""),
    ("list-of-nels", ["\x85", {"x": "\x85\x85"}], "- ' '\n- x: |2+\n"),
    ("key-folding-onto-another", {"a b": 1, "a\x85b": 2}, ""),
]


@pytest.mark.parametrize(("value", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_to_yaml_reads_its_json_back_as_yaml_v2_does(value: Value, expected: str) -> None:
    assert to_yaml(Budget(Limits()), value) == expected


def test_a_long_key_of_line_breaks_is_counted_by_its_json_escapes() -> None:
    # "\n" is two characters of JSON: 511 of them are 1,022, the most yaml.v2 keeps
    assert to_yaml(Budget(Limits()), {"\n" * 511: 1}).startswith("? |2+\n")
    assert to_yaml(Budget(Limits()), {"\n" * 512: 1}) == ""
