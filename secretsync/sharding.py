"""Sharding: several operator instances split the objects between them by a label, as Flux does.

Objects are labelled ``sharding.secretsync.io/key: <shard>``; each instance is started with
``--watch-label-selector`` and reconciles only the SealedSecrets and ExternalSecrets that
selector matches (server-side: the API server sends it nothing else). The convention is Flux's
(``sharding.fluxcd.io/key``, ``--watch-label-selector``), with our own label key: a Flux
Kustomization's ``commonMetadata`` puts Flux's shard label on everything it applies, which would
strand our objects in a shard of ours that may not exist. The usual layout::

    main instance   --watch-label-selector='!sharding.secretsync.io/key'    (unlabelled objects)
    shard1          --watch-label-selector=sharding.secretsync.io/key=shard1
    shard2          --watch-label-selector=sharding.secretsync.io/key=shard2

The selector has the full Kubernetes syntax (``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``,
``k notin (a,b)``, ``k``, ``!k``, comma-separated terms all of which must hold), checked here at
start as ``metav1.ParseToLabelSelector`` does (so ``>`` and ``<`` are refused, as in Flux).
Each instance's leader-election Lease is named after it (:meth:`Selector.lease_name`, Flux's
``GenerateID``), so every shard has its own HA. Pure: no I/O, no Kubernetes client.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping
from typing import Any, Final

SHARD_LABEL: Final = "sharding.secretsync.io/key"
"""The label that puts an object in a shard (its value names the shard)."""
MAIN_SELECTOR: Final = f"!{SHARD_LABEL}"
"""The selector of the main instance when shards run: every object without a shard label."""

_SPECIAL = frozenset("=!(),<>")
_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_PREFIX = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_OPERATORS = ("=", "==", "!=", "in", "notin")


def _check_key(key: str) -> str:
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _PREFIX.fullmatch(prefix)):
        raise ValueError(f"invalid label key {key!r}: the prefix must be a DNS subdomain (e.g. example.com)")
    if not name or len(name) > 63 or not _NAME.fullmatch(name):
        raise ValueError(
            f"invalid label key {key!r}: the name must be 1-63 characters, alphanumerics, '-', '_' or "
            "'.', starting and ending with an alphanumeric"
        )
    return key


def _check_value(value: str) -> str:
    if value and (len(value) > 63 or not _NAME.fullmatch(value)):
        raise ValueError(
            f"invalid label value {value!r}: at most 63 characters, alphanumerics, '-', '_' or '.', "
            "starting and ending with an alphanumeric"
        )
    return value


def _tokens(text: str) -> list[str]:
    """The lexer of k8s.io/apimachinery's labels.Parse: identifiers, and the special symbols
    ``=``, ``==``, ``!=``, ``!``, ``(``, ``)``, ``,``, ``<``, ``>``; whitespace separates."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char in _SPECIAL:
            pair = text[i : i + 2]
            if pair in ("==", "!="):
                out.append(pair)
                i += 2
            else:
                out.append(char)
                i += 1
        else:
            start = i
            while i < len(text) and not text[i].isspace() and text[i] not in _SPECIAL:
                i += 1
            out.append(text[start:i])
    return out


