"""Size, depth and rate budgets for everything secretsync reads from outside, in one place.

Every byte of a manifest, an HTTP request or a key Secret may be written by an
attacker (the operator serves untrusted tenants on a shared cluster), so each
reader enforces a budget from here rather than trusting its input. This module
holds plain documented constants and imports nothing: any module may use it,
and others may add their own budgets next to these.
"""

from __future__ import annotations

from typing import Final

_MiB: Final = 1024 * 1024

# --------------------------------------------------------------------------- manifests read by the CLI
# `seal`, `unseal`, `validate`, `reencrypt`, `--merge-into` and key backups: files and stdin written by
# whoever commits to the repository, read on a developer machine or in CI.

CLI_MAX_INPUT_BYTES: Final = 64 * _MiB
"""Largest file, stdin or URL body the CLI reads (Kubernetes objects are at most 1.5 MiB each;
64 MiB leaves room for big multi-document files and Lists of many Secrets)."""

CLI_MAX_DEPTH: Final = 100
"""Deepest nesting of YAML/JSON collections (a Secret needs 3 levels, a List of them 5).
Far below the C and Python recursion limits, so deep input is a clean error, never a crash."""

CLI_MAX_NODES: Final = 1_000_000
"""Most YAML nodes one input may hold, counted with every alias expanded (the size a consumer that
walks or prints the data sees). Aliases are allowed in the CLI (humans write anchors) only under it."""

CLI_MAX_EXPANDED_CHARS: Final = 128 * _MiB
"""Most characters of scalar text one input may hold, counted with every alias expanded: a node
budget alone would let one 10 MB scalar be referenced a million times."""

# --------------------------------------------------------------------------- the operator's HTTP API
# POST /v1/verify and /v1/rotate: unauthenticated, reached by any cluster user through the API
# server's service proxy.

HTTP_MAX_BODY: Final = 4 * _MiB
"""Largest request body; anything larger is refused with 413 before it is parsed. A SealedSecret
is a Kubernetes object (at most 1.5 MiB in etcd), so 4 MiB refuses nothing real."""

HTTP_MAX_DEPTH: Final = 64
"""Deepest nesting in a request body (a SealedSecret needs about 6 levels)."""

HTTP_MAX_NODES: Final = 200_000
"""Most YAML/JSON nodes in a request body. A 4 MiB SealedSecret holds at most ~11,000 sealed values
(each is at least 368 characters of base64), so about 22,000 nodes; the budget keeps a hostile body
of tiny scalars to a fraction of a second of parsing."""

HTTP_PARSE_WORKERS: Final = 2
"""Threads that parse request bodies (off the event loop, so probes keep answering)."""

HTTP_CLIENT_RATE: Final = 5.0
"""Requests a second one client address may make to each of /v1/verify and /v1/rotate."""

HTTP_CLIENT_BURST: Final = 10
"""Burst allowance of one client address, per endpoint."""

HTTP_GLOBAL_RATE: Final = 20.0
"""Requests a second all clients together may make to each endpoint. Behind the API server's
service proxy every user has the proxy's address, so the per-address bucket alone limits nothing."""

HTTP_GLOBAL_BURST: Final = 40
"""Burst allowance of all clients together, per endpoint."""

HTTP_MAX_ERROR_TEXT: Final = 2000
"""Longest error text an HTTP answer carries (one line; longer messages are cut)."""

HTTP_VERIFY_MAX_BATCH: Final = 100
"""Most SealedSecrets one /v1/verify request may hold (a list or a ``List``; answered per document).
The body is bounded by :data:`HTTP_MAX_BODY` as any other, so a batch holds no more sealed values,
hence no more RSA work, than one large SealedSecret could."""

HTTP_VERIFY_DOCS_PER_TOKEN: Final = 10
"""Documents a batch verifies per rate-limit token: a batch of N costs ceil(N / 10) tokens (never
more than a burst), so 100 documents cost what 10 single requests do, not 100."""

# --------------------------------------------------------------------------- the CLI's online commands
# `validate`, `reencrypt`, `fetch-cert` and `seal`'s online modes: waiting out the operator's rate limit.

CLI_VERIFY_BATCH_BYTES: Final = 1 * _MiB
"""Largest /v1/verify batch the CLI sends (JSON); a SealedSecret larger than this is sent alone.
Well below :data:`HTTP_MAX_BODY`, and small enough for any proxy in between."""

CLI_RETRY_AFTER_CAP: Final = 30.0
"""Longest single wait the CLI honours from a ``Retry-After`` (seconds or an HTTP date) on a 429 or
a 503; a longer one is waited only this long (then the request is retried)."""

CLI_MAX_WAIT: Final = 120.0
"""Default of ``--max-wait``: the most seconds one command waits in all for rate limits (429, or 503
with ``Retry-After``) before it gives up with an error naming the wait (never a verdict on a document)."""

CLI_MAX_RETRIES: Final = 20
"""Most times the CLI retries one request that is answered 429 (or 503 with ``Retry-After``)."""

# --------------------------------------------------------------------------- keys and certificates

RSA_MIN_BITS: Final = 2048
"""Smallest RSA modulus accepted anywhere (certificates for sealing, private keys, key Secrets)."""

RSA_MAX_BITS: Final = 16384
"""Largest RSA modulus accepted anywhere; OpenSSL's own limit for RSA operations. Checked on the
DER before a key reaches OpenSSL: a 65,536-bit key is refused, not handed over."""

RSA_MAX_EXPONENT_BITS: Final = 64
"""Largest RSA public exponent (OpenSSL refuses larger ones for moduli over 3072 bits; real keys
use 65537)."""

# --------------------------------------------------------------------------- values

MAX_NUMBER_CHARS: Final = 4300
"""Longest YAML/JSON number (Python's own limit for int(); YAML's sexagesimal ``1:2:3`` form would
otherwise build an int in quadratic time)."""

# --------------------------------------------------------------------------- secret backends
# A store's server is a tenant's choice (within the admin's --allowed-servers): its answers are
# read like any other hostile input.

PROVIDER_MAX_RESPONSE_BYTES: Final = 4 * _MiB
"""Largest single answer read from a backend (Vault's HTTP body, a GCP gRPC message). A KV secret,
a Secret Manager version (64 KiB at most) or a page of a listing is far smaller; a 300 MB answer
once took the operator past its memory limit."""

PROVIDER_MAX_RESPONSE_SECONDS: Final = 60.0
"""Longest time one answer may take to arrive in full, however it trickles in (each socket read
also has its own read time-out)."""

FIND_MAX_RESULTS: Final = 1000
"""Most remote secrets one ``dataFrom[].find`` may return (a Secret holds at most 1 MiB anyway).
Beyond it the ExternalSecret fails with a message asking for a narrower path, regexp or tags."""

FIND_MAX_LISTS: Final = 2000
"""Most listing requests one ``find`` may make (Vault LISTs each folder; a hostile server could
otherwise answer every LIST with one more folder, forever)."""
