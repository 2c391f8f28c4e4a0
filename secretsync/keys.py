"""The operator's sealing key ring: load, generate and renew keys kept as Secrets.

Keys live as ``kubernetes.io/tls`` Secrets in the operator's namespace,
labelled ``secretsync.io/sealing-key: active`` (and, with ``--bitnami-keys``,
Bitnami's ``sealedsecrets.bitnami.com/sealed-secrets-key: active``). Keys are
never deleted here: relabelling one retires it. A malformed key Secret is
skipped and reported; it never stops the operator.

Parsing is cached by the Secret's uid and resourceVersion, so reloading the
ring after any key event costs nothing for keys already known, and RSA work
(parsing, generation) runs off the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import logging
from typing import Any

from secretsync import crypto, kube, sealing
from secretsync.errors import InputError

logger = logging.getLogger("secretsync.keys")

KEY_LABEL = "secretsync.io/sealing-key"
BITNAMI_KEY_LABEL = "sealedsecrets.bitnami.com/sealed-secrets-key"
ACTIVE = "active"
KEY_NAME_PREFIX = "secretsync-sealing-key-"


@dataclasses.dataclass(frozen=True)
class BadKey:
    """A key Secret that could not be used, and why (never key material)."""

    secret: dict[str, Any]
    problem: str


def is_key_secret(body: dict[str, Any], *, bitnami: bool) -> bool:
    """Does this Secret carry a key label (whatever its value)? Relabelled keys still count."""
    labels = (body.get("metadata") or {}).get("labels") or {}
    return KEY_LABEL in labels or (bitnami and BITNAMI_KEY_LABEL in labels)


def is_active_key(body: dict[str, Any], *, bitnami: bool) -> bool:
    labels = (body.get("metadata") or {}).get("labels") or {}
    return labels.get(KEY_LABEL) == ACTIVE or (bitnami and labels.get(BITNAMI_KEY_LABEL) == ACTIVE)


def parse_key_secret(body: dict[str, Any]) -> crypto.KeyEntry:
    """A key Secret -> KeyEntry; InputError naming the problem (never the key).

    Keys in the ring were written by us or by Bitnami's controller: skip OpenSSL's
    270 ms consistency check; the certificate match still catches a wrong pair.
    """
    return sealing.key_entry_from_secret(body, validate=False)


def key_secret(entry_pem: bytes, cert_pem: bytes, namespace: str) -> dict[str, Any]:
    """The Secret that stores a new key."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {
            "generateName": KEY_NAME_PREFIX,
            "namespace": namespace,
            "labels": {KEY_LABEL: ACTIVE},
        },
        "data": {
            "tls.key": base64.b64encode(entry_pem).decode(),
            "tls.crt": base64.b64encode(cert_pem).decode(),
        },
    }


def new_key_material(bits: int = crypto.DEFAULT_KEY_BITS) -> tuple[bytes, bytes]:
    """(PKCS#1 PEM private key, PEM certificate) for a fresh key. CPU-heavy: run in a thread."""
    private_key = crypto.generate_private_key(bits)
    return crypto.dump_private_key(private_key), crypto.self_signed_certificate(private_key)


