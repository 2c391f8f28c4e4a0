"""Mutation testing of the core with mutmut (``make mutation``; docs/testing.md records the scores).

``python -m tests.support.mutation`` runs every module of :data:`MODULES`;
``python -m tests.support.mutation secretsync/crypto.py`` one (``make mutation MODULE=...``).

Each module runs in its own scratch copy of the repository (``build/mutation/work/<module>/``), never
in the working tree: mutmut writes its mutated copy under ``mutants/`` there, and nobody else's test
run can import a mutant. The copy's ``pyproject.toml`` gets a ``[tool.mutmut]`` section naming the one
module to mutate and only the fast test files that cover it (:data:`MODULES`): no operator process,
no real control plane, so one module takes minutes. mutmut runs each mutant against only the tests
that called the mutated function (it traces a clean run first), one worker at a time
(``--children N``: N).

Results: ``build/mutation/<module>.json`` (every mutant's status, the diff of each one not killed)
and a line per module: killed / survived / timeout / no tests / score.

``--rerun`` keeps a module's scratch copy, refreshes its tests from the working tree and re-runs only
the mutants that were not killed: the loop for writing a test against a survivor. ``--resume``
finishes an interrupted run (a stopped ``make mutation``): same copy, same tests, only the mutants
without a result.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.support import mutation_typecheck as typecheck

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "build" / "mutation"

# module (a file, or a package directory) -> the fast test files that cover it
MODULES: dict[str, list[str]] = {
    "secretsync/crypto.py": [
        "tests/test_crypto.py",
        "tests/test_sealing.py",
        "tests/test_unsealmark.py",
        "tests/security/test_pem.py",
        "tests/security/test_rsa_sizes.py",
        "tests/test_mutation_crypto.py",
    ],
    "secretsync/sealing.py": [
        "tests/test_sealing.py",
        "tests/test_kubeseal_compat.py",
        "tests/test_unsealmark.py",
        "tests/test_mutation_sealing.py",
    ],
    "secretsync/unsealmark.py": [
        "tests/test_unsealmark.py",
        "tests/test_mutation_unsealmark.py",
    ],
    "secretsync/status.py": [
        "tests/test_status.py",
        "tests/test_mutation_status.py",
    ],
    "secretsync/http.py": [
        "tests/test_http_api.py",
        "tests/security/test_http_api_abuse.py",
        "tests/test_mutation_http.py",
    ],
    # (providers/base.py is protocols and dataclasses: no selected test reaches its two small functions)
    "secretsync/providers/fake.py": [
        "tests/test_provider_fake.py",
        "tests/test_mutation_providers.py",
    ],
    "secretsync/providers/paths.py": [
        "tests/test_provider_paths.py",
        "tests/security/test_vault_paths.py",
        "tests/test_mutation_providers.py",
    ],
    # these three run against their real backends (OpenBao, moto, the GCP gRPC fake): slow per mutant
    "secretsync/providers/vault.py": [
        "tests/test_provider_vault.py",
        "tests/security/test_vault_paths.py",
        "tests/test_mutation_vault_config.py",
        "tests/test_mutation_vault_auth.py",
        "tests/test_mutation_vault_reads.py",
    ],
    "secretsync/providers/aws.py": [
        "tests/test_provider_aws.py",
        "tests/test_mutation_aws_errors.py",
        "tests/test_mutation_aws_client.py",
    ],
    "secretsync/providers/gcp.py": [
        "tests/test_provider_gcp.py",
        "tests/test_gcp_fake.py",
        "tests/test_mutation_gcp_errors.py",
        "tests/test_mutation_gcp_reads.py",
    ],
    "secretsync/sealed.py": [
        "tests/test_sealed_rules.py",
        "tests/test_mutation_sealed.py",
    ],
    "secretsync/external": [
        "tests/external",
        "tests/test_mutation_external.py",
    ],
    "secretsync/gotemplate": [
        "tests/gotemplate",
        "tests/security/test_templates.py",
        "tests/test_mutation_gotemplate.py",
    ],
}

# Tests that time themselves (a linear-time or a wall-clock bound): mutmut's tracing run slows every
# test down, so they fail the clean run; they test speed, which no mutant of these modules is about.
# (tests/support/timing.py marks whole modules for make unit's serial run; the lists here name only
# the functions a traced run breaks, so the rest of those modules still kills mutants.)
DESELECT: list[str] = [
    "tests/security/test_pem.py::test_one_megabyte_of_hostile_pem_is_refused_in_well_under_a_second",
    "tests/security/test_pem.py::test_the_scanner_is_linear_on_hostile_input",
    "tests/security/test_rsa_sizes.py::test_a_huge_private_key_never_reaches_openssl",
    "tests/security/test_http_api_abuse.py::test_health_answers_within_a_second_while_4_mib_hostile_bodies_are_parsed",
]

# Tests that run the installed `secretsync` in a fresh shell: that process never sees a mutant.
DESELECT += [
    "tests/test_kubeseal_compat.py::test_the_readme_sealing_commands_run_as_written_in_a_fresh_shell",
]

# Per module: the template engine's tests that also time themselves (wall-clock bounds under load),
# and its property-based fuzzing (hundreds of generated templates per test, each under a 3 s bound:
# it looks for crashes, which the example tests pin exactly). test_mutation_gotemplate.py checks what
# the timed ones check besides the time, with a time budget no traced run reaches and a fake clock.
DESELECT_BY_MODULE: dict[str, list[str]] = {
    # The ExternalSecret events on the API emulator (seconds per test, ESO's CRDs loaded each time):
    # tests/external/test_mutation_controller.py checks the same events in process, in milliseconds.
    "secretsync/external": ["tests/external/test_events.py"],
    "secretsync/gotemplate": [
        "tests/gotemplate/test_crypto.py::test_hostile_iteration_count_is_refused_before_deriving",
        "tests/gotemplate/test_crypto.py::test_many_archives_share_one_budget",
        "tests/gotemplate/test_crypto.py::test_rsa_key_validation_is_cheap_and_bounded",
        "tests/gotemplate/test_fuzz.py",
        "tests/gotemplate/test_limits.py::test_hostile_template_fails_fast",
        "tests/gotemplate/test_limits.py::test_huge_printf_width_is_go_noverb",
        "tests/gotemplate/test_limits.py::test_time_limit",
        "tests/gotemplate/test_limits.py::test_many_live_values_hit_the_allocation_cap",
        "tests/gotemplate/test_limits.py::test_expensive_loops_fail_fast",
        "tests/gotemplate/test_limits.py::test_time_spent_in_admitted_calls_is_given_back",
        "tests/gotemplate/test_migration.py::test_jinja_check_is_linear_on_hostile_sources",
    ],
}

# Per file of a package scored a file at a time: tests that spend their time in code the file's
# mutants leave unchanged. Every template test lexes and parses (about 3,000 tests reach each lexer
# function), and the key generation, the canary sweeps over every limit and the budget tests over
# crypto loops take four fifths of that time (48 s per surviving mutant); the front end is
# exercised as much by the rest. The executor too: the canary sweep is nine tenths of the time of
# the tests that reach its functions (a surviving mutant ran 51 s); its budget tests
# (tests/gotemplate/test_limits.py, test_mutation_w10limits.py) stay, and the survivors no test
# written since kills are then run against the left-out sweeps once each (docs/testing.md).
_TEMPLATE_CRYPTO = [
    "tests/gotemplate/test_crypto.py",
    "tests/test_mutation_gotemplate.py::test_each_expensive_loop_is_stopped_by_the_expensive_call_limit",
    "tests/test_mutation_gotemplate.py::test_many_archives_share_one_budget_without_a_clock",
]
_TEMPLATE_SWEEPS = [
    "tests/gotemplate/test_canary.py",
    "tests/security/test_templates.py",
    "tests/gotemplate/test_eso_yaml_merge_tags.py::test_merges_are_charged_to_the_budget",
]
DESELECT_BY_FILE: dict[str, list[str]] = {
    "secretsync/gotemplate/lexer.py": _TEMPLATE_CRYPTO + _TEMPLATE_SWEEPS,
    "secretsync/gotemplate/parser.py": _TEMPLATE_CRYPTO + _TEMPLATE_SWEEPS,
    "secretsync/gotemplate/execute.py": _TEMPLATE_CRYPTO + _TEMPLATE_SWEEPS,
}

# what the scratch copy leaves out of the repository
_NOT_COPIED = {".git", ".venv", "build", "dist", "mutants", ".hypothesis", ".pytest_cache", ".mypy_cache"}
_NOT_COPIED_GLOBS = ("__pycache__", "*.egg-info", ".ruff_cache", "*.pyc")
# statuses mutmut gives (mutmut.stats.status_by_exit_code) that count as caught
_CAUGHT = {"killed", "timeout", "caught by type check"}


def owner(module: str) -> str:
    """The :data:`MODULES` entry whose tests cover ``module``: itself, or the package it is a file (or
    subpackage) of, so that a large package can be scored a file at a time: a run of
    ``secretsync/gotemplate/gotime.py`` mutates that file only, against the template engine's tests."""
    if module in MODULES:
        return module
    for key in MODULES:
        if not key.endswith(".py") and module.startswith(key + "/"):
            return key
    raise KeyError(module)


