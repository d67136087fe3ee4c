"""Citizen-facing content: schema, loading and checks.

Everything a citizen reads lives as YAML under ``content/`` so that non-programmers can edit it.
This module validates it with pydantic, resolves facts that expire, and implements
``trolyso content check``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from flows.lexicon import Lexicon, load_lexicon
from flows.source_tiers import RANKED_TIERS, SourceTiers, Tier

__all__ = [
    "ANSWER_LIMIT",
    "ASPECTS",
    "Content",
    "ContentError",
    "Dated",
    "Faq",
    "FaqTopic",
    "Problem",
    "Service",
    "SourceTiers",
    "average_problems",
    "check_content",
    "load_content",
    "load_texts",
]

ASPECTS = ("steps", "documents", "fee", "duration", "eligibility")
#: A FAQ answer is read before "Xem thêm": at most this many characters (the rest goes in
#: ``more``).
ANSWER_LIMIT = 600
#: Disclaimers and per-topic notes are shown once per conversation: keep them this short.
DISCLAIMER_LIMIT = 160
#: Training phrasings each FAQ entry needs (the understanding learns from them).
MIN_FAQ_QUESTIONS = 10
_URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*\.[^\s]+$", re.IGNORECASE)
_SERVICE_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class ContentError(Exception):
    """A content file cannot be read or does not match the schema."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    title: str = Field(min_length=3)
    url: str

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not _URL_RE.match(v):
            raise ValueError(f"not a web address: {v!r}")
        return v


class Dated(_Strict):
    """A fact that holds only between two dates (inclusive); either end may be open."""

    text: str = Field(min_length=1)
    valid_from: dt.date | None = Field(default=None, alias="from")
    valid_until: dt.date | None = Field(default=None, alias="until")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def holds_on(self, day: dt.date) -> bool:
        if self.valid_from and day < self.valid_from:
            return False
        return not (self.valid_until and day > self.valid_until)


def _as_dated(v: Any) -> Any:
    if v is None or isinstance(v, str):
        return [] if v in (None, "") else [{"text": v}]
    return v


class Where(_Strict):
    channel: Literal["dvcqg", "vneid", "bocongan", "other"]
    url: str | None = None
    path: str | None = None  # menu path inside the portal or the VNeID app
    note: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and not _URL_RE.match(v):
            raise ValueError(f"not a web address: {v!r}")
        return v


class Service(_Strict):
    """One public service with everything a citizen needs to do it online."""

    id: str
    name: str
    group: str
    agency: str
    aliases: list[str] = Field(default_factory=list)  # everyday names: "sổ đỏ", "bằng lái"
    summary: str = Field(min_length=10)
    audience: str = ""  # who needs it
    where: list[Where] = Field(default_factory=list)
    steps: list[str] = Field(default_factory=list)
    documents: list[str] = Field(default_factory=list)
    fee: list[Dated] = Field(default_factory=list)
    duration: list[Dated] = Field(default_factory=list)
    eligibility: list[Dated] = Field(default_factory=list)
    legal_basis: list[str] = Field(default_factory=list)
    mistakes: list[str] = Field(default_factory=list)
    notes: list[Dated] = Field(default_factory=list)
    official_page: str | None = None  # where to check what is unconfirmed
    # A benefit: the citizen receives money, whose amount the eligibility states ("được bao
    # nhiêu một tháng" is answered there, not by the fee).
    pays_out: bool = False
    sources: list[Source] = Field(default_factory=list)
    reviewed: dt.date | None = None
    unconfirmed: list[str] = Field(default_factory=list)

    _coerce = field_validator("fee", "duration", "eligibility", mode="before")(
        lambda cls, v: _as_dated(v)
    )

    @field_validator("unconfirmed")
    @classmethod
    def _known_fields(cls, v: list[str]) -> list[str]:
        allowed = {
            "summary", "audience", "where", "steps", "documents", "fee", "duration",
            "eligibility", "legal_basis", "mistakes", "agency",
        }
        bad = [f for f in v if f not in allowed]
        if bad:
            raise ValueError(f"unknown field(s) in unconfirmed: {bad}")
        return v

    def current(self, field_name: str, today: dt.date) -> str:
        """The text of a dated field as it holds today ("" if nothing holds)."""
        items: list[Dated] = getattr(self, field_name)
        return "\n".join(d.text for d in items if d.holds_on(today))

    def current_notes(self, today: dt.date) -> list[str]:
        return [n.text for n in self.notes if n.holds_on(today)]


