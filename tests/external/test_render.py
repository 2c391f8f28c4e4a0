"""The Secret an ExternalSecret asks for: ESO's ApplyTemplate and setMetadata, step by step."""

from __future__ import annotations

from typing import Any

import pytest

from secretsync import model
from secretsync.errors import TemplateError, TemplateSourceError
from secretsync.external import render

CANARY = "canary-51d0e2"
VALUES = {"user": b"admin", "password": CANARY.encode()}


def spec(template: dict[str, Any] | None = None, **meta: Any) -> model.ExternalSecretSpec:
    body: dict[str, Any] = {
        "apiVersion": "secretsync.io/v1alpha1",
        "kind": "ExternalSecret",
        "metadata": {"name": "app", "namespace": "team-a", **meta},
        "spec": {"secretStoreRef": {"name": "vault"}, "dataFrom": [{"extract": {"key": "app"}}]},
    }
    if template is not None:
        body["spec"]["target"] = {"template": template}
    return model.parse_external_secret(body)


def run(
    template: dict[str, Any] | None = None, sources: render.Sources | None = None, **meta: Any
) -> render.Desired:
    return render.render(spec(template, **meta), VALUES, sources or {})


def test_without_template_the_values_and_the_external_secrets_metadata_are_copied() -> None:
    desired = run(
        labels={"app": "web", "secretsync.io/x": "no"},
        annotations={"team": "a", "kubectl.kubernetes.io/last-applied-configuration": "{}"},
    )
    assert desired.data == VALUES
    assert desired.labels == {"app": "web"}  # our own markers are never copied
    assert desired.annotations == {"team": "a", "kubectl.kubernetes.io/last-applied-configuration": "{}"}
    assert desired.type is None


def test_with_a_template_the_external_secrets_metadata_is_not_copied() -> None:
    desired = run({"data": {"dsn": "{{ .user }}:{{ .password }}"}}, labels={"app": "web"})
    assert desired.data == {"dsn": f"admin:{CANARY}".encode()}
    assert desired.labels == {} and desired.annotations == {}


def test_merge_policy_keeps_the_fetched_values_under_the_templates() -> None:
    desired = run({"mergePolicy": "Merge", "data": {"user": "{{ .user | upper }}", "extra": "x"}})
    assert desired.data == {"user": b"ADMIN", "password": CANARY.encode(), "extra": b"x"}


def test_a_template_that_renders_no_data_keeps_the_values_and_renders_its_metadata() -> None:
    desired = run(
        {
            "type": "kubernetes.io/basic-auth",
            "metadata": {"labels": {"owner": "{{ .user }}"}, "annotations": {"plain": "as is"}},
        }
    )
    assert desired.data == VALUES
    assert desired.labels == {"owner": "admin"} and desired.annotations == {"plain": "as is"}
    assert desired.type == "kubernetes.io/basic-auth"


CONFIG = {
    ("ConfigMap", "tpl"): {
        "config.yaml": b'user: "{{ .user }}"\npassword: "{{ .password }}"\n',
        "pairs": b"a: '{{ .user }}'\nb: x\n",
    },
    ("Secret", "tpl"): {"from-secret": b"{{ .user }}!"},
}


def test_template_from_config_map_secret_and_literal_in_esos_order() -> None:
    desired = run(
        {
            "templateFrom": [
                {
                    "configMap": {
                        "name": "tpl",
                        "items": [{"key": "config.yaml"}, {"key": "pairs", "templateAs": "KeysAndValues"}],
                    }
                },
                {"secret": {"name": "tpl", "items": [{"key": "from-secret"}]}},
                {"literal": "b: '{{ .password | len }}'\nlast: literal"},
                {"target": "Annotations", "literal": "synced-for: '{{ .user }}'"},
                {
                    "target": "Labels",
                    "configMap": {"name": "tpl", "items": [{"key": "pairs", "templateAs": "KeysAndValues"}]},
                },
            ],
            "data": {"last": "{{ .user }} wins"},
        },
        CONFIG,
    )
    assert desired.data == {
        "config.yaml": f'user: "admin"\npassword: "{CANARY}"\n'.encode(),
        "a": b"admin",
        "b": str(len(CANARY)).encode(),  # a later templateFrom entry wins
        "from-secret": b"admin!",
        "last": b"admin wins",  # template.data wins over templateFrom
    }
    assert desired.annotations == {"synced-for": "admin"}
    assert desired.labels == {"a": "admin", "b": "x"}


def test_template_sources_that_are_missing_say_which_and_where() -> None:
    template = {"templateFrom": [{"configMap": {"name": "tpl", "items": [{"key": "nope"}]}}]}
    with pytest.raises(TemplateSourceError) as caught:
        run(template, CONFIG)
    assert (
        str(caught.value)
        == "spec.target.template.templateFrom[0].configMap.items[0]: ConfigMap team-a/tpl has no key 'nope'"
    )
    with pytest.raises(TemplateSourceError, match=r"templateFrom\[0\].secret: Secret team-a/gone not found"):
        run(
            {"templateFrom": [{"secret": {"name": "gone", "items": [{"key": "k"}]}}]},
            {("Secret", "gone"): None},
        )


