"""The channels, registered in one list.

A new channel is one file in this folder (a :class:`~bot.channels.base.ChannelBase` with its
``SPEC``, its platform's errors mapped once, its platform rules), its test double and tests,
plus one line in :data:`CHANNELS`. Everything else (the sender's pace, buttons or numbered
options, voice answers, which channels take notices, configuration checks, the content check's
text limits) reads the declarations.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.channels.base import ChannelBase, Host
from bot.channels.telegram import TelegramChannel
from bot.channels.terminal import TerminalChannel
from bot.channels.web import WebChannel
from bot.channels.zalo_bot import ZaloBotChannel
from bot.channels.zalo_oa import ZaloOaChannel
from broadcast.rules import DeliveryRule
from core.channels import ChannelSpec
from core.config import Settings

__all__ = ["CHANNELS", "bind", "configured", "declared", "delivery_rules", "text_limits"]

#: Every channel the assistant speaks on: one line each.
CHANNELS: list[type[ChannelBase]] = [
    TelegramChannel,
    ZaloBotChannel,
    ZaloOaChannel,
    WebChannel,
    TerminalChannel,
]


def declared(settings: Settings) -> list[ChannelSpec]:
    return [cls.declare(settings) for cls in CHANNELS]


def bind(settings: Settings) -> Settings:
    """The settings with every channel's declaration; raises ConfigError on a key naming an
    unknown channel."""
    return settings.with_channels(declared(settings))


def delivery_rules(settings: Settings) -> dict[str, Sequence[DeliveryRule]]:
    """Each channel's platform rules for the notice sender."""
    return {cls.SPEC.name: cls.delivery_rules(settings) for cls in CHANNELS}


def configured(host: Host) -> dict[str, ChannelBase]:
    """The channels ``trolyso run`` starts: those whose credentials are set, by name."""
    return {cls.SPEC.name: cls.create(host) for cls in CHANNELS
            if cls.configured(host.settings)}


def text_limits(settings: Settings | None = None) -> dict[str, int]:
    """The longest message of each channel that has a limit (for ``trolyso content check``)."""
    specs = declared(settings) if settings is not None else [cls.SPEC for cls in CHANNELS]
    return {spec.name: spec.text_limit for spec in specs if spec.text_limit}