class Faq(_Strict):
    """A question and a short answer, with its legal basis and sources."""

    id: str
    category: str = ""
    question: str = Field(min_length=5)
    questions: list[str] = Field(default_factory=list)  # other ways citizens ask it
    answer: str = Field(min_length=10)  # the key point first; at most ANSWER_LIMIT characters
    more: str = ""  # the rest, shown behind a "Xem thêm" button
    legal_basis: list[str] = Field(default_factory=list)
    steps: list[str] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    reviewed: dt.date | None = None
    valid_until: dt.date | None = Field(default=None, alias="until")
    unconfirmed: list[str] = Field(default_factory=list)
    note: str = ""  # for editors: why something is unconfirmed and what is known
    services: list[str] = Field(default_factory=list)  # related service ids

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FaqTopic(_Strict):
    topic: Literal["legal", "vneid", "crime", "scam", "daily", "general", "hotline"]
    intent: str  # canonical intent from intents.md this topic answers
    title: str
    intro: str = ""
    disclaimer: str = ""
    entries: list[Faq]


class Hotline(_Strict):
    number: str
    name: str
    description: str
    emergency: bool = False
    confirmed: bool = True
    sources: list[Source] = Field(default_factory=list)
    reviewed: dt.date | None = None


class AidGroup(_Strict):
    id: str
    question: str
    explain: str = ""
    needs_financial_hardship: bool = False


class LegalAidCheck(_Strict):
    intro: str
    financial_question: str
    groups: list[AidGroup]
    eligible: str
    maybe: str
    not_eligible: str
    where_to_go: str
    note_2025: str = ""
    sources: list[Source]
    reviewed: dt.date


class Contact(_Strict):
    name: str
    address: str | None = None
    phone: str | None = None
    hours: str | None = None  # opening hours as the source states them
    url: str | None = None
    confirmed: bool = False
    note: str = ""


class Area(_Strict):
    code: str
    name: str
    formed_from: list[str] = Field(default_factory=list)
    police: Contact | None = None
    one_stop: Contact | None = None
    sources: list[Source] = Field(default_factory=list)
    reviewed: dt.date | None = None
    note: str = ""  # why something is unconfirmed, what is known
    unconfirmed: list[str] = Field(default_factory=list)

    @field_validator("unconfirmed")
    @classmethod
    def _fields(cls, v: list[str]) -> list[str]:
        allowed = {"name", "formed_from"} | {f"{c}.{f}" for c in ("police", "one_stop")
                                            for f in ("name", "address", "phone", "hours", "url")}
        bad = [f for f in v if f not in allowed]
        if bad:
            raise ValueError(f"unknown field(s) in unconfirmed: {bad} (use {sorted(allowed)}; "
                             "explain in 'note')")
        return v

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not re.fullmatch(r"\d{5}", v):
            raise ValueError(f"area code must be 5 digits (QĐ 19/2025/QĐ-TTg): {v!r}")
        return v


class Locality(_Strict):
    province: str
    province_code: str | None = None
    note: str = ""
    areas: list[Area]
    sources: list[Source] = Field(default_factory=list)
    reviewed: dt.date | None = None


@dataclass(frozen=True)
class Problem:
    file: str
    entry: str
    field: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"{self.file}: {self.entry}: {self.field}: {self.message}"


@dataclass
class Catalogue:
    groups: dict[str, str]
    entries: list[dict[str, Any]]  # id, name, group, agency, ct24


