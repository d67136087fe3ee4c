"""Configuration: ``config.yaml`` validated with pydantic, secrets from the environment.

A wrong key or value stops start-up with a :class:`ConfigError` naming the file, the key and
what was expected. Environment variables (interfaces.md) override the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from core.channels import ChannelSpec

__all__ = [
    "AdminCfg",
    "ConfigError",
    "ConsoleCfg",
    "EspeakSettings",
    "FptSettings",
    "GttsSettings",
    "HandoverCfg",
    "HealthCfg",
    "InboxCfg",
    "LearningCfg",
    "NluSettings",
    "RadioSettings",
    "Settings",
    "TelegramCfg",
    "ZaloAiSettings",
    "ZaloBotCfg",
    "ZaloOaCfg",
    "load_config",
]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """The configuration cannot be used; the message names what is wrong."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AreaCfg(_Section):
    code: str
    name: str

    @field_validator("code")
    @classmethod
    def _code(cls, v: Any) -> str:
        v = str(v)
        if not re.fullmatch(r"\d{5}", v):
            raise ValueError("must be a 5-digit commune/ward code (QĐ 19/2025/QĐ-TTg)")
        return v


class TopicCfg(_Section):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,30}$")
    name: str


class AdminCfg(_Section):
    channel: str  # a declared channel's name, checked when the assistant is assembled
    user_id: str

    @field_validator("user_id", mode="before")
    @classmethod
    def _str(cls, v: Any) -> str:
        return str(v)


