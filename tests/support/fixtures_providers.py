"""pytest plugin: real provider servers (OpenBao, moto, a GCP Secret Manager fake) on loopback ports.

Fixtures (details in the report and in each class's docstring):

=====================  ========  ============================================================================
fixture                scope     what
=====================  ========  ============================================================================
``provider_tls``       session   throwaway CA + server cert (:class:`~tests.support.tls.TLSFiles`)
``openbao_server``     session   shared :class:`~tests.support.openbao.OpenBaoServer`; never stop it
``openbao``            function  :class:`~tests.support.openbao.OpenBaoScope`: shared server + unique prefix
``openbao_isolated``   function  a private OpenBaoServer: stop()/restart() freely
``moto_server``        session   shared :class:`~tests.support.moto_server.MotoServer`
``moto``               function  the shared moto, reset, with AWS_* env vars pointing at it (restored after)
``gcp_fake_server``    session   shared :class:`~tests.support.gcp_fake.SecretManagerFake`
``gcp_fake``           function  the shared fake, reset; stop()/start() allowed (restarted at teardown)
=====================  ========  ============================================================================

Why sessions + cheap per-test isolation: starting is cheap (OpenBao ~0.15 s, others ms), but a suite has
hundreds of tests. moto and the GCP fake reset in a millisecond; OpenBao cannot reset, so each test gets a
unique path prefix instead, and outage tests get their own server.

The gRPC trust root: gRPC reads ``GRPC_DEFAULT_SSL_ROOTS_FILE_PATH`` once per process, at the first
secure channel, so it is set in :func:`pytest_configure`, before any test (or import) can open one, and
restored in :func:`pytest_unconfigure`. For the same reason the CA is made once per *process*, not
per pytest session: a runner that calls ``pytest.main`` several times in one process (mutmut: stats,
clean run, forked mutants) would otherwise serve the second session's certificate to a gRPC that still
trusts the first CA. The file holds our CA followed by whatever roots the variable
named before, so nothing that trusted those stops working. Subprocesses inherit it; pass
``gcp_fake.env()`` explicitly if you build a clean environment for one.

Support modules are imported lazily inside fixtures, so unit-test runs do not pay for hvac, moto,
boto3 or grpc. A missing package is never a skip: tests/support/run_checks.py stops the run first.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.support.gcp_fake import SecretManagerFake
    from tests.support.moto_server import MotoServer
    from tests.support.openbao import OpenBaoScope, OpenBaoServer
    from tests.support.tls import TLSFiles

GRPC_ROOTS_VAR = "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"
_AWS_VARS_TO_DROP = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)


class _TLSState:
    def __init__(self, files: TLSFiles, directory: Path, previous_roots: str | None) -> None:
        self.files = files
        self.directory = directory
        self.previous_roots = previous_roots


_TLS_STATE = pytest.StashKey[_TLSState]()
_PROCESS_TLS: list[tuple[TLSFiles, Path]] = []  # made once per process, removed at exit


def _remove_if_mine(directory: Path, pid: int) -> None:
    if os.getpid() == pid:  # a forked child (mutmut's mutants) must not remove its parent's CA
        shutil.rmtree(directory, ignore_errors=True)


def _process_tls() -> tuple[TLSFiles, Path]:
    if not _PROCESS_TLS:
        from tests.support.tls import write_server_bundle

        directory = Path(tempfile.mkdtemp(prefix="secretsync-tls-"))
        atexit.register(_remove_if_mine, directory, os.getpid())
        _PROCESS_TLS.append((write_server_bundle(directory), directory))
    return _PROCESS_TLS[0]


def pytest_configure(config: pytest.Config) -> None:
    """Point gRPC's default trust roots at the process's CA (see module docstring)."""
    files, directory = _process_tls()
    previous = os.environ.get(GRPC_ROOTS_VAR)
    roots = directory / "grpc-roots.pem"
    extra = b""
    if previous:
        try:
            extra = Path(previous).read_bytes()
        except OSError:
            extra = b""
    roots.write_bytes(files.ca_pem + b"\n" + extra)
    os.environ[GRPC_ROOTS_VAR] = str(roots)
    config.stash[_TLS_STATE] = _TLSState(files, directory, previous)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_TLS_STATE, None)
    if state is None:
        return
    if state.previous_roots is None:
        os.environ.pop(GRPC_ROOTS_VAR, None)
    else:
        os.environ[GRPC_ROOTS_VAR] = state.previous_roots


@pytest.fixture(scope="session")
def provider_tls(pytestconfig: pytest.Config) -> TLSFiles:
    """The session's throwaway CA and ``localhost``/``127.0.0.1`` server certificate (PEM bytes + paths)."""
    return pytestconfig.stash[_TLS_STATE].files


# -- OpenBao ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def openbao_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBaoServer]:
    """One OpenBao dev server for the session. Do not stop it: use ``openbao_isolated`` for that."""
    from tests.support.openbao import OpenBaoServer

    server = OpenBaoServer(tmp_path_factory.mktemp("openbao"))
    server.start()
    yield server
    server.close()


@pytest.fixture
def openbao(openbao_server: OpenBaoServer, request: pytest.FixtureRequest) -> Iterator[OpenBaoScope]:
    """This test's slice of the shared server: KV paths via ``openbao.path(...)``, names via ``.name()``."""
    from tests.support.openbao import OpenBaoScope

    openbao_server.start()  # no-op; revives it if an earlier test broke the "do not stop" rule
    scope = OpenBaoScope.for_test(openbao_server, request.node.name)
    yield scope
    scope.cleanup()


@pytest.fixture
def openbao_isolated(tmp_path: Path) -> Iterator[OpenBaoServer]:
    """A private OpenBao server for outage/recovery tests: stop(), start(), restart() on the same port."""
    from tests.support.openbao import OpenBaoServer

    server = OpenBaoServer(tmp_path / "openbao")
    server.start()
    yield server
    server.close()


# -- moto ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto server for the session (no environment changes; see ``moto``)."""
    from tests.support.moto_server import MotoServer

    server = MotoServer()
    server.start()
    yield server
    server.close()


@pytest.fixture
def moto(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoServer]:
    """The shared moto server, wiped, with the process environment set so that any boto3 client made
    during the test (the operator's included) reaches it with dummy credentials; all restored after.

    The developer's own AWS config/credentials files and profiles are hidden (``/dev/null``), so a
    test can never talk to a real account. stop()/start() are allowed; teardown restarts it.
    """
    moto_server.start()
    moto_server.reset()
    for name in list(os.environ):
        if name in _AWS_VARS_TO_DROP or name.startswith("AWS_ENDPOINT_URL_"):
            monkeypatch.delenv(name)
    for name, value in moto_server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    yield moto_server
    moto_server.start()


# -- GCP Secret Manager fake --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def gcp_fake_server(provider_tls: TLSFiles) -> Iterator[SecretManagerFake]:
    """One GCP Secret Manager fake for the session, TLS with the session CA."""
    from tests.support.gcp_fake import SecretManagerFake

    fake = SecretManagerFake(provider_tls)
    fake.start()
    yield fake
    fake.close()


@pytest.fixture
def gcp_fake(gcp_fake_server: SecretManagerFake) -> Iterator[SecretManagerFake]:
    """The shared fake, empty, counters at zero, no faults. stop()/start() allowed (restarted after)."""
    gcp_fake_server.start()
    gcp_fake_server.reset()
    yield gcp_fake_server
    gcp_fake_server.start()
    gcp_fake_server.clear_faults()
    gcp_fake_server.set_latency(0)