@dataclass
class Content:
    """All loaded content. Built once at start-up; read-only afterwards."""

    root: Path
    catalogue: Catalogue
    services: dict[str, Service]
    faqs: dict[str, FaqTopic]  # keyed by topic
    texts: dict[str, str]
    hotlines: list[Hotline]
    legal_aid: LegalAidCheck | None
    locality: Locality | None
    lexicon: Lexicon
    nlu_files: list[Path]
    service_files: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    source_tiers: SourceTiers | None = None

    def text(self, key: str, **kw: Any) -> str:
        """An interface text by key, formatted with ``kw``."""
        try:
            raw = self.texts[key]
        except KeyError as exc:
            raise KeyError(f"missing interface text {key!r} in content/texts.yaml") from exc
        return raw.format(**kw) if kw else raw

    def faq(self, faq_id: str) -> tuple[FaqTopic, Faq] | None:
        for topic in self.faqs.values():
            for e in topic.entries:
                if e.id == faq_id:
                    return topic, e
        return None

    def services_in_group(self, group: str) -> list[Service]:
        ids = [e["id"] for e in self.catalogue.entries if e["group"] == group]
        return [self.services[i] for i in ids if i in self.services]


#: libyaml's parser when PyYAML has it (ten times faster, same results): content is read
#: again at every live reload and check.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_LOADER)
    except FileNotFoundError as exc:
        raise ContentError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ContentError(f"{path}: not valid YAML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ContentError(f"{path}: not UTF-8 text: {exc}") from exc


def _nfc(obj: Any) -> Any:
    """Normalize every string to NFC so NFD-typed content compares equal."""
    if isinstance(obj, str):
        return unicodedata.normalize("NFC", obj)
    if isinstance(obj, list):
        return [_nfc(x) for x in obj]
    if isinstance(obj, dict):
        return {_nfc(k): _nfc(v) for k, v in obj.items()}
    return obj


def _validation_problems(file: str, entry: str, exc: ValidationError) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "-"
        out.append(Problem(file, entry, loc, err["msg"]))
    return out


def default_content_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "content"


def load_catalogue(path: Path) -> Catalogue:
    data = _nfc(_read_yaml(path))
    if not isinstance(data, dict) or "services" not in data or "groups" not in data:
        raise ContentError(f"{path}: expected keys 'groups' and 'services'")
    return Catalogue(groups=dict(data["groups"]), entries=list(data["services"]))


def load_texts(root: Path | None = None) -> dict[str, str]:
    """``texts.yaml``: the interface texts by key (NFC); raises ContentError when it is not a
    mapping of keys to texts. :func:`load_content` reads it through here too."""
    root = Path(root) if root else default_content_dir()
    raw = _nfc(_read_yaml(root / "texts.yaml"))
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ContentError(f"{root / 'texts.yaml'}: expected key: text pairs")
    return {str(k): v for k, v in raw.items()}


def load_content(root: Path | None = None, *, strict: bool = True) -> Content:
    """Load and validate ``content/``.

    With ``strict`` any schema problem raises :class:`ContentError` naming file, entry and
    field; otherwise problems are collected on ``Content.problems`` (used by the checker).
    """
    root = Path(root) if root else default_content_dir()
    problems: list[Problem] = []
    catalogue = load_catalogue(root / "catalogue.yaml")

    services: dict[str, Service] = {}
    service_files: dict[str, str] = {}
    for path in sorted((root / "services").glob("*.yaml")):
        rel = str(path.relative_to(root.parent)) if root.parent in path.parents else str(path)
        try:
            raw = _nfc(_read_yaml(path))
        except ContentError as exc:
            problems.append(Problem(rel, "-", "-", str(exc)))
            continue
        items = raw if isinstance(raw, list) else [raw]
        for item in items:
            sid = str(item.get("id", "?")) if isinstance(item, dict) else "?"
            try:
                svc = Service.model_validate(item)
            except ValidationError as exc:
                problems.extend(_validation_problems(rel, sid, exc))
                continue
            if svc.id in services:
                problems.append(Problem(rel, svc.id, "id", "duplicate service id"))
                continue
            services[svc.id] = svc
            service_files[svc.id] = rel

    faqs: dict[str, FaqTopic] = {}
    for path in sorted((root / "faq").glob("*.yaml")):
        rel = f"content/faq/{path.name}"
        try:
            topic = FaqTopic.model_validate(_nfc(_read_yaml(path)))
        except ContentError as exc:
            problems.append(Problem(rel, "-", "-", str(exc)))
            continue
        except ValidationError as exc:
            problems.extend(_validation_problems(rel, path.stem, exc))
            continue
        if topic.topic in faqs:
            merged = list(faqs[topic.topic].entries) + list(topic.entries)
            faqs[topic.topic] = faqs[topic.topic].model_copy(update={"entries": merged})
        else:
            faqs[topic.topic] = topic

    def optional(name: str, model: type[BaseModel]) -> Any:
        path = root / name
        if not path.exists():
            problems.append(Problem(f"content/{name}", "-", "-", "file missing"))
            return None
        try:
            return model.model_validate(_nfc(_read_yaml(path)))
        except ContentError as exc:
            problems.append(Problem(f"content/{name}", "-", "-", str(exc)))
        except ValidationError as exc:
            problems.extend(_validation_problems(f"content/{name}", "-", exc))
        return None

    texts: dict[str, str] = {}
    try:
        texts = load_texts(root)
    except ContentError as exc:
        problems.append(Problem("content/texts.yaml", "-", "-", str(exc)))

    hotlines: list[Hotline] = []
    try:
        raw_h = _nfc(_read_yaml(root / "hotlines.yaml")) or {}
        for h in raw_h.get("hotlines", []):
            try:
                hotlines.append(Hotline.model_validate(h))
            except ValidationError as exc:
                problems.extend(
                    _validation_problems("content/hotlines.yaml", str(h.get("number")), exc)
                )
    except ContentError as exc:
        problems.append(Problem("content/hotlines.yaml", "-", "-", str(exc)))

    lexicon = Lexicon()
    lex_path = root / "lexicon.yaml"
    if lex_path.exists():
        try:
            lexicon = load_lexicon(lex_path)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            problems.append(Problem("content/lexicon.yaml", "-", "-", str(exc)))

    content = Content(
        root=root,
        catalogue=catalogue,
        services=services,
        faqs=faqs,
        texts=texts,
        hotlines=hotlines,
        legal_aid=optional("legal_aid_check.yaml", LegalAidCheck),
        locality=optional("locality.yaml", Locality),
        lexicon=lexicon,
        nlu_files=sorted((root / "nlu").glob("*.yml")),
        service_files=service_files,
        problems=problems,
        source_tiers=optional("sources.yaml", SourceTiers),
    )
    errors = [p for p in problems if p.severity == "error"]
    if strict and errors:
        listing = "\n".join(str(p) for p in errors[:20])
        more = f"\n... and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise ContentError(f"content has {len(errors)} problem(s):\n{listing}{more}")
    return content


# ---------------------------------------------------------------- checks

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?…:;])\s+|\n+")
#: Readability limit for citizen text: no sentence longer than this many words (an error).
#: Plain-language guides for older readers put the comfortable sentence at 15-20 words; we
#: allow up to 35 for a single sentence and ask for an average of at most 22 per entry (a
#: warning: an entry above it is readable, but should be rewritten in shorter sentences).
MAX_SENTENCE_WORDS = 35
MAX_AVG_SENTENCE_WORDS = 22