class WebCfg(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str | None = None  # e.g. https://trolyso.example.vn (links in feeds)
    max_text_chars: int = Field(default=4000, ge=100, le=100_000)

    @property
    def base_url(self) -> str:
        """Where citizens reach this server, for links (feeds): ``public_url``, else the bind
        address. Never the request's Host header, which any client can set."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


class TelegramCfg(_Section):
    token: str | None = None
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    poll_timeout_s: int = Field(default=30, ge=0, le=60)
    max_retries: int = Field(default=3, ge=0, le=10)  # on 429, after waiting retry_after
    # Replies to citizens per second over the whole bot, shared with notices and every process
    # through the database (bot/pacing.py; 0 = no cap, rely on 429 handling). Telegram asks
    # bots to stay around 30 messages per second.
    replies_per_second: float = Field(default=30, ge=0, le=1000)
    # Telegram unreachable at start (or later): the channel retries, waiting 1 s, 2 s, 4 s...
    # up to this long between attempts, while the other channels serve.
    reconnect_max_s: float = Field(default=60.0, ge=1, le=3600)

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, v: str | None) -> str | None:
        # Telegram accepts 1-256 characters of A-Z a-z 0-9 _ - (setWebhook secret_token).
        if v is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", v):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return v


class ZaloBotCfg(_Section):
    token: str | None = None
    base_url: str = "https://bot-api.zaloplatforms.com/bot"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    poll_timeout_s: int = Field(default=30, ge=1, le=60)

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, v: str | None) -> str | None:
        # setWebhook secret_token: 8-256 characters (Zalo Bot API docs, setWebhook).
        if v is not None and not 8 <= len(v) <= 256:
            raise ValueError("must be 8-256 characters")
        return v

    @model_validator(mode="after")
    def _webhook_pair(self) -> ZaloBotCfg:
        if bool(self.webhook_url) != bool(self.webhook_secret):
            raise ValueError("webhook_url and webhook_secret (ZALO_BOT_WEBHOOK_URL, "
                             "ZALO_BOT_WEBHOOK_SECRET) must be set together")
        return self


class ZaloOaCfg(_Section):
    app_id: str | None = None
    app_secret: str | None = None
    secret_key: str | None = None
    access_token: str | None = None
    refresh_token: str | None = None
    base_url: str = "https://openapi.zalo.me"
    oauth_base_url: str = "https://oauth.zaloapp.com"
    max_event_age_s: int = Field(default=3600, ge=10, le=7 * 86400)
    max_buttons: int = Field(default=5, ge=0, le=10)
    # oa.query.show shows the tapped button's payload in the chat; oa.query.hide does not.
    button_type: Literal["oa.query.show", "oa.query.hide"] = "oa.query.show"
    # Customer-service messages reach users who interacted this recently (error -230 beyond).
    cs_window_days: int = Field(default=7, ge=1, le=30)
    # Notices to followers outside that window go as promotion messages (tin truyền thông).
    promotion: bool = True

    @model_validator(mode="after")
    def _complete(self) -> ZaloOaCfg:
        # Half a Zalo OA (an app id without its secrets, or secrets without the id) would start
        # a channel that can neither check webhooks nor answer: say which variable is missing.
        need = (("ZALO_OA_APP_ID", self.app_id), ("ZALO_OA_APP_SECRET", self.app_secret),
                ("ZALO_OA_SECRET_KEY", self.secret_key))
        missing = [var for var, value in need if not value]
        if 0 < len(missing) < len(need):
            raise ValueError(f"half-configured Zalo OA: {', '.join(missing)} not set (set all "
                             "of ZALO_OA_APP_ID, ZALO_OA_APP_SECRET, ZALO_OA_SECRET_KEY, or none)")
        return self


class ZaloCfg(_Section):
    bot: ZaloBotCfg = Field(default_factory=ZaloBotCfg)
    oa: ZaloOaCfg = Field(default_factory=ZaloOaCfg)


class ContentCfg(_Section):
    dir: str = "content"
    max_review_age_days: int = Field(default=365, ge=1)


class NluSettings(_Section):
    """The understanding engine (the ``nlu:`` section)."""

    backend: Literal["builtin", "rasa"] = "builtin"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout_s: float = Field(default=2.0, gt=0, le=30)
    # After a failed call, Rasa is tried again only after this many seconds.
    rasa_retry_after_s: float = Field(default=30.0, ge=0, le=3600)
    # Decision thresholds on the top intent's confidence, calibrated on tests/data.
    answer_threshold: float | None = Field(default=None, ge=0, le=1)
    suggest_threshold: float | None = Field(default=None, ge=0, le=1)
    cache_dir: str = "data/nlu-cache"


class GttsSettings(_Section):
    """Google Translate's TTS endpoint as used by the gTTS library (online, no key)."""

    base_url: str = "https://translate.google.com"  # tests point this at a local double
    lang: str = "vi"
    slow: bool = False
    connect_timeout_s: float = Field(default=5.0, gt=0, le=120)
    read_timeout_s: float = Field(default=20.0, gt=0, le=300)
    retries: int = Field(default=3, ge=0, le=10)  # on 429 and 5xx, per chunk
    backoff_s: float = Field(default=1.0, ge=0, le=60)  # first wait; doubles each retry
    max_backoff_s: float = Field(default=30.0, ge=0, le=600)


class EspeakSettings(_Section):
    """espeak-ng, the offline engine (Debian package ``espeak-ng``)."""

    binary: str = "espeak-ng"
    voice: str = "vi"  # vi (Northern) | vi-VN-x-central | vi-VN-x-south
    speed_wpm: int = Field(default=140, ge=80, le=450)
    pitch: int = Field(default=50, ge=0, le=99)
    timeout_s: float = Field(default=120.0, gt=0)


class FptSettings(_Section):
    """FPT.AI TTS v5 (commercial; enabled with ``engine: fpt`` and an API key)."""

    url: str = "https://api.fpt.ai/hmi/tts/v5"
    api_key: str | None = None
    voice: str = "banmai"
    speed: str = ""  # "" or -3..3
    timeout_s: float = Field(default=20.0, gt=0)
    poll_interval_s: float = Field(default=1.0, ge=0)
    max_wait_s: float = Field(default=60.0, gt=0)  # for the audio behind the "async" link
    max_chars: int = Field(default=2000, ge=100, le=5000)
    retries: int = Field(default=3, ge=0, le=10)
    backoff_s: float = Field(default=1.0, ge=0, le=60)


class ZaloAiSettings(_Section):
    """Zalo AI TTS (commercial; enabled with ``engine: zalo_ai`` and an API key)."""

    url: str = "https://api.zalo.ai/v1/tts/synthesize"
    api_key: str | None = None
    speaker_id: int = 1
    speed: float = Field(default=1.0, ge=0.8, le=1.2)
    encode_type: int = Field(default=1, ge=0, le=1)
    timeout_s: float = Field(default=20.0, gt=0)
    max_chars: int = Field(default=2000, ge=100, le=5000)
    retries: int = Field(default=3, ge=0, le=10)
    backoff_s: float = Field(default=1.0, ge=0, le=60)


class RadioSettings(_Section):
    """Radio bulletins and voice answers (the ``radio:`` section)."""

    slots: list[str] = Field(default_factory=lambda: ["06:00", "17:00"])
    loudness_lufs: float = Field(default=-16.0, ge=-40, le=-5)
    true_peak_dbtp: float = Field(default=-1.0, ge=-9, le=0)
    engine: Literal["auto", "gtts", "espeak", "fpt", "zalo_ai"] = "auto"
    station_name: str = "Đài truyền thanh phường"
    output_dir: str = "data/radio"

    # Speech engines. "auto", "fpt" and "zalo_ai" fall back to espeak-ng when the online
    # engine fails; "gtts" and "espeak" use that engine only.
    gtts: GttsSettings = Field(default_factory=GttsSettings)
    espeak: EspeakSettings = Field(default_factory=EspeakSettings)
    fpt: FptSettings = Field(default_factory=FptSettings)
    zalo_ai: ZaloAiSettings = Field(default_factory=ZaloAiSettings)
    cache_dir: str = "data/radio-cache"  # synthesized speech, keyed by engine, voice and text
    fallback_retry_s: float = Field(default=300.0, ge=0)  # after a failure, offline this long

    # Bulletin audio.
    sample_rate: Literal[16000, 22050, 24000] = 24000
    bitrate_kbps: Literal[32, 40, 48, 56, 64, 80, 96, 112, 128, 160] = 64
    highpass_hz: float = Field(default=100.0, ge=0, le=400)  # horn speakers reproduce no bass
    pause_s: float = Field(default=1.0, ge=0, le=10)  # between the parts of a bulletin
    repeat_pause_s: float = Field(default=1.5, ge=0, le=10)  # before the notice is read again

    # What the station says; {station} is the station's name with the area, {title} the title.
    opening: str = "{station} xin thông báo: {title}."
    emergency_opening: str = "Thông báo khẩn cấp! {station} xin phát thông báo khẩn: {title}."
    repeat_line: str = "Xin nhắc lại."
    closing: str = "{station} vừa phát thông báo: {title}. Xin trân trọng cảm ơn."

    # Voice answers in chat (Telegram voice message, OGG/Opus).
    voice_max_bytes: int = Field(default=1_000_000, ge=50_000, le=20_000_000)
    # An announcement an operator recorded and uploads in the console (WAV, MP3 or OGG).
    upload_max_bytes: int = Field(default=30_000_000, ge=10_000, le=500_000_000)
    upload_max_s: float = Field(default=900.0, ge=5, le=3600)  # its length, at most

    @field_validator("slots")
    @classmethod
    def _slots(cls, v: list[str]) -> list[str]:
        for s in v:
            if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", s):
                raise ValueError(f"slot {s!r} is not HH:MM (24-hour)")
        return v

    @field_validator("opening", "emergency_opening", "repeat_line", "closing")
    @classmethod
    def _template(cls, v: str) -> str:
        try:
            v.format(station="", title="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"only {{station}} and {{title}} may be used: {exc}") from exc
        return v


class BroadcastCfg(_Section):
    telegram_per_second: float = Field(default=30, gt=0, le=1000)
    telegram_per_chat_interval_s: float = Field(default=1.0, ge=0)
    max_attempts: int = Field(default=6, ge=1, le=50)
    sender_batch: int = Field(default=50, ge=1, le=1000)
    # Zalo OA promotional messages are refused at night (error -234); we defer, never drop.
    zalo_quiet_hours: tuple[str, str] = ("22:00", "06:00")
    scheduler_misfire_grace_s: int = Field(default=3600, ge=1)
    # Added with the broadcast sender and scheduler (documented in config.yaml).
    zalo_per_second: float = Field(default=10, gt=0, le=1000)
    zalo_oa_daily_limit: int = Field(default=1, ge=1, le=100)
    retry_base_s: float = Field(default=5.0, gt=0)
    retry_max_s: float = Field(default=600.0, gt=0)
    lease_s: float = Field(default=60.0, ge=1)
    send_timeout_s: float = Field(default=30.0, gt=0)
    sender_concurrency: int = Field(default=8, ge=1, le=256)
    poll_s: float = Field(default=1.0, gt=0, le=60)
    scheduler_poll_s: float = Field(default=10.0, gt=0, le=3600)
    invite_ttl_hours: int = Field(default=72, ge=1, le=24 * 90)
    notice_max_chars: int = Field(default=1500, ge=100, le=3500)
    # Areas whose members' notices wait for approval: area code -> console account names that
    # may approve there (admins always may). An area not listed needs no approval.
    approval: dict[str, list[str]] = Field(default_factory=dict)
    # A photo (JPEG/PNG) or PDF sent with a notice; larger files are refused.
    attachment_max_bytes: int = Field(default=5_000_000, ge=10_000, le=20_000_000)
    # "Thông báo gần đây" in chat: how many notices, from how many days back.
    recent_notices: int = Field(default=5, ge=1, le=20)
    recent_days: int = Field(default=30, ge=1, le=365)

    @field_validator("approval", mode="before")
    @classmethod
    def _approval_keys(cls, v: Any) -> Any:
        # YAML reads an unquoted area code (12454) as a number.
        return {str(k): v2 for k, v2 in v.items()} if isinstance(v, dict) else v

    @field_validator("zalo_quiet_hours")
    @classmethod
    def _hours(cls, v: tuple[str, str]) -> tuple[str, str]:
        for s in v:
            if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", s):
                raise ValueError(f"{s!r} is not HH:MM (24-hour)")
        return v

    @model_validator(mode="after")
    def _lease(self) -> BroadcastCfg:
        # A send still in flight when its lease ends could be sent again by another process.
        if self.send_timeout_s >= self.lease_s:
            raise ValueError("send_timeout_s must be shorter than lease_s")
        return self


class ConsoleCfg(_Section):
    """The operator console at /console (accounts come from `trolyso console user add`)."""

    enabled: bool = True
    # A session unused this long ends; a session ends after session_max_hours in any case.
    idle_timeout_min: int = Field(default=30, ge=1, le=24 * 60)
    session_max_hours: int = Field(default=12, ge=1, le=24 * 30)
    setup_link_ttl_hours: int = Field(default=48, ge=1, le=24 * 30)
    link_code_ttl_min: int = Field(default=30, ge=1, le=24 * 60)
    # Login throttling: this many failures in a row lock the account name and the address.
    login_max_failures: int = Field(default=5, ge=1, le=100)
    login_lockout_min: int = Field(default=15, ge=1, le=24 * 60)
    min_password_chars: int = Field(default=10, ge=8, le=128)
    # Addresses of reverse proxies whose X-Forwarded-For is believed (the client's address is
    # its last entry); requests from anywhere else are taken at their own address.
    trusted_proxies: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    # Audio previews of notices (generated on request, reused for the same text).
    audio_cache_dir: str = "data/console-audio"


class LearningCfg(_Section):
    """Learning from what citizens ask: the editors' inbox, teaching, retrains gated by the
    evaluation files, and live reloads of the engine and the content in every process."""

    # How often each server process looks for a new engine or content version in the database
    # (and, with watch_content, for content files changed on disk).
    poll_s: float = Field(default=2.0, ge=0.2, le=300)
    watch_content: bool = True
    # A retrain is refused when intent or service accuracy falls by more than this many
    # percentage points on any evaluation file, or when one danger-now message is missed.
    max_drop_points: float = Field(default=0.5, ge=0, le=100)
    # Evaluation files (globs, relative to this file). Never trained on.
    eval_files: list[str] = Field(default_factory=lambda: [
        "tests/data/nlu_eval*.yml", "tests/data/nlu_real.yml"])
    danger_now_file: str | None = "tests/data/danger_now.yml"
    danger_calm_file: str | None = "tests/data/danger_calm.yml"
    # A retrain still running after this long is taken as dead (its process stopped).
    train_timeout_s: int = Field(default=900, ge=60, le=24 * 3600)
    # Inbox: questions at least this alike (cosine of TF-IDF vectors) form one group.
    cluster_similarity: float = Field(default=0.2, gt=0, lt=1)
    inbox_max: int = Field(default=2000, ge=10, le=50_000)  # newest rows grouped on the page
    edit_content: bool = True  # editors may edit services and FAQ entries in the console
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)")


def _office_hours(raw: Any, key: str) -> dict[str, list[str]]:
    """``{"mon-fri": ["07:30-11:30", "13:30-17:00"], "sat": [...]}`` checked and spread to one
    entry per day (``mon`` ... ``sun``); a day not named has no office hours."""
    if not isinstance(raw, dict):
        raise ValueError(f"{key}: expected a mapping of days to lists of HH:MM-HH:MM")
    out: dict[str, list[str]] = {}
    for days, spans in raw.items():
        first, _, last = str(days).strip().lower().partition("-")
        if first not in _DAYS or (last and last not in _DAYS):
            raise ValueError(f"{key}: {days!r} is not a day or a range of days (mon-fri, sat)")
        i, j = _DAYS.index(first), _DAYS.index(last or first)
        if j < i:
            raise ValueError(f"{key}: {days!r} runs backwards")
        if not isinstance(spans, list):
            raise ValueError(f"{key}: {days}: expected a list of HH:MM-HH:MM")
        for span in spans:
            m = _SPAN.fullmatch(str(span).replace(" ", ""))
            if not m or m.group(1) + m.group(2) >= m.group(3) + m.group(4):
                raise ValueError(f"{key}: {days}: {span!r} is not HH:MM-HH:MM (start < end)")
        for d in _DAYS[i:j + 1]:
            out[d] = sorted({*out.get(d, []), *(str(x).replace(" ", "") for x in spans)})
    return out


class HandoverCfg(_Section):
    """A person takes over a chat: office hours, the queue, releasing idle operators' chats."""

    enabled: bool = True
    # When operators may be on duty (Asia/Ho_Chi_Minh): days or ranges of days -> HH:MM-HH:MM.
    office_hours: dict[str, list[str]] = Field(default_factory=lambda: {
        "mon-fri": ["07:30-11:30", "13:30-17:00"], "sat": ["07:30-11:30"]}, validate_default=True)
    # Other office hours for some areas (area code -> the same form).
    area_office_hours: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    # A claimed chat goes back to the queue when its operator's console page has not asked for
    # news for this long (the page was closed, the phone slept, the network went).
    release_after_s: int = Field(default=120, ge=15, le=3600)
    # Citizens waiting per area; beyond it a new request gets the hotlines instead.
    queue_size: int = Field(default=20, ge=1, le=1000)
    # A request nobody took is closed (with a message and the hotlines) after this long.
    max_wait_hours: int = Field(default=72, ge=1, le=24 * 30)
    # Earlier messages of the citizen the operator sees (masked, within retention_days).
    history_messages: int = Field(default=20, ge=0, le=200)
    # Expected wait before any chat was handled: minutes per citizen ahead.
    default_handling_min: int = Field(default=5, ge=1, le=240)
    # Recent handled chats whose average length gives the expected wait.
    handling_sample: int = Field(default=20, ge=1, le=500)
    # Long polls (web chat, console) answer at the latest after this long...
    long_poll_s: float = Field(default=25.0, ge=1, le=120)
    # ...and each process looks for changes in the database this often.
    watch_s: float = Field(default=0.5, gt=0, le=10)
    # The handover sender (operator messages, alerts to operators): idle polling, lease.
    sender_poll_s: float = Field(default=1.0, gt=0, le=60)
    lease_s: float = Field(default=60.0, ge=5)
    max_attempts: int = Field(default=5, ge=1, le=50)
    max_chars: int = Field(default=1500, ge=50, le=4000)  # one operator message

    @field_validator("office_hours", mode="before")
    @classmethod
    def _hours(cls, v: Any) -> Any:
        return _office_hours(v, "office_hours")

    @field_validator("area_office_hours", mode="before")
    @classmethod
    def _area_hours(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            raise ValueError("expected a mapping of area codes to office hours")
        return {str(k): _office_hours(h, f"area_office_hours.{k}") for k, h in v.items()}

    def hours_of(self, area: str) -> dict[str, list[str]]:
        return self.area_office_hours.get(area, self.office_hours)


class InboxCfg(_Section):
    """Every platform update is stored before it is acknowledged and handled from the store
    (bot/inbox.py): a kill loses nothing accepted."""

    # A row whose handling failed this many times is left as "failed" (logged), not retried.
    max_attempts: int = Field(default=5, ge=1, le=100)
    # Handled rows keep their delivery key this long (a redelivery is recognised), then go.
    # Never less than twice zalo.oa.max_event_age_s (plus an hour): a signed event is accepted
    # while its timestamp is that close to now, either side.
    keep_hours: float = Field(default=48, ge=1, le=24 * 90)
    # A process holds a row it handles this long, renewed while it works; a killed process's
    # rows are resumed by any process once their lease ends.
    lease_s: float = Field(default=30, ge=2, le=3600)
    # How often each process looks for rows to resume.
    resume_s: float = Field(default=2, gt=0, le=300)


class HealthCfg(_Section):
    """Outages: when the admins are told (on a channel that works), once per episode."""

    # A channel that cannot reach its platform this long is reported.
    degraded_alert_s: float = Field(default=300.0, ge=0, le=86400)
    # Notice deliveries on one channel failing (none sent) this many times within window_s.
    failed_deliveries: int = Field(default=20, ge=1, le=100_000)
    window_s: float = Field(default=900.0, ge=10, le=86400)
    check_s: float = Field(default=30.0, gt=0, le=3600)  # how often the monitor looks


class Settings(_Section):
    areas: list[AreaCfg] = Field(min_length=1)
    topics: list[TopicCfg] = Field(min_length=1)
    admins: list[AdminCfg] = Field(default_factory=list)
    retention_days: int = Field(default=90, ge=1, le=3650)
    database_url: str | None = None
    timezone: str = "Asia/Ho_Chi_Minh"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    web: WebCfg = Field(default_factory=WebCfg)
    telegram: TelegramCfg = Field(default_factory=TelegramCfg)
    zalo: ZaloCfg = Field(default_factory=ZaloCfg)
    content: ContentCfg = Field(default_factory=ContentCfg)
    nlu: NluSettings = Field(default_factory=NluSettings)
    radio: RadioSettings = Field(default_factory=RadioSettings)
    broadcast: BroadcastCfg = Field(default_factory=BroadcastCfg)
    console: ConsoleCfg = Field(default_factory=ConsoleCfg)
    learning: LearningCfg = Field(default_factory=LearningCfg)
    handover: HandoverCfg = Field(default_factory=HandoverCfg)
    inbox: InboxCfg = Field(default_factory=InboxCfg)
    health: HealthCfg = Field(default_factory=HealthCfg)

    # where the file was loaded from; relative paths resolve against it
    base_dir: Path = Field(default=PROJECT_ROOT, exclude=True)
    # the channels the assembly declared (bot/channels), bound by with_channels()
    _channels: dict[str, ChannelSpec] | None = PrivateAttr(default=None)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("not a time zone name (for example Asia/Ho_Chi_Minh)") from exc
        return v

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, v: Any) -> Any:
        return v.upper() if isinstance(v, str) else v

    @model_validator(mode="after")
    def _unique(self) -> Settings:
        for name, items in (("areas", [a.code for a in self.areas]),
                            ("topics", [t.id for t in self.topics])):
            dup = {x for x in items if items.count(x) > 1}
            if dup:
                raise ValueError(f"{name}: duplicate {sorted(dup)}")
        codes = {a.code for a in self.areas}
        unknown = sorted(set(self.broadcast.approval) - codes)
        if unknown:
            raise ValueError(f"broadcast.approval: unknown area {unknown[0]!r} "
                             f"(configured: {', '.join(sorted(codes))})")
        unknown = sorted(set(self.handover.area_office_hours) - codes)
        if unknown:
            raise ValueError(f"handover.area_office_hours: unknown area {unknown[0]!r} "
                             f"(configured: {', '.join(sorted(codes))})")
        return self

    def with_channels(self, specs: Iterable[ChannelSpec]) -> Settings:
        """These settings with the declared channels, checking every key that names one."""
        declared = {spec.name: spec for spec in specs}
        names = ", ".join(declared)
        bad = [f"admins.{i}.channel: unknown channel {a.channel!r} (declared: {names})"
               for i, a in enumerate(self.admins) if a.channel not in declared]
        bad += [f"admins.{i}.channel: {a.channel!r} is a citizens' chat that anyone can "
                f"claim; list admins on {', '.join(n for n, s in declared.items() if s.rights)}"
                " (or use a console account)"
                for i, a in enumerate(self.admins)
                if a.channel in declared and not declared[a.channel].rights]
        if bad:
            raise ConfigError("\n".join(bad))
        bound = self.model_copy()
        bound._channels = declared
        return bound

    @property
    def channels(self) -> Mapping[str, ChannelSpec]:
        """The declared channels by name (after :meth:`with_channels`)."""
        if self._channels is None:
            raise RuntimeError("channels are not declared yet: use bot.channels.bind(settings)")
        return self._channels

    @property
    def push_channels(self) -> frozenset[str]:
        """Channels that can send notices and reports."""
        return frozenset(name for name, spec in self.channels.items() if spec.push)

    def path(self, rel: str) -> Path:
        p = Path(rel)
        return p if p.is_absolute() else self.base_dir / p

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.path('data/trolyso.db')}"

    def area_name(self, code: str) -> str:
        return next((a.name for a in self.areas if a.code == code), code)

    def may_hold_rights(self, channel: str) -> bool:
        """Whether this channel's users may be admins or team members (not the web chat or
        the terminal: :attr:`ChannelSpec.rights`). Before the channels are declared, yes."""
        spec = self._channels.get(channel) if self._channels is not None else None
        return spec is None or spec.rights

    def is_admin(self, channel: str, user_id: str) -> bool:
        return self.may_hold_rights(channel) and any(
            a.channel == channel and a.user_id == user_id for a in self.admins)


