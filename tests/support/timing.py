"""The tests that measure wall-clock time of CPU work, marked ``timing``.

``make unit`` runs the suite in two pytest processes (pytest-xdist, ``--dist loadfile``) and then
these tests alone: a bound such as "a hostile template fails within 2.5 s" or "/healthz answers
within 1 s under a flood" is a statement about this process's work, and a second test process
sharing the CPUs would make it a statement about the neighbour. Plain ``pytest`` runs everything
in one process, as before.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent

# module -> the wall-clock bound it asserts
TIMING_MODULES: dict[str, str] = {
    "gotemplate/test_limits.py": "hostile templates fail within 0.5-2.5 s",
    "gotemplate/test_crypto.py": "expensive-call budgets end renders within 0.5-3 s",
    "gotemplate/test_fuzz.py": "a fuzzed render ends within 3 s",
    "gotemplate/test_migration.py": "each migrated Jinja template renders within 1 s",
    "security/test_pem.py": "PEM parsing time grows linearly",
    "security/test_rsa_sizes.py": "an oversized RSA key is refused within 0.5 s",
    "security/test_templates.py": "a hostile template does not slow another namespace's render",
    "security/test_http_api_abuse.py": "the HTTP API answers within 1 s under abuse",
    "security/test_http_api_operator.py": "/healthz answers within 1 s under a flood",
    "test_templating.py": "a template error is reported within 8 s",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.fspath)).resolve()
        if path.is_relative_to(TESTS) and path.relative_to(TESTS).as_posix() in TIMING_MODULES:
            item.add_marker(pytest.mark.timing)
