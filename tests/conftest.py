"""Shared fixtures. Each component's fixtures live in its own plugin module under tests/support/."""

pytest_plugins = [
    "tests.support.run_checks",  # a complete install, and every skip accounted for
    "tests.support.timing",  # the wall-clock tests make unit runs alone, after the parallel part
    "tests.support.fixtures_providers",
    "tests.support.fixtures_kube",
    "tests.support.fixtures_operator",
    "tests.support.fixtures_time",
    "tests.support.mutation_run",  # only in mutation runs: a temp dir per session, a slowed template clock
]
