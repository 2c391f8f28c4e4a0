"""Mutants of the Jinja-syntax migration check, semver, fromYaml, float64, urlParse's hostname.

Expected values are Masterminds/semver v3 (Inc* keep the ``v`` of the original), sigs.k8s.io/yaml
over yaml.v2 (a libyaml port: a tab separates a key from its value; keys are formatted with
strconv's ``'g', -1``), spf13/cast ToFloat64 (errors become 0) and Go 1.26 net/url splitHostPort.
The Jinja check is our own heuristic: its cases say which sources get the hint.
"""

from __future__ import annotations

import pytest

from secretsync.gotemplate import Limits
from secretsync.gotemplate import funcs as _funcs
from secretsync.gotemplate.jinja import looks_like_jinja

from .test_mutation_funcsB import fails, r

# --- jinja: the source-level check ---------------------------------------------------------------

_TABLE = _funcs.table(None)


@pytest.mark.parametrize(
    ("source", "want"),
    [
        # statements and comments: an opener followed (after it) by its closer
        ("{% if x %}", True),
        ("{# note #}", True),
        ("{%%}", True),  # the closer may start right after the opener
        ("{%}", False),  # ... but not overlap it
        ("x %}", False),  # a closer without an opener
        ("%} {%", False),  # a closer only before the opener
        ("{% a %} {%", True),  # the first opener counts, not the last
        # actions: every one is looked at, in order, delimiters exactly two characters wide
        ("{{ x }}{{ .a }}", True),
        ("{{}}{{ x }}", True),
        ("{{x", True),  # an unterminated action is its rest of the source
        ("{{x}}", True),
        ("{{-x}}", True),  # trim markers are not part of the body
        ("{{x-}}", True),
        ("{{ .a {{}}{{ x }}", True),  # scanning goes on after the closing delimiter
        # one action's body
        ("{{ /* a == b */ }}", False),  # a Go comment is never Jinja
        ("{{ a != b }}", True),
        ("{{ .a['k'] }}", True),
        ("{{ .a | Upper(1) }}", True),  # a filter call, whatever the case of its name
        ("{{ x[k] }}", True),
        ("{{ myfn(a) }}", True),
    ]
    # a Go keyword or constant alone is not a Jinja variable
    + [
        ("{{ " + w + " }}", False)
        for w in ("true", "false", "nil", "else", "range", "with", "define", "block", "break", "continue")
    ],
)
def test_looks_like_jinja(source: str, want: bool) -> None:
    assert looks_like_jinja(source, _TABLE) is want


def test_jinja_check_reads_a_bounded_number_of_actions() -> None:
    # Only the first 2000 actions are read (our own bound, for linear time).
    assert looks_like_jinja("{{ .a }}" * 1999 + "{{ x }}", _TABLE) is True
    assert looks_like_jinja("{{ .a }}" * 2000 + "{{ x }}", _TABLE) is False


# --- semver: Inc* ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "want"),
    [
        ('{{ (semver "1.2.3").IncPatch }}', "1.2.4"),
        ('{{ (semver "v1.2.3-rc.1+b").IncPatch }}', "1.2.3"),  # a prerelease just loses its suffix
        ('{{ (semver "1.2.3-rc.1+b").IncMinor }}', "1.3.0"),
        ('{{ (semver "1.2.3-rc.1+b").IncMajor }}', "2.0.0"),
        ('{{ with (semver "1.2.3+b").IncPatch }}{{ .Prerelease }}|{{ .Metadata }}{{ end }}', "|"),
        ('{{ with (semver "1.2.3-a+b").IncMinor }}{{ .Prerelease }}|{{ .Metadata }}{{ end }}', "|"),
        ('{{ with (semver "1.2.3-a+b").IncMajor }}{{ .Prerelease }}|{{ .Metadata }}{{ end }}', "|"),
    ],
)
def test_semver_increments(source: str, want: str) -> None:
    assert r(source) == want


@pytest.mark.xfail(
    strict=True,
    reason="bug: Inc* results drop Version.original (v prefix + String), which reflect.DeepEqual compares",
)
def test_semver_increment_keeps_the_v_prefix_in_original() -> None:
    # IncPatch sets vNext.original = v.originalVPrefix() + vNext.String(); DeepEqual sees it.
    assert r('{{ deepEqual (semver "v1.2.3").IncPatch (semver "1.2.3").IncPatch }}') == "false"
    assert r('{{ deepEqual (semver "v1.2.3-a").IncPatch (semver "v1.2.3-b").IncPatch }}') == "true"


# --- fromYaml ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yaml", "want"),
    [
        ("a:\t1", '{"a":1}'),  # yaml.v2, like libyaml, takes a tab after the colon
        ("false: 1\ntrue: 2", '{"false":1,"true":2}'),
        ("1.25: 3\n1e21: 4", '{"1.25":3,"1e+21":4}'),  # FormatFloat(k, 'g', -1, 64)
        ("a: !!str 123\nb: ! 123", '{"a":"123","b":"123"}'),
        ("c: &x 7\nd: *x", '{"c":7,"d":7}'),
    ],
)
def test_from_yaml(yaml: str, want: str) -> None:
    assert r("{{ fromYaml .y | toJson }}", {"y": yaml}) == want


def test_from_yaml_depth_limit_is_the_container_count() -> None:
    # Our own bound: max_depth containers (the mapping counts) compose, one more does not.
    limits = Limits(max_depth=5)
    assert r("{{ fromYaml .y | len }}", {"y": "a: [[[[]]]]"}, limits=limits) == "1"
    assert fails("{{ fromYaml .y | len }}", {"y": "a: [[[[[]]]]]"}, limits=limits).kind == "depth limit"


# --- float64 (cast.ToFloat64, error ignored) -------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "want"),
    [
        ("{{ float64 nil }}", "0"),
        ('{{ float64 "1e400" }}', "0"),  # ParseFloat's range error: cast returns 0, not +Inf
        ('{{ float64 "x" }}', "0"),
        ("{{ float64 (list 1) }}", "0"),
        ("{{ float64 (dict) }}", "0"),
    ],
)
def test_float64_errors_are_zero(source: str, want: str) -> None:
    assert r(source) == want


# --- urlParse hostname (net/url splitHostPort) -----------------------------------------------------


@pytest.mark.parametrize(
    ("url", "want"),
    [
        ("http://a:8080/x", "a"),
        ("http://a:/x", "a"),
        ("http://a]/x", "a]"),  # brackets come off only as a pair
        ("http://[::1]:80/x", "::1"),
        ("http://[::1]/x", "::1"),
    ],
)
def test_url_parse_hostname(url: str, want: str) -> None:
    assert r("{{ (urlParse .u).hostname }}", {"u": url}) == want
