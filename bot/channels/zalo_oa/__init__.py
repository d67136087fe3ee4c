"""Zalo Official Account: the channel (:mod:`.channel`), webhook signatures
(:mod:`.signature`), event parsing (:mod:`.events`), the token store (:mod:`.tokens`) and the
platform rules for notices (:mod:`.rules`)."""

from __future__ import annotations

from bot.channels.zalo_oa.channel import SPEC, ZaloOaChannel, mapped
from bot.channels.zalo_oa.events import BUTTON_PREFIX, to_incoming
from bot.channels.zalo_oa.rules import ZaloOaRules
from bot.channels.zalo_oa.signature import SIGNATURE_HEADER, WebhookRefused, sign, verify_event
from bot.channels.zalo_oa.tokens import OaTokens, TokenError

__all__ = [
    "BUTTON_PREFIX",
    "SIGNATURE_HEADER",
    "SPEC",
    "OaTokens",
    "TokenError",
    "WebhookRefused",
    "ZaloOaChannel",
    "ZaloOaRules",
    "mapped",
    "sign",
    "to_incoming",
    "verify_event",
]