def sentences(text: str) -> list[str]:
    return [s for s in (x.strip() for x in _SENTENCE_SPLIT.split(text)) if s]


def readability_problems(label: str, entry: str, field_name: str, text: str) -> list[Problem]:
    """Sentences too long for elderly readers (see MAX_* above)."""
    out: list[Problem] = []
    sents = sentences(text)
    if not sents:
        return out
    lengths = [len(s.split()) for s in sents]
    for s, n in zip(sents, lengths, strict=True):
        if n > MAX_SENTENCE_WORDS:
            out.append(
                Problem(label, entry, field_name, f"sentence of {n} words (max "
                        f"{MAX_SENTENCE_WORDS}): {s[:60]}...")
            )
    return out


def average_problems(label: str, entry: str, field_name: str,
                     texts: Iterable[str]) -> list[Problem]:
    """A warning when the sentences of an entry average more than MAX_AVG_SENTENCE_WORDS."""
    lengths = [len(s.split()) for text in texts for s in sentences(text)]
    if not lengths or sum(lengths) <= MAX_AVG_SENTENCE_WORDS * len(lengths):
        return []
    avg = sum(lengths) / len(lengths)
    return [Problem(label, entry, field_name, f"sentences average {avg:.1f} words (aim: at "
                    f"most {MAX_AVG_SENTENCE_WORDS}); split the longest", severity="warning")]


