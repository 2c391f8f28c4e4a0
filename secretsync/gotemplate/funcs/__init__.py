"""The function table a template sees: Go's builtins, Sprig's text functions, ESO's extras.

A caller may add or replace functions (as ``template.Funcs`` does in Go: later
tables win, builtins included); ``call`` is never available.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from secretsync.gotemplate.funcs.builtins import BUILTINS
from secretsync.gotemplate.funcs.eso import ESO
from secretsync.gotemplate.funcs.eso_crypto import ESO_CRYPTO
from secretsync.gotemplate.funcs.spec import FuncSpec, Table, wrap_callable
from secretsync.gotemplate.funcs.sprig import SPRIG

DEFAULT: Table = {**BUILTINS, **SPRIG, **ESO, **ESO_CRYPTO}
DEFAULT.update({k: v for k, v in BUILTINS.items() if k == "slice"})  # Go's builtin slice wins
DEFAULT.pop("call", None)


def table(extra: Mapping[str, Callable[..., Any]] | None) -> Table:
    """The default table, plus a caller's functions (each wrapped unless already a FuncSpec)."""
    if not extra:
        return DEFAULT
    out = dict(DEFAULT)
    for name, fn in extra.items():
        if name == "call" or not name.isidentifier():
            continue
        out[name] = wrap_callable(name, fn)
    return out


__all__ = ["DEFAULT", "FuncSpec", "table"]