def slug(module: str) -> str:
    """``secretsync/crypto.py`` -> ``secretsync.crypto``, ``secretsync/external`` -> the same dotted."""
    return module.rstrip("/").removesuffix(".py").replace("/", ".")


def _pattern(module: str) -> str:
    return module if module.endswith(".py") else module.rstrip("/") + "/*"


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(item) for item in items) + "]"


def _copy_repository(work: Path) -> None:
    ignore = shutil.ignore_patterns(*_NOT_COPIED_GLOBS)
    work.mkdir(parents=True)
    for entry in ROOT.iterdir():
        if entry.name in _NOT_COPIED or entry.name.endswith(".egg-info"):
            continue
        if entry.is_dir():
            shutil.copytree(entry, work / entry.name, ignore=ignore, symlinks=True)
        else:
            shutil.copy2(entry, work / entry.name)


# mutmut's CPU limit per mutant is 2 x multiplier x (the covering tests' traced time + 1 s). Its default
# (15) let a mutant that loops forever hold a CPU for 7-8 minutes where the gotemplate tests that cover
# it take 20-60 s; 3 still leaves a surviving mutant's run four times its time.
TIMEOUT_MULTIPLIER = 3.0


def _config_section(module: str, selected: list[str]) -> str:
    """The ``[tool.mutmut]`` section of the scratch copy's pyproject.toml for ``module``."""
    # mutmut copies the source, tests/ and pyproject.toml into mutants/; the tests read these too
    also_copy = sorted(
        entry.name
        for entry in ROOT.iterdir()
        if entry.name not in _NOT_COPIED | {"secretsync", "tests", "pyproject.toml"}
        and not entry.name.startswith(".")
        and not entry.name.endswith(".egg-info")
    )
    nodeids = DESELECT + DESELECT_BY_MODULE.get(owner(module), []) + DESELECT_BY_FILE.get(module, [])
    deselect = [arg for nodeid in nodeids for arg in ("--deselect", nodeid)]
    section = f"""

[tool.mutmut]
source_paths = ["secretsync"]
only_mutate = [{json.dumps(_pattern(module))}]
also_copy = {_toml_list(also_copy)}
pytest_add_cli_args = {_toml_list(["-p", "no:cacheprovider", "-q", *deselect])}
pytest_add_cli_args_test_selection = {_toml_list(selected)}
use_git_change_detection = false
timeout_multiplier = {TIMEOUT_MULTIPLIER}
"""
    return section