def _service_texts(svc: Service) -> Iterable[tuple[str, str]]:
    yield "summary", svc.summary
    yield "audience", svc.audience
    for i, s in enumerate(svc.steps):
        yield f"steps[{i}]", s
    for name in ("fee", "duration", "eligibility", "notes"):
        for i, d in enumerate(getattr(svc, name)):
            yield f"{name}[{i}]", d.text


def _limit_groups(limits: Mapping[str, int]) -> list[tuple[str, int]]:
    """[("zalo_bot/zalo_oa", 2000), ...]: channels sharing a limit are checked once."""
    by_limit: dict[int, list[str]] = {}
    for name, limit in limits.items():
        by_limit.setdefault(limit, []).append(name)
    return [("/".join(names), limit) for limit, names in sorted(by_limit.items(), reverse=True)]


def check_content(
    root: Path | None = None,
    *,
    today: dt.date | None = None,
    max_review_age_days: int = 365,
    render: Any = None,
    text_limits: Mapping[str, int] | None = None,
) -> tuple[list[Problem], dict[str, Any]]:
    """Every problem in ``content/`` and summary counts (``trolyso content check``).

    ``render`` is an optional callable ``(content, service) -> list[str]`` producing the
    messages a citizen would receive, so the check can hold them to ``text_limits``: the
    longest message of each channel, as the channels declare it.
    """
    limits = _limit_groups(text_limits or {})
    today = today or dt.date.today()
    content = load_content(root, strict=False)
    problems = list(content.problems)
    counts: dict[str, Any] = {"entries": 0, "unconfirmed": {}, "stale_reviews": 0}

    cat_ids = [e["id"] for e in content.catalogue.entries]
    for entry in content.catalogue.entries:
        sid = entry["id"]
        if sid not in content.services:
            problems.append(Problem("content/services", sid, "id", "service in catalogue has "
                                    "no content file"))
    for sid, svc in content.services.items():
        file = content.service_files.get(sid, "content/services")
        counts["entries"] += 1
        if sid not in cat_ids:
            problems.append(Problem(file, sid, "id", "not in content/catalogue.yaml"))
            continue
        cat = next(e for e in content.catalogue.entries if e["id"] == sid)
        if cat["group"] not in content.catalogue.groups:
            problems.append(Problem(file, sid, "group", f"group {cat['group']!r} has no menu "
                                    "entry in catalogue.yaml groups: unreachable"))
        if svc.group != cat["group"]:
            problems.append(Problem(file, sid, "group", f"{svc.group!r} but the catalogue "
                                    f"says {cat['group']!r}"))
        if svc.name != cat["name"]:
            problems.append(Problem(file, sid, "name", "differs from the catalogue"))
        for f in svc.unconfirmed:
            counts["unconfirmed"][f] = counts["unconfirmed"].get(f, 0) + 1
        required = {
            "where": svc.where, "steps": svc.steps, "documents": svc.documents,
            "fee": svc.fee, "duration": svc.duration, "eligibility": svc.eligibility,
            "legal_basis": svc.legal_basis, "audience": svc.audience,
        }
        for name, value in required.items():
            if not value and name not in svc.unconfirmed:
                problems.append(Problem(file, sid, name, "empty and not marked unconfirmed"))
        if svc.unconfirmed and not svc.official_page:
            problems.append(Problem(file, sid, "official_page", "required when some fields "
                                    "are unconfirmed (where the citizen can check)"))
        if svc.steps and not 3 <= len(svc.steps) <= 8:
            problems.append(Problem(file, sid, "steps", f"{len(svc.steps)} steps (want 3 to 8)"))
        for i, s in enumerate(svc.steps):
            if not s.strip():
                problems.append(Problem(file, sid, f"steps[{i}]", "empty step"))
        if not svc.sources:
            problems.append(Problem(file, sid, "sources", "no source"))
        problems.extend(_review_problems(file, sid, svc.reviewed, today, max_review_age_days,
                                         counts))
        for fname, text in _service_texts(svc):
            problems.extend(readability_problems(file, sid, fname, text))
        problems.extend(average_problems(file, sid, "*", (t for _, t in _service_texts(svc))))
        if render is not None:
            for i, msg in enumerate(render(content, svc)):
                for channel, limit in limits:
                    if len(msg) > limit:
                        problems.append(Problem(file, sid, f"message[{i}]",
                                                f"{len(msg)} characters, over {channel}'s "
                                                f"{limit}"))

    for topic in content.faqs.values():
        file = f"content/faq/{topic.topic}"
        seen: set[str] = set()
        for e in topic.entries:
            counts["entries"] += 1
            if e.id in seen:
                problems.append(Problem(file, e.id, "id", "duplicate FAQ id"))
            if not re.fullmatch(r"[a-z0-9-]{3,48}", e.id):
                problems.append(Problem(file, e.id, "id", "use 3-48 characters a-z, 0-9 and - "
                                        "(it travels in button data)"))
            if e.category and f"category.{e.category}" not in content.texts:
                problems.append(Problem(file, e.id, "category", f"no button label: add "
                                        f"'category.{e.category}' to content/texts.yaml"))
            seen.add(e.id)
            if not e.sources:
                problems.append(Problem(file, e.id, "sources", "no source"))
            for f in e.unconfirmed:
                counts["unconfirmed"][f] = counts["unconfirmed"].get(f, 0) + 1
            problems.extend(_review_problems(file, e.id, e.reviewed, today,
                                             max_review_age_days, counts))
            problems.extend(readability_problems(file, e.id, "answer", e.answer))
            problems.extend(average_problems(file, e.id, "answer", [e.answer]))
            problems.extend(readability_problems(file, e.id, "more", e.more))
            if len(e.answer) > ANSWER_LIMIT:
                problems.append(Problem(file, e.id, "answer", f"{len(e.answer)} characters, over "
                                        f"{ANSWER_LIMIT}: key point first, the rest in 'more'"))
            if len(e.questions) < MIN_FAQ_QUESTIONS:
                problems.append(Problem(file, e.id, "questions", f"{len(e.questions)} phrasings, "
                                        f"want at least {MIN_FAQ_QUESTIONS} in citizens' words"))
            if e.unconfirmed and not e.note.strip():
                problems.append(Problem(file, e.id, "note", "say why it is unconfirmed and what "
                                        "is known"))
            for sid in e.services:
                if sid not in content.services:
                    problems.append(Problem(file, e.id, "services", f"unknown service {sid!r}"))
            full = f"{e.question}\n\n{e.answer}\n" + "\n".join(e.steps)
            for label, text in (("answer", full), ("more", e.more)):
                for channel, limit in limits:
                    if len(text) > limit:
                        problems.append(Problem(file, e.id, label, f"{len(text)} characters, "
                                                f"over {channel}'s {limit}"))
        if len(topic.disclaimer) > DISCLAIMER_LIMIT:
            problems.append(Problem(file, "-", "disclaimer", f"{len(topic.disclaimer)} characters,"
                                    f" over {DISCLAIMER_LIMIT}"))
    disclaimer = content.texts.get("faq.disclaimer", "")
    if len(disclaimer) > DISCLAIMER_LIMIT:
        problems.append(Problem("content/texts.yaml", "faq.disclaimer", "-",
                                f"{len(disclaimer)} characters, over {DISCLAIMER_LIMIT}"))

    for h in content.hotlines:
        counts["entries"] += 1
        if not h.sources:
            problems.append(Problem("content/hotlines.yaml", h.number, "sources", "no source"))

    if content.locality:
        for a in content.locality.areas:
            counts["entries"] += 1
            for f in a.unconfirmed:
                counts["unconfirmed"][f] = counts["unconfirmed"].get(f, 0) + 1
            if a.unconfirmed and not a.note.strip():
                problems.append(Problem("content/locality.yaml", a.code, "note", "say why it is "
                                        "unconfirmed and what is known"))
            if not a.sources:
                problems.append(Problem("content/locality.yaml", a.code, "sources", "no source"))

    if not content.nlu_files:
        problems.append(Problem("content/nlu", "-", "-", "no NLU training files"))

    counts["tiers"] = {}
    if content.source_tiers is not None:
        problems.extend(_tier_problems(content, content.source_tiers, counts["tiers"]))

    counts["errors"] = sum(1 for p in problems if p.severity == "error")
    counts["warnings"] = sum(1 for p in problems if p.severity == "warning")
    return problems, counts