class KeyManager:
    """Owns the live :class:`crypto.KeyRing` and keeps it in step with the key Secrets."""

    def __init__(
        self,
        api: kube.KubeApi,
        namespace: str,
        *,
        bitnami: bool = False,
        renew_period: float = 720 * 3600,
        cutoff: dt.datetime | None = None,
        key_bits: int = crypto.DEFAULT_KEY_BITS,
        read_only: bool = False,
    ) -> None:
        self.api = api
        # A shard (secretsync.sharding) reads the ring and never adds a key: one instance manages
        # them, or two would each add one at the same moment.
        self.read_only = read_only
        self.namespace = namespace
        self.bitnami = bitnami
        self.renew_period = renew_period
        self.cutoff = cutoff
        self.key_bits = key_bits
        self.ring = crypto.KeyRing()
        self.bad: list[BadKey] = []
        self._cache: dict[tuple[str, str], crypto.KeyEntry] = {}
        self._lock = asyncio.Lock()
        self.generation = 0  # bumped whenever the set of keys changes
        self._attempts_before = 0  # RSA attempts of rings already replaced

    @property
    def rsa_attempts(self) -> int:
        """RSA decrypt operations over the process's life (the ring is replaced on reload)."""
        return self._attempts_before + self.ring.decrypt_attempts

    def newest_age(self, now: dt.datetime | None = None) -> float | None:
        if not len(self.ring):
            return None
        return ((now or dt.datetime.now(dt.UTC)) - self.ring.newest.not_before).total_seconds()

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels that make a Secret of the namespace a key Secret (one watch and list each)."""
        return (KEY_LABEL, BITNAMI_KEY_LABEL) if self.bitnami else (KEY_LABEL,)

    async def _list(self) -> list[dict[str, Any]]:
        """The active key Secrets: selected by the API server, never the namespace's every Secret."""
        path = kube.path_for("v1", "secrets", self.namespace)
        found: dict[str, dict[str, Any]] = {}
        for label in self.labels:
            for secret in await self.api.list(path, label_selector=f"{label}={ACTIVE}"):
                meta = secret.get("metadata") or {}
                found.setdefault(str(meta.get("uid") or meta.get("name")), secret)
        in_order = sorted(found.values(), key=lambda s: str((s.get("metadata") or {}).get("name")))
        return [s for s in in_order if is_active_key(s, bitnami=self.bitnami)]  # by name, as the API lists

    async def reload(self) -> bool:
        """Rebuild the ring from the API. Returns True when the set of keys changed."""
        async with self._lock:
            secrets = await self._list()
            loop = asyncio.get_running_loop()
            entries: list[crypto.KeyEntry] = []
            bad: list[BadKey] = []
            cache: dict[tuple[str, str], crypto.KeyEntry] = {}
            for secret in secrets:
                meta = secret.get("metadata") or {}
                ident = (str(meta.get("uid") or meta.get("name")), str(meta.get("resourceVersion")))
                entry = self._cache.get(ident)
                if entry is None:
                    try:
                        entry = await loop.run_in_executor(None, parse_key_secret, secret)
                    except InputError as exc:
                        bad.append(BadKey(secret, str(exc)))
                        continue
                cache[ident] = entry
                entries.append(entry)
            before = {e.fingerprint for e in self.ring.entries}
            self._cache = cache
            self.bad = bad
            changed = before != {e.fingerprint for e in entries}
            if changed:
                # Replace the ring only when the keys changed: reconciles in flight keep
                # using (and counting RSA attempts on) the ring they started with.
                self._attempts_before += self.ring.decrypt_attempts
                self.ring = crypto.KeyRing(entries)
                self.generation += 1
                logger.info(
                    "key ring: %d active key(s), newest %s",
                    len(self.ring),
                    self.ring.newest.fingerprint[:16] if len(self.ring) else "none",
                )
            return changed

    def renewal_due_in(self, now: dt.datetime | None = None) -> float | None:
        """Seconds until a new key is due (0 = now), or None when renewal is off and a key exists
        (or this instance never adds keys: :attr:`read_only`)."""
        now = now or dt.datetime.now(dt.UTC)
        if self.read_only:
            return None
        if not len(self.ring):
            return 0.0
        if self.renew_period <= 0:
            return None
        age = (now - self.ring.newest.not_before).total_seconds()
        return max(0.0, self.renew_period - age)

    def needs_key(self, now: dt.datetime | None = None, *, at_start: bool = False) -> bool:
        now = now or dt.datetime.now(dt.UTC)
        if self.read_only:
            return False
        if not len(self.ring):
            return True
        if at_start and self.cutoff is not None and self.ring.newest.not_before < self.cutoff:
            return True
        due = self.renewal_due_in(now)
        return due is not None and due <= 0

    async def generate(self) -> dict[str, Any]:
        """Create a new key Secret (the newest key seals from now on) and reload the ring."""
        if self.read_only:
            raise RuntimeError("this instance reads the key ring only; another one manages the keys")
        loop = asyncio.get_running_loop()
        key_pem, cert_pem = await loop.run_in_executor(None, new_key_material, self.key_bits)
        created = await self.api.create(
            kube.path_for("v1", "secrets", self.namespace), key_secret(key_pem, cert_pem, self.namespace)
        )
        logger.info("generated a new sealing key %s/%s", self.namespace, created["metadata"]["name"])
        await self.reload()
        return created