def _write_config(work: Path, module: str, tests: list[str]) -> str:
    section = _config_section(module, [t for t in tests if (ROOT / t).exists()])
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert "[tool.mutmut]" not in pyproject, "pyproject.toml has its own [tool.mutmut]: this driver writes it"
    (work / "pyproject.toml").write_text(pyproject + section)
    return section


def _statuses(work: Path) -> dict[str, str]:
    from mutmut.stats import status_by_exit_code

    result: dict[str, str] = {}
    for meta in sorted((work / "mutants" / "secretsync").rglob("*.meta")):
        data = json.loads(meta.read_text())
        for name, code in data.get("exit_code_by_key", {}).items():
            result[name] = status_by_exit_code[code]
    return result


_SHOW_ALL = """
import json, sys
from mutmut.mutation.diff_apply import find_mutant, get_diff_for_mutant
diffs = {}
for name in json.load(sys.stdin):
    diffs[name] = get_diff_for_mutant(name, path=find_mutant(name).path)
json.dump(diffs, sys.stdout)
"""


def _diffs(work: Path, names: list[str]) -> dict[str, str]:
    """The diff of each named mutant (``mutmut show``, in one process rather than one each)."""
    if not names:
        return {}
    done = subprocess.run(
        [sys.executable, "-c", _SHOW_ALL],
        cwd=work,
        input=json.dumps(names),
        capture_output=True,
        text=True,
        check=True,
    )
    diffs: dict[str, str] = json.loads(done.stdout)
    return diffs


