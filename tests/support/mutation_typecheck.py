"""Which surviving mutants does the type checker refuse? (``make test`` runs ``mypy secretsync``, strict.)

A mutant no test kills may still never ship: ``Outcome(None, ...)`` where a ``bool`` is declared, a
``.get(None)`` on a ``dict[str, ...]``. mutmut can type-check its own mutated files
(``type_check_command``), but those hold every mutant of a file behind generated trampolines that
mypy reports thousands of unrelated errors on; so each survivor is applied here, alone, to the
scratch copy's untouched source, and ``mypy`` (the project's strict configuration) checks that file.
Refused mutants are recorded with mypy's first error and counted apart from those the tests kill.

``python -m tests.support.mutation_typecheck build/mutation/<module>.json`` adds the result to a
report written before; :mod:`tests.support.mutation` runs it after every module.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_TICKS: Iterator[int] = itertools.count(1_700_000_000, 7)


def apply(source: str, diff: str, line: int) -> str | None:
    """``source`` with the mutant of ``diff`` (mutmut's diff of one function) made at ``line``.

    mutmut's hunks count lines from the function (and methods are shown dedented), so the changed
    lines are found by their text, the occurrence nearest ``line`` winning, and re-indented."""
    body = [text for text in diff.splitlines() if not text.startswith(("---", "+++", "@@"))]
    removed = [text[1:] for text in body if text.startswith("-")]
    added = [text[1:] for text in body if text.startswith("+")]
    lines = source.split("\n")
    starts = [
        i
        for i in range(len(lines) - len(removed) + 1)
        if removed and all(lines[i + k].strip() == r.strip() for k, r in enumerate(removed))
    ]
    if not starts:
        return None
    start = min(starts, key=lambda i: abs(i + 1 - line))
    shift = (len(lines[start]) - len(lines[start].lstrip())) - (len(removed[0]) - len(removed[0].lstrip()))
    indented = [" " * shift + text if shift >= 0 else text[-shift:] for text in added]
    return "\n".join(lines[:start] + indented + lines[start + len(removed) :])


def _touch(path: Path) -> None:
    # mypy's cache trusts a file whose (mtime, size) it has seen: two mutants of one size, written in
    # the same second, would get the first one's verdict
    tick = next(_TICKS)
    os.utime(path, (tick, tick))


def refused(work: Path, not_killed: dict[str, dict[str, Any]], mypy: str) -> dict[str, str]:
    """Mutant name -> mypy's first error, for each survivor the type checker refuses."""
    found: dict[str, str] = {}
    for name, info in not_killed.items():
        rel, _, line = str(info["where"]).rpartition(":")
        path = work / rel
        if not rel or not path.is_file():
            continue
        original = path.read_text()
        mutated = apply(original, str(info["diff"]), int(line or 0))
        if mutated is None:
            continue
        try:
            path.write_text(mutated)
            _touch(path)
            done = subprocess.run([mypy, rel], cwd=work, capture_output=True, text=True, check=False)
        finally:
            path.write_text(original)
            _touch(path)
        errors = [text for text in done.stdout.splitlines() if ": error: " in text]
        if done.returncode != 0 and errors:
            found[name] = errors[0].split(": error: ", 1)[1]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", type=Path, help="build/mutation/<module>.json")
    parser.add_argument("--work", type=Path, help="scratch copy (default: the report's own)")
    args = parser.parse_args(argv)
    mypy = str(Path(sys.executable).with_name("mypy"))
    for path in args.reports:
        report = json.loads(path.read_text())
        work = args.work or path.parent / "work" / path.stem
        report["mypy_refuses"] = refused(work, report["not_killed"], mypy)
        path.write_text(json.dumps(report, indent=1) + "\n")
        count, of = len(report["mypy_refuses"]), len(report["not_killed"])
        print(f"{path.stem}: mypy refuses {count} of {of} survivors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
