"""Channel declarations: checked when the assistant is assembled, read instead of lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.channels import CHANNELS, bind
from core.channels import ChannelSpec
from core.config import AdminCfg, ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def test_an_admin_on_an_unknown_channel_is_named_at_assembly() -> None:
    settings = load_config(ROOT / "config.yaml", env={}).model_copy(
        update={"admins": [AdminCfg(channel="viber", user_id="1")]})
    with pytest.raises(ConfigError, match=r"admins\.0\.channel: unknown channel 'viber'"):
        bind(settings)


def test_bound_settings_know_which_channels_take_notices() -> None:
    settings = bind(load_config(ROOT / "config.yaml", env={}))
    assert settings.push_channels == {"telegram", "zalo_bot", "zalo_oa"}
    assert [c.SPEC.name for c in CHANNELS] == list(settings.channels)
    assert settings.channels["zalo_oa"].buttons == settings.zalo.oa.max_buttons


def test_a_channel_that_takes_notices_must_declare_its_pace() -> None:
    with pytest.raises(ValueError, match="rate_per_s"):
        ChannelSpec(name="x", push=True, buttons=0, audio=False, text_limit=100)
