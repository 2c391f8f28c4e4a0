"""ESO's ``dataFrom[].rewrite``: operations on the keys (and, for merge, values) of one entry's result.

Applied in list order to what ``extract`` or ``find`` returned, before the keys are checked
and the values decoded (ESO's order: provider -> rewrite -> conversion only when there is no
rewrite -> key check -> decoding):

* ``regexp``: every key becomes Go's ``Regexp.ReplaceAllString(key, target)`` (RE2, ``$1``,
  ``${name}`` and ``$$`` expand as in Go) -- run by the template engine's own
  ``regexReplaceAll``, so it is bounded like any template.
* ``transform``: every key becomes the template rendered with ``.value`` the key (Go's default
  for a missing key, ``<no value>``, as ESO does not set ``missingkey=error`` there).
* ``merge``: every value is a JSON object; they are merged key by key, in sorted key order
  with the ``priority`` keys last (later wins), then either replace the result (``Extract``:
  one Secret key per merged field) or are added under ``into`` (``JSON``).

Where ESO leaves the result to Go's random map order (two keys rewritten to the same name),
this fails instead, naming both: a Secret that changes with every sync helps nobody.
Messages name remote keys (names) and never a value, nor the fields inside one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from secretsync import gotemplate, model
from secretsync.errors import RewriteError, SpecError
from secretsync.providers import paths

_REGEXP = gotemplate.parse("rewrite.regexp", "{{ regexReplaceAll .source .key .target }}")


def apply(
    operations: tuple[model.Rewrite, ...], values: Mapping[str, bytes], *, path: str
) -> dict[str, bytes]:
    """``values`` after every operation; SpecError for a template that does not parse, RewriteError
    for one that cannot apply to these values."""
    out = dict(values)
    for index, operation in enumerate(operations):
        where = f"{path}.rewrite[{index}]"
        if isinstance(operation, model.RewriteRegexp):
            out = _rename(out, where, lambda key, op=operation, at=where: _regexp(op, key, at))
        elif isinstance(operation, model.RewriteTransform):
            template = _parse(operation.template, where)
            out = _rename(out, where, lambda key, tmpl=template, at=where: _transform(tmpl, key, at))
        else:
            out = merge(operation, out, where)
    return out


def _rename(values: Mapping[str, bytes], where: str, rename: Any) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    origin: dict[str, str] = {}
    for key in sorted(values):
        new = rename(key)
        if new in out:
            raise RewriteError(
                f"{where}: remote keys {origin[new]!r} and {key!r} both become {new!r}; change the "
                "rewrite so that each key stays distinct"
            )
        out[new] = values[key]
        origin[new] = key
    return out


def _regexp(operation: model.RewriteRegexp, key: str, where: str) -> str:
    data = {"source": operation.source, "key": key, "target": operation.target}
    try:
        return _REGEXP.execute(data)
    except gotemplate.TemplateError as exc:
        raise RewriteError(f"{where}.regexp: {exc.kind}") from None


def _parse(template: str, where: str) -> gotemplate.Template:
    try:
        return gotemplate.parse("transform", template)
    except gotemplate.TemplateError as exc:
        raise SpecError(f"{where}.transform.template", str(exc)) from None


def _transform(template: gotemplate.Template, key: str, where: str) -> str:
    try:
        return template.execute({"value": key}, missing_key="default")
    except gotemplate.TemplateError as exc:
        raise RewriteError(f"{where}.transform.template: {exc}") from None


def merge(operation: model.RewriteMerge, values: Mapping[str, bytes], where: str) -> dict[str, bytes]:
    """ESO's RewriteMerge: JSON object values merged in sorted key order, priority keys last."""
    order = sorted(k for k in values if k not in operation.priority) + list(operation.priority)
    merged: dict[str, Any] = {}
    conflicts: list[tuple[str, str]] = []  # (remote key that came first, remote key that overwrote)
    first: dict[str, str] = {}
    for key in order:
        if key not in values:
            if operation.priority_policy == "IgnoreNotFound":
                continue
            raise RewriteError(
                f"{where}.merge: priority key {key!r} is not among the remote keys; add it, or set "
                "priorityPolicy IgnoreNotFound"
            )
        try:  # as Go's json.Unmarshal: every number a float64, NaN and out-of-range numbers refused
            document = paths.go_unmarshal(values[key])
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise RewriteError(f"{where}.merge: the value of remote key {key!r} is not a JSON object")
        for field, value in document.items():
            if field in merged:
                conflicts.append((first[field], key))
            else:
                first[field] = key
            merged[field] = value
    if conflicts and operation.conflict_policy != "Ignore":
        a, b = conflicts[0]
        raise RewriteError(
            f"{where}.merge: {len(conflicts)} field(s) appear in more than one value (first between "
            f"remote keys {a!r} and {b!r}); set conflictPolicy Ignore to let the later one win"
        )
    if operation.strategy == "JSON":
        out = dict(values)
        # ESO's JSONMarshal: an Encoder with SetEscapeHTML(false), its newline trimmed
        out[operation.into] = paths.go_marshal(merged, escape_html=False)
        return out
    # ESO's GetByteValue: strings as they are, numbers as FormatFloat('f', -1), objects and lists as
    # json.Marshal writes them
    return {field: paths.go_value(value) for field, value in merged.items()}