# Environment variable -> dotted key (interfaces.md).
ENV_KEYS = {
    "DATABASE_URL": "database_url",
    "TELEGRAM_TOKEN": "telegram.token",
    "TELEGRAM_BASE_URL": "telegram.base_url",
    "TELEGRAM_WEBHOOK_URL": "telegram.webhook_url",
    "TELEGRAM_WEBHOOK_SECRET": "telegram.webhook_secret",
    "ZALO_BOT_TOKEN": "zalo.bot.token",
    "ZALO_BOT_BASE_URL": "zalo.bot.base_url",
    "ZALO_BOT_WEBHOOK_URL": "zalo.bot.webhook_url",
    "ZALO_BOT_WEBHOOK_SECRET": "zalo.bot.webhook_secret",
    "ZALO_OA_APP_ID": "zalo.oa.app_id",
    "ZALO_OA_APP_SECRET": "zalo.oa.app_secret",
    "ZALO_OA_SECRET_KEY": "zalo.oa.secret_key",
    "ZALO_OA_ACCESS_TOKEN": "zalo.oa.access_token",
    "ZALO_OA_REFRESH_TOKEN": "zalo.oa.refresh_token",
    "ZALO_OA_BASE_URL": "zalo.oa.base_url",
    "ZALO_OAUTH_BASE_URL": "zalo.oa.oauth_base_url",
    "FPT_TTS_API_KEY": "radio.fpt.api_key",
    "ZALO_TTS_API_KEY": "radio.zalo_ai.api_key",
    "TROLYSO_HOST": "web.host",
    "TROLYSO_PORT": "web.port",
}


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    node = data
    *parents, leaf = dotted.split(".")
    for p in parents:
        child = node.get(p)
        if not isinstance(child, dict):
            child = {}
            node[p] = child
        node = child
    node[leaf] = value


