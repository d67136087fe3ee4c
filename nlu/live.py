"""The engine that serves, replaceable while the assistant runs.

Each message takes :attr:`LiveEngine.current` once, when its handling starts, and uses that
engine to the end; :meth:`LiveEngine.swap` replaces the reference between two messages (one
assignment on the event loop), so a retrain never drops or splits a message.
"""

from __future__ import annotations

from typing import Any

from nlu.builtin import BuiltinEngine
from nlu.types import Engine, Parse

__all__ = ["LiveEngine"]


class LiveEngine:
    """An :class:`~nlu.types.Engine` whose built-in model can be swapped.

    ``version`` is the accepted retrain it serves (0: trained from ``content/`` alone);
    ``key`` the cache key of its training inputs, when known.
    """

    def __init__(self, engine: Engine, version: int = 0, key: str | None = None) -> None:
        self._engine = engine
        self.version = version
        self.key = key

    @property
    def current(self) -> Engine:
        """The engine for one message (take it once per message)."""
        return self._engine

    @property
    def builtin(self) -> BuiltinEngine | None:
        """The built-in model (behind Rasa when Rasa is configured), if there is one."""
        e: Any = self._engine
        e = getattr(e, "fallback", e)
        return e if isinstance(e, BuiltinEngine) else None

    def swap(self, builtin: BuiltinEngine, version: int, key: str | None = None) -> None:
        """Serve ``builtin`` from the next message on (behind Rasa, as its fallback)."""
        if self.builtin is not None and getattr(self._engine, "fallback", None) is not None:
            self._engine.fallback = builtin  # type: ignore[attr-defined]
        else:
            self._engine = builtin
        self.version = version
        self.key = key

    def parse(self, text: str, current_service: str | None = None) -> Parse:
        return self._engine.parse(text, current_service)

    async def aparse(self, text: str, current_service: str | None = None) -> Parse:
        return await self._engine.aparse(text, current_service)

    def __getattr__(self, name: str) -> Any:
        # Anything else (close, featurizer, down...) is the serving engine's.
        if name.startswith("__") or name == "_engine":
            raise AttributeError(name)
        return getattr(self._engine, name)
