"""The only module that imports kopf: settings, login, handlers and the run loop.

Handlers here are thin: they parse, call the pure core or the adapters, and map
errors to status, events and retries. :func:`run` starts kopf in-process next to
the HTTP API and metrics servers, so users need no ``kopf run`` wrapper.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import signal
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import kopf

from secretsync import health, http, kube, ownership, sealing, sharding
from secretsync.config import Settings
from secretsync.errors import LeadershipLost, UnsealError
from secretsync.external import ESO, SECRETSYNC, ExternalController, Flavor, bulkhead
from secretsync.keys import KeyManager
from secretsync.leader import LEASE_NAME, LeaderElector
from secretsync.metrics import Metrics
from secretsync.prefetch import SecretPrefetch
from secretsync.scheduler import Backoff, Scheduler
from secretsync.sealed import SealedController
from secretsync.watch import Watcher

logger = logging.getLogger("secretsync.operator")

# Handlers are registered per run (:func:`registry`), never in kopf's global default: importing
# this module registers nothing, several operators can run in one process, and what is watched
# follows the settings (namespaced mode watches no cluster-scoped resource it has no rights to).

Flag = asyncio.Event | threading.Event | asyncio.Future[Any]


@dataclasses.dataclass
class Runtime:
    """Per-process state shared by the handlers, carried in kopf's memo."""

    settings: Settings
    metrics: Metrics
    api: kube.KubeApi
    keys: KeyManager
    sealed: SealedController
    external: ExternalController
    scheduler: Scheduler
    executor: ThreadPoolExecutor
    # Compatibility mode: Bitnami's and ESO's own kinds, reconciled by controllers of their own.
    bitnami: SealedController | None = None
    eso: ExternalController | None = None
    ready: threading.Event = dataclasses.field(default_factory=threading.Event)
    health: health.Health = dataclasses.field(default_factory=health.Health)
    reported_bad_keys: set[tuple[str, str]] = dataclasses.field(default_factory=set)
    warned_unsharded: bool = False

    standby_ready: bool = False

    def serving(self) -> bool:
        """Ready for traffic: reconciling, or a standby that has loaded the key ring."""
        return self.ready.is_set() or (self.standby_ready and len(self.keys.ring) > 0)

    async def stand_by(self, every: float) -> None:
        """While waiting for the Lease: keep the key ring loaded (read-only: never generates)."""
        while True:
            try:
                await self.keys.reload()
                self.standby_ready = True
            except Exception as exc:  # the API, or a bug: the standby goes on reloading
                shown = exc if isinstance(exc, kube.ApiError) else f"unexpected {type(exc).__name__}"
                logger.warning("standby: cannot load the key ring: %s", shown)
            await asyncio.sleep(every * (1 + random.uniform(0, 0.1)))

    async def load_keys_at_start(self, stop: asyncio.Event) -> bool:
        """The key ring before anything is reconciled (never a first key generated over one the
        API could not list); an API failure is retried with backoff, not a crash. False: stopped."""
        backoff = Backoff(base=1.0, cap=30.0)
        while not stop.is_set():
            try:
                await self.refresh_keys(at_start=True)
                return True
            except kube.ApiError as exc:
                delay = backoff.next_delay("keys")
                logger.warning("cannot load the sealing keys yet: %s; trying again in %.1fs", exc, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
        return False

    async def produced_secret_pages(self) -> AsyncIterator[dict[str, Any]]:
        """The produced Secrets (label-selected) of every watched namespace, page by page."""
        namespaces: list[str | None] = (
            [None] if self.settings.clusterwide else list(self.settings.watch_namespaces)
        )
        for namespace in namespaces:
            path = kube.path_for("v1", "secrets", namespace)
            async for page in self.api.list_pages(path, label_selector=ownership.PRODUCED_SELECTOR):
                yield page

    def watches(self, namespace: str | None) -> bool:
        """Is ``namespace`` one this operator reconciles objects in?"""
        return self.settings.clusterwide or namespace in self.settings.watch_namespaces

    def note_shard_label(self, body: dict[str, Any]) -> None:
        """An instance without ``--watch-label-selector`` reconciles every object, shard labels or
        not: if shards run too, such objects have two writers. Said once, at the first one seen."""
        if self.warned_unsharded or self.settings.shard.sharded:
            return
        labels = (body.get("metadata") or {}).get("labels") or {}
        if sharding.SHARD_LABEL in labels:
            self.warned_unsharded = True
            logger.warning(
                "%s carries the shard label %s=%s, but this instance has no --watch-label-selector and "
                "reconciles every object; if shard instances run, start this one with "
                "--watch-label-selector='%s'",
                kube.ref_of(body),
                sharding.SHARD_LABEL,
                labels.get(sharding.SHARD_LABEL),
                sharding.MAIN_SELECTOR,
            )

    # ---------------------------------------------------------------- key ring upkeep

    async def refresh_keys(self, *, at_start: bool = False) -> None:
        """Reload the ring, add a key when none is active or one is due, report bad key Secrets."""
        try:
            changed = await self.keys.reload()
        except kube.ApiError as exc:
            self.health.keys_problem = str(exc)
            raise  # the scheduler tries again with backoff
        self.health.keys_problem = None
        if self.keys.needs_key(at_start=at_start):
            await self.keys.generate()
            changed = True
        for bad in self.keys.bad:
            meta = bad.secret.get("metadata") or {}
            ident = (str(meta.get("uid")), str(meta.get("resourceVersion")))
            if ident in self.reported_bad_keys:
                continue
            self.reported_bad_keys.add(ident)
            message = (
                f"sealing key Secret {kube.ref_of(bad.secret)} is unusable and was skipped: {bad.problem}"
            )
            logger.warning("%s", message)
            if self.keys.read_only:
                continue  # the instance that manages the keys posts the event, once
            await kube.post_event(
                self.api, bad.secret, type_="Warning", reason="InvalidSealingKey", message=message
            )
        self._schedule_renewal()
        if changed and not at_start:
            for sealed in self.sealed_controllers:
                await sealed.on_keys_changed()

    @property
    def prefetch(self) -> SecretPrefetch:
        """The start-up list of produced Secrets, one shared by every controller."""
        return self.sealed.prefetch

    @property
    def sealed_controllers(self) -> list[SealedController]:
        return [self.sealed] + ([self.bitnami] if self.bitnami else [])

    @property
    def external_controllers(self) -> list[ExternalController]:
        return [self.external] + ([self.eso] if self.eso else [])

    def request_key_reload(self) -> None:
        """Debounced: a burst of key Secret events costs one reload."""
        self.scheduler.schedule("keys-reload", 0.2, self.refresh_keys)

    def key_watchers(self) -> list[Watcher]:
        """The key Secrets' watches: the operator's namespace, one per key label (a selector cannot
        say "ours or Bitnami's"); any change, and every (re-)list, reloads the ring (debounced)."""

        async def changed(*_: Any) -> None:
            self.request_key_reload()

        path = kube.path_for("v1", "secrets", self.settings.namespace)
        return [Watcher(self.api, path, label, changed, on_listed=changed) for label in self.keys.labels]

    def _schedule_renewal(self) -> None:
        due = self.keys.renewal_due_in()
        if due is None:
            self.scheduler.cancel("key-renewal")
        else:
            self.scheduler.schedule("key-renewal", due + 0.5, self.refresh_keys)

    # ---------------------------------------------------------------- HTTP API hooks

    def cert_pem(self) -> bytes | None:
        if not len(self.keys.ring) or self.keys.ring.newest.certificate is None:
            return None
        return self.keys.ring.newest.certificate.pem()

    async def verify(self, body: dict[str, Any]) -> None:
        result = await asyncio.get_running_loop().run_in_executor(
            self.executor, sealing.unseal, body, self.keys.ring
        )
        result.raise_for_failures()

    async def rotate(self, body: dict[str, Any]) -> dict[str, Any]:
        newest = self.keys.ring.newest if len(self.keys.ring) else None
        if newest is None or newest.certificate is None:
            raise UnsealError("the operator has no sealing certificate yet")
        sealer = newest.certificate.sealer()
        return await asyncio.get_running_loop().run_in_executor(
            self.executor, sealing.reencrypt, body, self.keys.ring, sealer
        )


def _runtime(memo: kopf.Memo) -> Runtime:
    runtime = memo.get("runtime")
    assert isinstance(runtime, Runtime)
    return runtime


def _sealed(runtime: Runtime, group: str) -> SealedController:
    return runtime.bitnami if group == "bitnami.com" and runtime.bitnami else runtime.sealed


def _external(runtime: Runtime, group: str) -> ExternalController:
    return runtime.eso if group == "external-secrets.io" and runtime.eso else runtime.external


async def sealed_secret_event(
    event: kopf.RawEvent, memo: kopf.Memo, resource: kopf.Resource, **_: Any
) -> None:
    """Every SealedSecret event; the controller drops the ones that need no work."""
    runtime = _runtime(memo)
    body: dict[str, Any] = dict(event["object"])
    if runtime.watches((body.get("metadata") or {}).get("namespace")):
        runtime.note_shard_label(body)
        await _sealed(runtime, resource.group).on_sealed_event(event.get("type"), body)


async def external_secret_event(
    event: kopf.RawEvent, memo: kopf.Memo, resource: kopf.Resource, **_: Any
) -> None:
    runtime = _runtime(memo)
    body: dict[str, Any] = dict(event["object"])
    if runtime.watches((body.get("metadata") or {}).get("namespace")):
        runtime.note_shard_label(body)
        await _external(runtime, resource.group).on_external_event(event.get("type"), body)


async def secret_store_event(
    event: kopf.RawEvent, memo: kopf.Memo, resource: kopf.Resource, **_: Any
) -> None:
    runtime = _runtime(memo)
    body: dict[str, Any] = dict(event["object"])
    if runtime.watches((body.get("metadata") or {}).get("namespace")):
        await _external(runtime, resource.group).on_store_event(event.get("type"), "SecretStore", body)


async def cluster_secret_store_event(
    event: kopf.RawEvent, memo: kopf.Memo, resource: kopf.Resource, **_: Any
) -> None:
    await _external(_runtime(memo), resource.group).on_store_event(
        event.get("type"), "ClusterSecretStore", dict(event["object"])
    )


async def secret_event(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    """A produced Secret (kopf watches only those: :func:`kopf_settings`) changed or is gone, or its
    label was taken off (DELETED, by the selector): its owner syncs again, which heals it. Key
    Secrets have watches of their own (:meth:`Runtime.key_watchers`)."""
    runtime = _runtime(memo)
    body: dict[str, Any] = dict(event["object"])
    namespace = (body.get("metadata") or {}).get("namespace")
    if runtime.watches(namespace):
        runtime.prefetch.observe(event.get("type"), body)  # once, for every controller that shares it
        for sealed in runtime.sealed_controllers:
            await sealed.on_secret_event(event.get("type"), body)
        for external in runtime.external_controllers:
            await external.on_secret_event(event.get("type"), body)


async def login(memo: kopf.Memo, retry: int = 0, **_: Any) -> kopf.AiohttpSession:
    """kopf's session: the operator's own connection (kubectl's order: explicit flags, in-cluster,
    then KUBECONFIG) and its one token source (kube.TokenSource), so kopf's requests carry the
    token as re-read every minute and retry a 401 once with the file read again. kopf calls this
    again (and closes the old session) after a 401 that did not cure: the file is read afresh, never
    a cached token; if the server still rejected the token, this is an error, retried with backoff."""
    api = _runtime(memo).api
    tokens = api.tokens
    if tokens.failures and not retry:
        raise kopf.TemporaryError(
            f"the Kubernetes API server rejects {tokens.what}; logging in again in {tokens.backoff:.0f}s",
            delay=tokens.backoff,
        )
    tokens.refresh()
    return kopf.AiohttpSession(
        server=api.conn.server,
        default_namespace=api.conn.default_namespace,
        aiohttp_session=api.new_session(),
    )


def registry(settings: Settings) -> kopf.OperatorRegistry:
    """The handlers for this run. ClusterSecretStores are cluster-scoped: kopf would watch them
    cluster-wide whatever namespaces it is given, which the namespaced install has no rights to
    (the watch fails and takes the operator down), so namespaced mode does not serve them."""
    handlers = kopf.OperatorRegistry()
    sealed_groups = [("secretsync.io", "v1alpha1")] + (
        [("bitnami.com", "v1alpha1")] if settings.bitnami_compat else []
    )
    external_groups = [("secretsync.io", "v1alpha1")] + (
        [("external-secrets.io", "v1")] if settings.eso_compat else []
    )
    for group, version in sealed_groups:
        kopf.on.event(group, version, "sealedsecrets", registry=handlers)(sealed_secret_event)
    for group, version in external_groups:
        kopf.on.event(group, version, "externalsecrets", registry=handlers)(external_secret_event)
        kopf.on.event(group, version, "secretstores", registry=handlers)(secret_store_event)
        if settings.clusterwide:
            kopf.on.event(group, version, "clustersecretstores", registry=handlers)(
                cluster_secret_store_event
            )
    # Only the Secrets the operator writes: the watch's label selector is kopf_settings'.
    kopf.on.event("v1", "secrets", registry=handlers)(secret_event)
    kopf.on.login(registry=handlers)(login)
    return handlers


# The kinds an instance reconciles, in every API flavour: what --watch-label-selector shards.
# Stores are not among them: every instance watches them all (its ExternalSecrets may use any),
# and the controller decides which ones it validates (ExternalController.owns_store).
SHARDED_RESOURCES = (
    ("secretsync.io", "sealedsecrets"),
    ("bitnami.com", "sealedsecrets"),
    ("secretsync.io", "externalsecrets"),
    ("external-secrets.io", "externalsecrets"),
)


def _add_label_selector(settings: kopf.OperatorSettings, key: tuple[str, str], selector: str) -> None:
    """Send ``selector`` with kopf's lists and watches of ``key``'s resource, on top of (AND) any
    selector already there (a comma joins terms; kopf joins the selectors of several keys so too)."""
    selectors = settings.watching.label_selectors
    selectors[key] = f"{selectors[key]},{selector}" if key in selectors else selector


def kopf_settings(clusterwide: bool = True, shard: str = "") -> kopf.OperatorSettings:
    """Every kopf setting the operator relies on, each with the reason. ``shard``: the instance's
    ``--watch-label-selector`` (secretsync.sharding), "" for every object."""
    settings = kopf.OperatorSettings()
    # Namespaced mode names exact namespaces: listing every namespace (and watching CRDs for new
    # resources) would need cluster-wide rights it does not have, and kopf would retry a forbidden
    # list for about a minute at every start. The resources it serves exist before it starts.
    settings.scanning.disabled = not clusterwide
    # Our handlers post their own events with a reason and a clear message;
    # kopf's per-log-line events would flood `kubectl describe`.
    settings.posting.enabled = True
    settings.posting.loggers = False
    # Leader election is ours (a Lease), not kopf's peering CRDs.
    settings.peering.standalone = True
    # Reconnect watches regularly so a silently dropped connection cannot stall the operator.
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.connect_timeout = 30
    # Big clusters: kopf lists in pages (limit/continue) at start and after every expired watch,
    # never one response with every object. And of all Secrets (thousands of Helm releases of up
    # to 1 MiB each), the API server sends only the ones the operator writes (their label), so
    # neither the lists nor the watch cost memory or CPU for the others. kopf's handler label
    # filters are client-side; these selectors are sent with the list and the watch requests.
    settings.watching.chunk_size = kube.LIST_PAGE
    settings.watching.label_selectors[("v1", "secrets")] = ownership.PRODUCED_SELECTOR
    # Sharding: the same mechanism (kopf's, not ours) sends the shard's selector with the lists and
    # watches of the kinds it reconciles, so an instance never receives another shard's objects.
    # An object relabelled out of the shard arrives as DELETED and is forgotten (its Secret stays).
    # Produced Secrets stay unsharded (they carry no shard label): an event for another shard's
    # Secret finds no owner here (one dict lookup) and is dropped.
    if shard:
        for key in SHARDED_RESOURCES:
            _add_label_selector(settings, key, shard)
    # Handler progress lives in an annotation we name, not under status.kopf.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="secretsync.io")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix="secretsync.io", key="last-handled-configuration"
    )
    settings.persistence.finalizer = "secretsync.io/finalizer"
    return settings


async def _wait_flag(flag: Flag) -> None:
    if isinstance(flag, asyncio.Event):
        await flag.wait()
    elif isinstance(flag, threading.Event):
        while not flag.is_set():
            await asyncio.sleep(0.1)
    else:
        await flag


async def run(
    settings: Settings,
    *,
    stop_flag: Flag | None = None,
    ready_flag: threading.Event | None = None,
) -> None:
    """Run until ``stop_flag`` is set or SIGINT/SIGTERM arrives (when in the main thread).

    With ``--leader-elect`` the process first waits as a standby for the Lease;
    losing the Lease later stops reconciling and raises :class:`LeadershipLost`
    so the process exits non-zero and restarts as a standby.
    """
    stop = asyncio.Event()

    def handle_signals() -> None:
        # kopf installs its own SIGINT/SIGTERM handlers as it spawns its tasks, and on a signal it
        # leaves its waiter of our stop flag hanging, then waits 5 s for it as a hung task. Ours
        # set the stop flag that kopf watches, so shutdown is prompt: installed now, and again
        # the moment kopf has put its own in place (see the kopf.spawn_tasks call below).
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                asyncio.get_running_loop().add_signal_handler(sig, stop.set)

    handle_signals()
    watchers: list[asyncio.Task[Any]] = []
    key_watches: list[asyncio.Task[None]] = []
    if stop_flag is not None:
        watchers.append(asyncio.create_task(_wait_flag(stop_flag)))
        watchers[-1].add_done_callback(lambda _: stop.set())

    metrics = Metrics()
    shard = settings.shard
    api = kube.KubeApi(
        kube.load_connection(settings.kubeconfig, settings.context, allow_exec=False),
        # The shard in the User-Agent: the audit log tells the instances' requests apart.
        user_agent=f"{kube.USER_AGENT} (shard={shard.shard_id})" if shard.sharded else kube.USER_AGENT,
    )
    scheduler = Scheduler()
    # RSA (unseal, key generation) runs here: `cryptography` releases the GIL, so 2 threads use 2 cores.
    executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="secretsync-crypto")
    key_manager = KeyManager(
        api,
        settings.namespace,
        bitnami=settings.bitnami_keys,
        renew_period=settings.key_renew_period,
        cutoff=settings.key_cutoff_time,
        read_only=not settings.manages_keys,
    )
    prefetch = SecretPrefetch()  # one list of produced Secrets at start, for every controller
    sealed = SealedController(
        api, key_manager, metrics, executor, scheduler=scheduler, owns=shard.selects, prefetch=prefetch
    )
    bitnami = None
    if settings.bitnami_compat:
        bitnami = SealedController(
            api,
            key_manager,
            metrics,
            executor,
            scheduler=scheduler,
            group_version=sealing.BITNAMI_API_VERSION,
            owns=shard.selects,
            prefetch=prefetch,
        )
    # Provider SDK calls block on the network: a larger pool of their own, apart from RSA, shared
    # fairly (secretsync.external.bulkhead: per store and per namespace slots).
    io_executor = ThreadPoolExecutor(
        max_workers=bulkhead.POOL_THREADS, thread_name_prefix="secretsync-provider"
    )

    def external_controller(flavor: Flavor) -> ExternalController:
        return ExternalController(
            api,
            metrics,
            io_executor,
            scheduler=scheduler,
            rules=settings.tenancy_rules,
            cluster_stores=settings.clusterwide,
            controller_class=settings.controller_class,
            flavor=flavor,
            owns_store=shard.selects,
            owns=shard.selects,
            prefetch=prefetch,
        )

    external = external_controller(SECRETSYNC)
    eso = external_controller(ESO) if settings.eso_compat else None
    runtime = Runtime(
        settings=settings,
        metrics=metrics,
        api=api,
        keys=key_manager,
        sealed=sealed,
        external=external,
        scheduler=scheduler,
        executor=executor,
        bitnami=bitnami,
        eso=eso,
    )
    metrics.keys.active_keys = lambda: len(key_manager.ring)
    metrics.keys.newest_key_age = key_manager.newest_age
    metrics.keys.rsa_attempts = lambda: key_manager.rsa_attempts
    runtime.health.api_window = settings.unready_after
    runtime.health.oldest_job = scheduler.oldest_running
    metrics.queue_depth.set_function(scheduler.depth)
    metrics.oldest_job.set_function(lambda: scheduler.oldest_running() or 0.0)

    def observe(verb: str, code: int, reason: str) -> None:
        metrics.api_answered(verb, code, reason)
        if verb != "GET":
            runtime.health.api_answered(code, f"HTTP {code} {reason}".strip() if code else reason)

    api.observe = observe
    hooks = http.ApiHooks(
        is_ready=runtime.serving,
        problems=runtime.health.problems,
        cert_pem=runtime.cert_pem,
        verify=runtime.verify,
        rotate=runtime.rotate,
    )
    api_runner = await http.serve(http.api_app(hooks), settings.bind_address, settings.http_port)
    metrics_runner = await http.serve(http.metrics_app(metrics), settings.bind_address, settings.metrics_port)
    lease = shard.lease_name(LEASE_NAME)
    metrics.shard_info.labels(
        selector=shard.text,
        shard=shard.shard_id,
        lease=lease if settings.leader_elect else "",
        manages_keys=str(settings.manages_keys).lower(),
    ).set(1)
    logger.info(
        "secretsync operator starting: namespace=%s watching=%s shard=%s http=%s metrics=%s "
        "leader-elect=%s sealing-keys=%s",
        settings.namespace,
        ",".join(settings.watch_namespaces) or "all namespaces",
        f"{shard.text} ({shard.shard_id})" if shard.sharded else "all objects",
        settings.http_port,
        settings.metrics_port,
        f"lease {settings.namespace}/{lease}" if settings.leader_elect else "no",
        "managed here" if settings.manages_keys else "read only (another instance manages them)",
    )
    elector = LeaderElector(api, settings.namespace, name=lease) if settings.leader_elect else None
    lost = False
    try:
        if elector is not None:
            # A standby serves the read-only API (certificate, verify, rotate) from the same key
            # Secrets, reloaded while it waits: so it is Ready, rolling updates and PDBs work,
            # and the API Service keeps answering during a failover.
            standby = asyncio.create_task(runtime.stand_by(settings.standby_key_reload))
            watchers.append(standby)
            acquiring = asyncio.create_task(elector.acquire())
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({acquiring, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            standby.cancel()
            if not acquiring.done():
                acquiring.cancel()
                return

            def on_lost(task: asyncio.Task[None]) -> None:
                nonlocal lost
                if task.cancelled():  # a normal shutdown cancels the renewal loop
                    return
                lost = not stop.is_set()
                stop.set()

            holder = asyncio.create_task(elector.hold())
            holder.add_done_callback(on_lost)
            watchers.append(holder)

        if await runtime.load_keys_at_start(stop):
            key_watches = [asyncio.create_task(w.run()) for w in runtime.key_watchers()]
            prefetch.begin()  # before kopf's Secret watch: its events are recorded from the start
            watchers.append(asyncio.create_task(prefetch.load(runtime.produced_secret_pages)))
        kopf_ready = asyncio.Event()

        async def mark_ready() -> None:
            await kopf_ready.wait()
            runtime.ready.set()
            metrics.up.set(1)
            if ready_flag is not None:
                ready_flag.set()
            logger.info("secretsync operator is ready")

        watchers.append(asyncio.create_task(mark_ready()))
        if not stop.is_set():
            # kopf.operator() is kopf.spawn_tasks() + kopf.run_tasks(); called apart so that our
            # signal handlers replace kopf's before anything else runs on the loop. A SIGTERM
            # while kopf is still starting (before it reports ready) then stops it at once; with
            # kopf's handler in place it took 5 s (tests/test_operator_signals.py).
            existing = asyncio.all_tasks()
            kopf_tasks = await kopf.spawn_tasks(
                registry=registry(settings),
                settings=kopf_settings(settings.clusterwide, shard.text),
                memo=kopf.Memo(runtime=runtime),
                clusterwide=settings.clusterwide,
                # The operator's own namespace too, as the namespaced RBAC expects (its objects are
                # reconciled only when it is a watched one; key Secrets have watches of their own).
                namespaces=() if settings.clusterwide else (*settings.watch_namespaces, settings.namespace),
                standalone=True,
                stop_flag=stop,
                ready_flag=kopf_ready,
            )
            handle_signals()  # no await since kopf installed its handlers: nothing ran in between
            await kopf.run_tasks(kopf_tasks, ignored=existing)
    finally:
        for task in watchers + key_watches:
            task.cancel()
        await asyncio.gather(*key_watches, return_exceptions=True)
        runtime.ready.clear()
        metrics.up.set(0)
        await scheduler.close()
        for controller in runtime.external_controllers:
            await controller.close()
        executor.shutdown(wait=False, cancel_futures=True)
        io_executor.shutdown(wait=False, cancel_futures=True)
        if elector is not None and not lost:
            await elector.release()
        await api.close()
        await api_runner.cleanup()
        await metrics_runner.cleanup()
        logger.info("secretsync operator stopped")
    if lost:
        raise LeadershipLost("lost the leader Lease; exiting so this replica restarts as a standby")
