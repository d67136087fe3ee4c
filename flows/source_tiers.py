"""How much a citizen can trust a source: the tiers of ``content/sources.yaml``.

Every source address in the content is matched to a tier by its host (a listed host also
covers its subdomains; the longest match wins, so ``2sao.vietnamnet.vn`` can be banned while
``vietnamnet.vn`` is news). ``trolyso content check`` refuses banned sources and counts the
entries by their best source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

__all__ = ["RANKED_TIERS", "TIERS", "SourceTiers", "Tier", "host_of"]

Tier = Literal["official", "state_press", "legal_db", "news", "reference", "banned", "unlisted"]
#: Tiers from most to least trusted. A reference work (Wikipedia) is best only when it stands
#: alone, which the check refuses.
RANKED_TIERS: tuple[Tier, ...] = (
    "official", "state_press", "legal_db", "news", "unlisted", "reference", "banned",
)
#: Tiers a file may list hosts under.
TIERS: tuple[Tier, ...] = ("official", "state_press", "legal_db", "news", "reference", "banned")

_HOST_RE = re.compile(r"^(?:[a-z0-9-]+\.)+[a-z]{2,}$")


def host_of(url: str) -> str:
    """The lower-case host of ``url`` without ``www.`` or a port ("" when there is none)."""
    host = (urlsplit(url.strip()).hostname or "").lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


class TierHosts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(min_length=3)
    hosts: list[str] = Field(min_length=1)

    @field_validator("hosts")
    @classmethod
    def _hosts(cls, v: list[str]) -> list[str]:
        out = []
        for h in v:
            h = h.strip().lower()
            if h.startswith("*."):
                h = h[2:]
            if not _HOST_RE.match(h):
                raise ValueError(f"not a host name: {h!r} (write e.g. 'chinhphu.vn')")
            out.append(h)
        return out


class SourceTiers(BaseModel):
    """``content/sources.yaml``: the hosts of each tier."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    official: TierHosts
    state_press: TierHosts
    legal_db: TierHosts
    news: TierHosts
    reference: TierHosts
    banned: TierHosts

    _by_host: dict[str, Tier] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _index(self) -> SourceTiers:
        seen: dict[str, Tier] = {}
        for tier in TIERS:
            for h in getattr(self, tier).hosts:
                if h in seen:
                    raise ValueError(f"host {h!r} is listed under both {seen[h]!r} and {tier!r}")
                seen[h] = tier
        self._by_host = seen
        return self

    def tier_of(self, url: str) -> Tier:
        """The tier of a source address (``unlisted`` when no listed host matches)."""
        host = host_of(url)
        best: tuple[int, Tier] | None = None
        for listed, tier in self._by_host.items():
            if host == listed or host.endswith("." + listed):
                if best is None or len(listed) > best[0]:
                    best = (len(listed), tier)
        return best[1] if best else "unlisted"

    def best_tier(self, urls: Iterable[str]) -> Tier | None:
        """The most trusted tier among ``urls`` (None when there are none)."""
        tiers = {self.tier_of(u) for u in urls}
        for tier in RANKED_TIERS:
            if tier in tiers:
                return tier
        return None
