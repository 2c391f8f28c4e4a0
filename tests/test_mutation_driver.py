"""tests/support/mutation.py: which modules a `make mutation MODULE=...` run mutates, against which tests."""

from __future__ import annotations

import pytest

from tests.support import mutation


def test_a_file_of_a_mapped_package_is_mutated_alone_against_the_package_tests() -> None:
    assert mutation.owner("secretsync/gotemplate/gotime.py") == "secretsync/gotemplate"
    assert mutation.owner("secretsync/gotemplate/funcs/pkcs12.py") == "secretsync/gotemplate"
    assert mutation.owner("secretsync/crypto.py") == "secretsync/crypto.py"
    section = mutation._config_section("secretsync/gotemplate/gotime.py", ["tests/gotemplate"])
    assert 'only_mutate = ["secretsync/gotemplate/gotime.py"]' in section
    # the package's own deselections (its self-timing tests) come along
    assert '"tests/gotemplate/test_fuzz.py"' in section


def test_a_file_outside_every_mapped_module_is_refused() -> None:
    with pytest.raises(KeyError):
        mutation.owner("secretsync/operator.py")
    with pytest.raises(SystemExit) as refused:
        mutation.main(["secretsync/operator.py"])
    assert refused.value.code == 2


def test_a_package_of_files_mapped_one_by_one_means_each_of_them() -> None:
    # secretsync/providers is not a key; its files are
    assert "secretsync/providers" not in mutation.MODULES
    with pytest.raises(KeyError):
        mutation.owner("secretsync/providers")