def locate(name: str, diff: str) -> str:
    """``file:line`` of a mutant's first changed line: its function's ``def`` plus the hunk's offset."""
    lines_of_diff = diff.splitlines()
    path = next((line[4:].strip() for line in lines_of_diff if line.startswith("--- ")), "")
    if not path or not (ROOT / path).exists():
        return path
    offset = 0
    for index, line in enumerate(lines_of_diff):
        hunk = re.match(r"@@ -(\d+)", line)
        if hunk:
            changed = next(
                i for i in range(index + 1, len(lines_of_diff)) if lines_of_diff[i][:1] in ("-", "+")
            )
            offset = int(hunk.group(1)) + changed - index - 1
            break
    lines = (ROOT / path).read_text().splitlines()
    function = name.rsplit(".", 1)[-1].split("__mutmut_")[0].removeprefix("x")
    owner, _, method = function.strip("\u01c1").rpartition("\u01c1")
    method = method if owner else method.removeprefix("_")
    start = 0
    if owner:
        start = next((i for i, line in enumerate(lines) if line.startswith(f"class {owner}")), 0)
    pattern = rf"\s*(async )?def {re.escape(method)}\("
    start = next((i for i in range(start, len(lines)) if re.match(pattern, lines[i])), start)
    return f"{path}:{start + offset}"


class MutmutFailed(Exception):
    pass


def run_module(
    module: str, *, rerun: bool, log: Any, children: int = 1, resume: bool = False
) -> dict[str, Any]:
    tests = MODULES[owner(module)]
    work = OUT / "work" / slug(module)
    previous = OUT / f"{slug(module)}.json"
    names: list[str] = []
    selected = [t for t in tests if (ROOT / t).exists()]
    last = json.loads(previous.read_text()) if previous.exists() else {}
    # Any change to the [tool.mutmut] section (a new test file, another deselected test) makes mutmut
    # reset every result: then the whole module runs again.
    kept = (work / "pyproject.toml").read_text() if (work / "mutants").exists() else ""
    if resume and kept.endswith(_config_section(module, selected)):
        # An interrupted run: its scratch copy and tests as they were; mutmut runs only the mutants
        # that have no result yet.
        config = _config_section(module, selected)
    elif rerun and (work / "mutants").exists() and last.get("config") == _config_section(module, selected):
        shutil.copytree(
            ROOT / "tests", work / "tests", dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
        )
        config = _write_config(work, module, tests)
        names = [name for name, status in last["statuses"].items() if status not in _CAUGHT]
        if not names:
            return dict(last)
    else:
        if work.exists():
            shutil.rmtree(work)
        _copy_repository(work)
        config = _write_config(work, module, tests)
    started = time.monotonic()
    # SECRETSYNC_MUTATION_RUN: tests/support/mutation_run.py slows the template budget's clock
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "SECRETSYNC_MUTATION_RUN": "1"}
    command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(children), *names]
    done = subprocess.run(command, cwd=work, stdout=log, stderr=subprocess.STDOUT, env=env, check=False)
    seconds = time.monotonic() - started
    statuses = _statuses(work)
    if names:  # the others keep the result of the last run (mutmut may have forgotten them)
        statuses = {**last["statuses"], **{name: statuses[name] for name in names}}
    if done.returncode != 0 or not statuses:
        raise MutmutFailed(f"mutmut failed on {module} (exit {done.returncode}): see {log.name}")
    counts = Counter(statuses.values())
    caught = sum(counts[s] for s in _CAUGHT)
    report = {
        "module": module,
        "tool": "mutmut 3.8.1",
        "tests": selected,
        "config": config,
        "seconds": round(seconds, 1),
        "rerun_of_survivors": bool(names),
        "total": len(statuses),
        "counts": dict(sorted(counts.items())),
        "score": round(100 * caught / len(statuses), 1),
        "not_killed": {
            name: {"status": statuses[name], "where": locate(name, diff), "diff": diff}
            for name, diff in _diffs(work, [n for n, s in statuses.items() if s not in _CAUGHT]).items()
        },
        "statuses": statuses,
    }
    # survivors the strict type checker of `make test` refuses: accounted for, but not by a test
    report["mypy_refuses"] = typecheck.refused(
        work, report["not_killed"], str(Path(sys.executable).with_name("mypy"))
    )
    if names and previous.exists():
        report["seconds_first_run"] = (
            json.loads(previous.read_text()).get("seconds_first_run", None)
            or (json.loads(previous.read_text())["seconds"])
        )
    previous.write_text(json.dumps(report, indent=1) + "\n")
    return report


