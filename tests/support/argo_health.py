"""Argo CD health checks, run as Argo CD runs them: Lua 5.1 over the object as a Lua table.

Argo CD (gopher-lua, Lua 5.1) hands a health script the live object as ``obj``: JSON objects
become tables with string keys, arrays tables indexed from 1, null is absent. The script returns
a table ``{status, message}``. ``lupa.lua51`` embeds the reference Lua 5.1 interpreter, so the
scripts run unmodified: Argo's built-in ones for ESO's and Bitnami's kinds (from the pinned
argo-cd module, tests/support/upstream.py) and ours (deploy/argocd/health-checks.yaml).
"""

from __future__ import annotations

from typing import Any

import lupa.lua51 as lua


def _table(runtime: Any, value: Any) -> Any:
    if isinstance(value, dict):
        return runtime.table_from({k: _table(runtime, v) for k, v in value.items() if v is not None})
    if isinstance(value, list):
        return runtime.table_from([_table(runtime, v) for v in value if v is not None])
    return value


def health(script: str, obj: dict[str, Any]) -> dict[str, Any]:
    """``{"status": ..., "message": ...}`` as Argo CD computes it for ``obj``."""
    runtime = lua.LuaRuntime(unpack_returned_tuples=True, register_eval=False, register_builtins=False)
    runtime.globals()["obj"] = _table(runtime, obj)
    result = runtime.execute(script)
    return {str(k): v for k, v in dict(result).items()} if result is not None else {}
