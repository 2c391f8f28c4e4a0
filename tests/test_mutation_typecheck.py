"""tests/support/mutation_typecheck.py: survivors applied alone to the source, judged by mypy."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.support.mutation_typecheck import apply, refused

SOURCE = """class Box:
    def put(self, key: str) -> None:
        self.seen.pop(key, None)
        if key:
            self.seen.pop(key, None)
"""

# mutmut shows a method dedented, its hunk counted from the def
METHOD_DIFF = """--- pkg/box.py
+++ pkg/box.py
@@ -1,4 +1,4 @@
 def put(self, key: str) -> None:
     self.seen.pop(key, None)
     if key:
-        self.seen.pop(key, None)
+        self.seen.pop(None, None)
"""


def test_a_method_mutant_lands_on_the_occurrence_nearest_its_line_reindented() -> None:
    mutated = apply(SOURCE, METHOD_DIFF, 5)
    assert mutated == SOURCE.replace(
        "        if key:\n            self.seen.pop(key, None)",
        "        if key:\n            self.seen.pop(None, None)",
    )
    first = apply(SOURCE, METHOD_DIFF, 3)
    assert first == SOURCE.replace(
        "        self.seen.pop(key, None)\n        if", "        self.seen.pop(None, None)\n        if"
    )


def test_a_multi_line_change_and_a_change_that_is_not_there() -> None:
    diff = "@@ -1,2 +1,1 @@\n-a = 1\n-b = 2\n+a = 2\n"
    assert apply("x = 0\na = 1\nb = 2\n", diff, 2) == "x = 0\na = 2\n"
    assert apply("x = 0\n", diff, 2) is None
    assert apply("x = 0\n", "@@ -1 +1 @@\n+added\n", 1) is None  # nothing removed: nothing to find


def test_mypy_refuses_a_mutant_against_the_declared_types_and_accepts_an_equivalent_one(
    tmp_path: Path,
) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    source = "def ready(flag: bool) -> bool:\n    return flag\n\n\nVALUE = ready(False)\nNAME = 'Opaque'\n"
    (tmp_path / "pkg" / "box.py").write_text(source)
    (tmp_path / "pyproject.toml").write_text("[tool.mypy]\nstrict = true\n")
    survivors = {
        "typed": {
            "where": "pkg/box.py:5",
            "diff": "@@ -1 +1 @@\n-VALUE = ready(False)\n+VALUE = ready(None)\n",
        },
        "string": {"where": "pkg/box.py:6", "diff": "@@ -1 +1 @@\n-NAME = 'Opaque'\n+NAME = 'XXOpaqueXX'\n"},
    }
    found = refused(tmp_path, survivors, str(Path(sys.executable).with_name("mypy")))
    assert list(found) == ["typed"]
    assert 'incompatible type "None"; expected "bool"' in found["typed"]
    assert (tmp_path / "pkg" / "box.py").read_text() == source  # put back