@dataclasses.dataclass(frozen=True)
class Requirement:
    """One term: ``operator`` is ``exists``, ``!`` (does not exist), ``=``, ``!=``, ``in`` or ``notin``."""

    key: str
    operator: str
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.operator == "exists":
            return present
        if self.operator == "!":
            return not present
        if self.operator in ("=", "in"):
            return present and labels[self.key] in self.values
        return not present or labels[self.key] not in self.values  # != and notin


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str | None:
        item = self.peek()
        self.pos += 1
        return item

    def identifier(self, what: str) -> str:
        item = self.take()
        if item is None or item in _SPECIAL or item in ("==", "!="):
            raise ValueError(f"expected {what}, found {item or 'the end'}")
        return item

    def end_of_term(self) -> None:
        item = self.peek()
        if item not in (None, ","):
            raise ValueError(f"expected ',' or the end after a term, found {item!r}")

    def requirement(self) -> Requirement:
        if self.peek() == "!":
            self.take()
            key = _check_key(self.identifier("a label key after '!'"))
            self.end_of_term()
            return Requirement(key, "!")
        key = _check_key(self.identifier("a label key"))
        operator = self.peek()
        if operator in (None, ","):
            return Requirement(key, "exists")
        self.take()
        if operator in ("<", ">"):
            raise ValueError(f"operator {operator!r} is not supported (use =, ==, !=, in, notin, or !key)")
        if operator not in _OPERATORS:
            raise ValueError(f"expected an operator after {key!r} (=, ==, !=, in, notin), found {operator!r}")
        if operator in ("in", "notin"):
            return Requirement(key, operator, self.value_set(key, operator))
        value = ""
        if self.peek() not in (None, ","):
            value = self.identifier(f"a value after {key}{operator}")
        self.end_of_term()
        return Requirement(key, "=" if operator == "==" else operator, frozenset({_check_value(value)}))

    def value_set(self, key: str, operator: str) -> frozenset[str]:
        if self.take() != "(":
            raise ValueError(f"expected '(' after {key} {operator}")
        values: set[str] = set()
        expect_value = True
        while True:
            item = self.take()
            if item is None:
                raise ValueError(f"missing ')' after {key} {operator} (")
            if item == ")":
                if expect_value:  # "()", "(a,)": an empty value, as labels.Parse reads them
                    values.add("")
                break
            if item == ",":
                if expect_value:
                    values.add("")
                expect_value = True
                continue
            if not expect_value:
                raise ValueError(f"expected ',' or ')' in {key} {operator} (...), found {item!r}")
            if item in _SPECIAL or item in ("==", "!="):
                raise ValueError(f"unexpected {item!r} in {key} {operator} (...)")
            values.add(_check_value(item))
            expect_value = False
        self.end_of_term()
        return frozenset(values)

    def parse(self) -> tuple[Requirement, ...]:
        if self.peek() is None:
            return ()
        out = [self.requirement()]
        while self.peek() == ",":
            self.take()
            out.append(self.requirement())
        if self.peek() is not None:
            raise ValueError(f"unexpected {self.peek()!r}")
        return tuple(out)


@dataclasses.dataclass(frozen=True)
class Selector:
    """An instance's ``--watch-label-selector``: the text as given and its parsed terms."""

    text: str = ""
    requirements: tuple[Requirement, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Selector:
        """Parse and check; ``ValueError`` says what is wrong (``""``: every object, no sharding)."""
        stripped = text.strip()
        try:
            return cls(stripped, _Parser(stripped).parse())
        except ValueError as exc:
            raise ValueError(f"{stripped!r} is not a label selector: {exc}") from None

    @property
    def sharded(self) -> bool:
        """Does this instance take only some of the objects?"""
        return bool(self.requirements)

    def matches(self, labels: Mapping[str, Any] | None) -> bool:
        found = {str(k): str(v) for k, v in (labels or {}).items()}
        return all(req.matches(found) for req in self.requirements)

    def selects(self, body: Mapping[str, Any]) -> bool:
        """Is ``body`` (an object) in this instance's shard?"""
        meta = body.get("metadata")
        labels = meta.get("labels") if isinstance(meta, Mapping) else None
        return self.matches(labels if isinstance(labels, Mapping) else None)

    @property
    def takes_unlabelled(self) -> bool:
        """Does it take the objects nobody labelled (the main instance: no selector, ``!key``,
        ``key notin (...)``)? That instance manages the sealing keys unless told otherwise."""
        return self.matches({})

    @property
    def shard_id(self) -> str:
        """Flux's ``GenerateID`` suffix: the first 8 hex digits of the selector's SHA-256 ("" unsharded)."""
        return hashlib.sha256(self.text.encode()).hexdigest()[:8] if self.text else ""

    def lease_name(self, base: str) -> str:
        """The leader-election Lease of this instance: ``base`` unsharded (as before sharding),
        else ``base-<shard_id>`` (every shard its own Lease)."""
        return f"{base}-{self.shard_id}" if self.text else base
