"""Supply chain: no pinned or allowed dependency version with a known advisory; a pinned base image.

The dependency audit runs offline against tests/data/advisories.json, a reviewed snapshot: this
project's CI machines reach PyPI's package index but no vulnerability database (PyPI's JSON API and
OSV are not reachable), so ``pip-audit`` cannot run here. Where a database is reachable,
``pip-audit -r constraints.txt`` refreshes the snapshot (docs/security.md).
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
ADVISORIES: list[dict[str, str]] = json.loads((ROOT / "tests/data/advisories.json").read_text())["advisories"]
PYPROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _pins() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = Version(version)
    return pins


def _floor(requirement: Requirement) -> Version | None:
    """The lowest version a requirement allows (from ``>=``, ``==`` or ``~=``), None if unbounded."""
    floors = [Version(s.version) for s in requirement.specifier if s.operator in (">=", "==", "~=")]
    return max(floors) if floors else None


def _runtime_requirements() -> list[Requirement]:
    project = PYPROJECT["project"]
    extras = [req for name, reqs in project["optional-dependencies"].items() if name != "dev" for req in reqs]
    found = [
        Requirement(r) for r in [*project["dependencies"], *extras, *PYPROJECT["build-system"]["requires"]]
    ]
    return [r for r in found if canonicalize_name(r.name) != "secretsync"]


@pytest.mark.parametrize("advisory", ADVISORIES, ids=lambda a: f"{a['package']}-{a['id']}")
def test_no_pinned_version_is_affected(advisory: dict[str, str]) -> None:
    pinned = _pins().get(canonicalize_name(advisory["package"]))
    if pinned is None:
        return  # not installed at all
    assert pinned >= Version(advisory["fixed"]), (
        f"constraints.txt pins {advisory['package']}=={pinned}, affected by {advisory['id']} "
        f"({advisory['what']}); fixed in {advisory['fixed']}"
    )


def test_lower_bounds_exclude_every_affected_version() -> None:
    by_package: dict[str, list[dict[str, str]]] = {}
    for advisory in ADVISORIES:
        by_package.setdefault(canonicalize_name(advisory["package"]), []).append(advisory)
    problems = []
    for requirement in _runtime_requirements():
        for advisory in by_package.get(canonicalize_name(requirement.name), []):
            floor = _floor(requirement)
            if floor is None or floor < Version(advisory["fixed"]):
                problems.append(f"{requirement} allows versions affected by {advisory['id']}")
    assert problems == []


def test_the_security_floors_are_declared() -> None:
    """Transitive packages with advisories have their own floor in pyproject.toml."""
    declared = {canonicalize_name(r.name) for r in _runtime_requirements()}
    runtime = {
        "aiohttp",
        "cryptography",
        "requests",
        "urllib3",
        "certifi",
        "idna",
        "protobuf",
        "pyyaml",
        "setuptools",
    }
    assert runtime <= declared


def test_every_pin_is_exact_and_the_audit_snapshot_is_recent() -> None:
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        assert not line or re.fullmatch(r"[A-Za-z0-9_.\-]+==[A-Za-z0-9_.+\-]+", line), line
    snapshot = json.loads((ROOT / "tests/data/advisories.json").read_text())["snapshot"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", snapshot)


def test_the_base_image_is_pinned_by_digest() -> None:
    froms = re.findall(r"^FROM\s+(\S+)", (ROOT / "Dockerfile").read_text(), flags=re.MULTILINE)
    assert froms, "Dockerfile has no FROM"
    for image in froms:
        assert re.search(r"@sha256:[0-9a-f]{64}$", image), f"{image} is not pinned by digest"