def _describe(errors: list[Any], origin: str, from_env: Mapping[str, str] | None = None) -> str:
    lines = []
    from_env = from_env or {}
    for err in errors:
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        if key in from_env:  # the value came from the environment, not from the file
            key = f"{key} (from the environment variable {from_env[key]})"
        if err["type"] == "extra_forbidden":
            lines.append(f"{origin}: {key}: unknown key")
        elif err["type"] == "missing":
            lines.append(f"{origin}: {key}: required key is missing")
        else:
            got = err.get("input")
            shown = f" (got {got!r})" if not isinstance(got, (dict, list)) else ""
            lines.append(f"{origin}: {key}: {err['msg']}{shown}")
    return "\n".join(lines)


def load_config(path: str | os.PathLike[str] | None = None,
                env: Mapping[str, str] | None = None) -> Settings:
    """Read, merge with the environment and validate the configuration."""
    env = os.environ if env is None else env
    cfg_path = Path(path or env.get("TROLYSO_CONFIG") or "config.yaml")
    if not cfg_path.is_absolute() and not cfg_path.exists():
        alt = PROJECT_ROOT / cfg_path
        cfg_path = alt if alt.exists() else cfg_path
    try:
        raw = yaml.safe_load(cfg_path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise ConfigError(f"{cfg_path}: configuration file not found (give one with --config "
                          "or TROLYSO_CONFIG)") from exc
    except OSError as exc:  # a folder, no permission
        raise ConfigError(f"{cfg_path}: cannot read the configuration file: "
                          f"{exc.strerror or exc}") from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{cfg_path}: not valid YAML{where}: {exc.problem}") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{cfg_path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{cfg_path}: expected a mapping of keys at the top level")
    from_env = {}
    for var, dotted in ENV_KEYS.items():
        if env.get(var):
            _set_dotted(raw, dotted, env[var])
            from_env[dotted] = var
    raw["base_dir"] = cfg_path.resolve().parent
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc.errors(), str(cfg_path), from_env)) from exc