def _sourced_entries(content: Content) -> Iterable[tuple[str, str, list[str], str | None]]:
    """(file, entry, source addresses, official page) for every entry that cites sources."""
    for sid, svc in content.services.items():
        yield (content.service_files.get(sid, "content/services"), sid,
               [s.url for s in svc.sources], svc.official_page)
    for topic in content.faqs.values():
        for e in topic.entries:
            yield f"content/faq/{topic.topic}", e.id, [s.url for s in e.sources], None
    for h in content.hotlines:
        yield "content/hotlines.yaml", h.number, [s.url for s in h.sources], None
    if content.locality:
        yield "content/locality.yaml", "-", [s.url for s in content.locality.sources], None
        for a in content.locality.areas:
            yield "content/locality.yaml", a.code, [s.url for s in a.sources], None
    if content.legal_aid:
        yield ("content/legal_aid_check.yaml", "-", [s.url for s in content.legal_aid.sources],
               None)


def _tier_problems(content: Content, tiers: SourceTiers, by_tier: dict[str, int]
                   ) -> list[Problem]:
    """Banned sources are errors; an entry resting on news or an unlisted site is a warning.

    ``by_tier`` receives how many entries rest on each tier (by their best source).
    """
    out: list[Problem] = []
    for tier in (*RANKED_TIERS, "none"):
        by_tier[tier] = 0
    for file, entry, urls, official_page in _sourced_entries(content):
        for url in urls:
            tier = tiers.tier_of(url)
            if tier == "banned":
                out.append(Problem(file, entry, "sources", f"banned source {url}: gossip, blog, "
                                   "copy or code-hosting site; cite an official page or the "
                                   "press instead"))
            elif tier == "unlisted":
                out.append(Problem(file, entry, "sources", f"{url}: site in no tier of "
                                   "content/sources.yaml (add it to the right tier)",
                                   severity="warning"))
        best: Tier | None = tiers.best_tier(urls)
        by_tier[best or "none"] += 1
        if best == "reference":
            out.append(Problem(file, entry, "sources", "only a reference work (Wikipedia) "
                               "is cited: it may stand only beside another source"))
        elif best in ("news", "unlisted"):
            page = (f" (its official page {official_page} is not among the sources)"
                    if official_page and tiers.tier_of(official_page) == "official" else "")
            out.append(Problem(file, entry, "sources", f"best source is {best}{page}: cite the "
                               "official page (law text, ministry, province) or state press",
                               severity="warning"))
    return out


def _review_problems(
    file: str, entry: str, reviewed: dt.date | None, today: dt.date, max_age: int,
    counts: dict[str, Any],
) -> list[Problem]:
    if reviewed is None:
        return [Problem(file, entry, "reviewed", "no review date")]
    if reviewed > today:
        return [Problem(file, entry, "reviewed", f"{reviewed} is in the future")]
    if (today - reviewed).days > max_age:
        counts["stale_reviews"] += 1
        return [Problem(file, entry, "reviewed", f"last reviewed {reviewed}, older than "
                        f"{max_age} days", severity="warning")]
    return []
