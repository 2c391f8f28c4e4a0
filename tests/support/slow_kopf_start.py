"""``secretsync operator`` whose kopf has a startup activity that never ends: run as a script.

kopf runs its startup activities after it has installed its own SIGINT/SIGTERM handlers and
before it reports ready; this one prints ``KOPF-STARTUP-RUNNING`` and then waits, so a test can
send a signal at exactly that point of the operator's start-up (tests/test_operator_signals.py).
Nothing else differs from the real command: same flags, same code, same process.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import kopf

from secretsync import operator
from secretsync.cli import main

MARK = "KOPF-STARTUP-RUNNING"
_registry = operator.registry


def _slow_registry(settings: Any) -> kopf.OperatorRegistry:
    handlers = _registry(settings)

    async def never_done(**_: Any) -> None:
        print(MARK, flush=True)
        await asyncio.sleep(3600)

    kopf.on.startup(registry=handlers)(never_done)
    return handlers


if __name__ == "__main__":
    operator.registry = _slow_registry
    main(sys.argv[1:])