def summary_line(report: dict[str, Any]) -> str:
    counts = report["counts"]
    caught = sum(counts.get(s, 0) for s in _CAUGHT)
    return (
        f"{report['module']:<28} killed {counts.get('killed', 0):>4}  "
        f"survived {counts.get('survived', 0):>3}  timeout {counts.get('timeout', 0):>3}  "
        f"no tests {counts.get('no tests', 0):>3}  "
        f"score {caught}/{report['total']} = {report['score']:.1f}%  ({report['seconds']:.0f} s); "
        f"of the rest, mypy --strict refuses {len(report.get('mypy_refuses', {}))}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="modules to run (default: every core module)")
    parser.add_argument("--rerun", action="store_true", help="re-run only the mutants not killed last time")
    parser.add_argument("--children", type=int, default=1, help="mutants run at once (default 1)")
    parser.add_argument(
        "--resume", action="store_true", help="finish an interrupted run (same scratch copy and tests)"
    )
    args = parser.parse_args(argv)
    modules: list[str] = []
    unknown = []
    for given in args.modules or list(MODULES):
        given = given.rstrip("/")
        # a package whose files are mapped one by one (secretsync/providers) means all of them; a file
        # of a mapped package (secretsync/gotemplate/gotime.py) means that file alone
        inside = [m for m in MODULES if m.startswith(given + "/")] if given not in MODULES else [given]
        if not inside and (ROOT / given).exists():
            try:
                owner(given)
            except KeyError:
                pass
            else:
                inside = [given]
        modules += inside
        if not inside:
            unknown.append(given)
    if unknown:
        parser.error(
            f"not a core module: {', '.join(unknown)} (choose from: {', '.join(MODULES)}, or a file of a"
            " package among them)"
        )
    OUT.mkdir(parents=True, exist_ok=True)
    reports = []
    failed: list[str] = []
    for module in modules:
        with (OUT / f"{slug(module)}.log").open("w") as log:
            print(f"mutating {module} (log: {log.name}) ...", flush=True)
            try:
                report = run_module(
                    module, rerun=args.rerun, log=log, children=args.children, resume=args.resume
                )
            except MutmutFailed as exc:
                print(exc, flush=True)
                failed.append(module)
                continue
        reports.append(report)
        print(summary_line(report), flush=True)
        if report["not_killed"]:
            print(
                f"  not killed: {len(report['not_killed'])}, each with its diff in {OUT / slug(module)}.json"
            )
    if len(reports) > 1:
        print()
        for report in reports:
            print(summary_line(report))
    if failed:
        print(f"mutmut failed on: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