@pytest.mark.parametrize(
    ("literal", "problem"),
    [
        ("a: [1]", "entry 1 of its output is a list, not a string; quote it"),
        ("a: x\nb: {c: d}", "entry 2 of its output is a mapping"),
        ("- a\n- b", "its output must be YAML key: value lines, not a list"),
        ("a: b: c", "its output is not YAML key: value lines at line 1"),
        ("a: x\n---\nb: y", "its output holds 2 YAML documents"),
    ],
)
def test_keys_and_values_output_must_be_a_map_of_strings(literal: str, problem: str) -> None:
    with pytest.raises(TemplateError) as caught:
        run({"templateFrom": [{"literal": literal.replace("x", "{{ .password }}")}]})
    assert problem in str(caught.value)
    assert CANARY not in str(caught.value)


@pytest.mark.parametrize(
    ("literal", "where"),
    [
        # Each output holds the value exactly where the YAML reader stops, so a message built from
        # the reader's text would carry it: these are what the masking is for.
        ("{{ .password }}: 1\n{{ .password }}: 2", "line 2, column 1"),  # the reader names the key
        ("a: 1\n? {{ .password }}\n: [1]\n? {{ .password }}\n: 2", "line 4, column 3"),
        ('a: "\\q{{ .password }}"', "line 1, column 5"),  # an escape it does not know, quoted
        ("a: *{{ .password }}", "line 1, column 4"),  # an alias, named
        ("a: !{{ .password }} x", "line 1, column 4"),  # a tag, named
        ("{{ .password }}: {{ .password }}: x", "line 1, column"),
        ("a: [{{ .password }}, {{ .password | upper }}", "line 2, column 1"),
    ],
)
def test_an_output_that_is_not_yaml_is_reported_without_what_it_holds(literal: str, where: str) -> None:
    with pytest.raises(TemplateError) as caught:
        run({"templateFrom": [{"literal": literal}]})
    message = str(caught.value)
    assert message.startswith(
        f"template templateFrom[0].literal: its output is not YAML key: value lines at {where}"
    ), message
    for form in (CANARY, CANARY.upper(), CANARY[:6], CANARY[-6:]):
        assert form not in message, message


def test_keys_and_values_scalars_become_strings_as_in_go() -> None:
    """sigs.k8s.io/yaml reads ``map[string]string``: booleans, decimal integers (YAML 1.1 octal
    and hex read first), floats by FormatFloat(v, 'g', -1, 32), null as ""."""
    literal = "on: true\nno: yes\nport: 5432\nmode: 0755\nhex: 0x1f\nratio: 1.50\nbig: 123456789.0\nnone: ~"
    assert run({"templateFrom": [{"literal": literal}]}).data == {
        "true": b"true",  # a YAML 1.1 boolean key, as Go's conversion writes it
        "false": b"true",
        "port": b"5432",
        "mode": b"493",
        "hex": b"31",
        "ratio": b"1.5",
        "big": b"1.2345679e+08",
        "none": b"",
    }


def test_keys_made_by_templates_are_checked_without_showing_them() -> None:
    with pytest.raises(TemplateError) as caught:
        run({"templateFrom": [{"literal": "'{{ .password }}/x': v"}]})
    assert "makes a Secret key that is not valid" in str(caught.value) and CANARY not in str(caught.value)
    with pytest.raises(TemplateError, match=r"keys under secretsync\.io/ are the operator.s own"):
        run({"templateFrom": [{"target": "Labels", "literal": "secretsync.io/managed: 'true'"}]})
    with pytest.raises(TemplateError, match="label key that is not valid"):
        run({"templateFrom": [{"target": "Labels", "literal": "'bad key': v"}]})


def test_an_empty_key_and_value_output_adds_nothing() -> None:
    assert run({"templateFrom": [{"literal": "{{/* nothing */}}"}]}).data == {}


def test_every_template_shares_one_budget() -> None:
    heavy = "{{ range $i := until 60000 }}{{ $i }}{{ end }}"
    template = {"data": {f"k{i}": heavy for i in range(30)}}
    with pytest.raises(TemplateError, match=r"step limit|time limit"):
        run(template)


def test_source_refs_are_listed_once_in_order() -> None:
    template = {
        "templateFrom": [
            {
                "configMap": {"name": "b", "items": [{"key": "k"}]},
                "secret": {"name": "b", "items": [{"key": "k"}]},
            },
            {"configMap": {"name": "a", "items": [{"key": "k"}]}},
            {"configMap": {"name": "b", "items": [{"key": "j"}]}},
        ]
    }
    assert render.source_refs(spec(template)) == [("ConfigMap", "b"), ("Secret", "b"), ("ConfigMap", "a")]
