"""Secret backends behind one small interface, and the registry that names them.

``spec.provider`` of a store has exactly one key (``vault``, ``aws``, ``gcpsm``,
``fake``); the registry maps it to a factory. Factories import their SDK
lazily, so the operator pays for boto3 or the Google client only when a
store uses that backend, and a missing extra is a clear error, not a crash.
"""

from __future__ import annotations

import importlib

from secretsync.errors import SpecError
from secretsync.providers.base import Provider, ProviderFactory, StoreContext

_FACTORIES: dict[str, ProviderFactory] = {}
# Built-in providers: module and factory name, imported on first use.
_BUILTIN: dict[str, tuple[str, str]] = {
    "fake": ("secretsync.providers.fake", "FakeProvider"),
    "vault": ("secretsync.providers.vault", "VaultProvider"),
    "gcpsm": ("secretsync.providers.gcp", "GcpProvider"),
    "aws": ("secretsync.providers.aws", "AwsProvider"),
}


def register(name: str, factory: ProviderFactory) -> None:
    """Add a provider; a name may be registered once (a second registration is a bug)."""
    if name in _FACTORIES or name in _BUILTIN:
        raise ValueError(f"provider {name!r} is already registered")
    _FACTORIES[name] = factory


def names() -> list[str]:
    return sorted(set(_FACTORIES) | set(_BUILTIN))


def factory(name: str) -> ProviderFactory:
    """The factory for ``spec.provider.<name>``; SpecError for an unknown name or missing SDK."""
    found = _FACTORIES.get(name)
    if found is not None:
        return found
    if name not in _BUILTIN:
        raise SpecError("spec.provider", f"unknown provider {name!r} (known: {', '.join(names())})")
    module_name, attr = _BUILTIN[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SpecError(
            "spec.provider",
            f"provider {name!r} needs an extra: pip install 'secretsync[{name}]' ({exc.name})",
        ) from None
    built: ProviderFactory = getattr(module, attr)
    _FACTORIES[name] = built
    return built


def create(name: str, context: StoreContext) -> Provider:
    return factory(name)(context)
