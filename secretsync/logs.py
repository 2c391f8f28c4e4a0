"""Logging set-up for the operator process: text for humans, JSON for log pipelines.

Configured only by the ``operator`` command, never on import. Log records carry
object names and reasons; secret values never reach a logger (the callers pass
none), and tests plant canaries to prove it.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}
# kopf hands its whole OperatorSettings (2 KiB of repr) and a flag to every record of an object.
_DROPPED = frozenset({"settings", "k8s_skip"})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key in _STANDARD or key in _DROPPED or key.startswith("_"):
                continue
            if isinstance(value, str | int | float | bool | None):
                out[key] = value
            elif isinstance(value, dict) and all(isinstance(v, str | int | None) for v in value.values()):
                out[key] = {str(k): v for k, v in value.items()}  # kopf's k8s_ref: the object's names
            else:
                out[key] = f"<{type(value).__name__}>"  # never a repr: it could hold anything
        if record.exc_info and record.exc_info[0] is not None:
            out["error"] = f"{record.exc_info[0].__name__}: {record.exc_info[1]}"
        return json.dumps(out, ensure_ascii=False)


def configure(level: str = "info", fmt: str = "text") -> None:
    """Route every logger (ours and kopf's) to stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # aiohttp's access log would print every probe; keep it at warning.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # kopf says "Handler '...' succeeded." at info for every event of every object: thousands of
    # lines that tell nothing (our controllers log what they did); its warnings and errors stay.
    if root.level > logging.DEBUG:
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
