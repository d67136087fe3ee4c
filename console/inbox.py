"""The editors' inbox: every question the assistant could not answer, in one list, grouped.

Rows come from two logs, both masked when they were written: ``unanswered`` (the assistant
only suggested, handed over, or said it was out of scope) and ``feedback`` rows with 👎 (the
question, the answer given and the label chosen). Nothing here shows who asked.

Groups of the same need: TF-IDF vectors of the normalized text (words, and character n-grams
so typos and missing diacritics still match), cosine similarity, average-linkage clustering cut
at ``learning.cluster_similarity``. Or simply by the assistant's best guess.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.models import Feedback, Unanswered
from flows.content import Content
from nlu.normalize import fold, normalize

__all__ = ["Group", "Item", "Space", "by_guess", "cluster", "describe", "items", "key_terms",
           "label_name", "labels", "mark_reviewed", "parse_keys", "texts_of"]

Kind = Literal["suggest", "handover", "out_of_scope", "down"]


@dataclass
class Item:
    """One inbox row: ``key`` is ``u<id>`` (unanswered) or ``f<id>`` (👎 feedback)."""

    key: str
    text: str
    at: dt.datetime
    kind: str
    guess: str | None  # the label the assistant leaned to (svc_..., a FAQ id, an intent)
    answer: str | None = None  # 👎: the answer given (its reference, e.g. "a:cap-ho-chieu:fee")


@dataclass
class Group:
    items: list[Item]
    terms: list[str] = field(default_factory=list)  # words the group's questions share

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def last(self) -> dt.datetime:
        return max(i.at for i in self.items)

    @property
    def guess(self) -> str | None:
        """The assistant's most frequent best guess in the group."""
        found = Counter(i.guess for i in self.items if i.guess)
        return found.most_common(1)[0][0] if found else None

    @property
    def keys(self) -> str:
        return ",".join(i.key for i in self.items)


async def items(session: AsyncSession, limit: int = 2000, since: dt.datetime | None = None,
                reviewed: bool = False) -> list[Item]:
    """The newest rows not yet reviewed by an editor (or only the reviewed ones)."""
    u = select(Unanswered).order_by(Unanswered.id.desc()).limit(limit)
    f = (select(Feedback).where(Feedback.value < 0).order_by(Feedback.id.desc()).limit(limit))
    if reviewed:
        u = u.where(Unanswered.reviewed_at.is_not(None))
        f = f.where(Feedback.reviewed_at.is_not(None))
    else:
        u = u.where(Unanswered.reviewed_at.is_(None))
        f = f.where(Feedback.reviewed_at.is_(None))
    if since is not None:
        u = u.where(Unanswered.created_at >= since)
        f = f.where(Feedback.created_at >= since)
    out: list[Item] = []
    for r in (await session.execute(u)).scalars():
        g = r.guesses or {}
        out.append(Item(f"u{r.id}", r.text, r.created_at, r.decision,
                        str(g.get("label") or g.get("intent") or "") or None))
    for fb in (await session.execute(f)).scalars():
        if fb.question:  # a 👎 with no question to teach from is only counted (figures)
            out.append(Item(f"f{fb.id}", fb.question, fb.created_at, "down", fb.label,
                            fb.answer))
    out.sort(key=lambda i: i.at, reverse=True)
    return out[:limit]


def parse_keys(raw: Sequence[str]) -> tuple[list[int], list[int]]:
    """("u12", "f3", ...) → (unanswered ids, feedback ids); anything else is ignored."""
    u: list[int] = []
    f: list[int] = []
    for key in raw:
        for part in str(key).split(","):
            part = part.strip()
            if len(part) > 1 and part[1:].isdigit():
                (u if part[0] == "u" else f if part[0] == "f" else []).append(int(part[1:]))
    return u, f


async def texts_of(session: AsyncSession, keys: Sequence[str]) -> list[Item]:
    """The inbox rows named by ``keys`` (reviewed or not), in the order given."""
    u, f = parse_keys(keys)
    found: dict[str, Item] = {}
    if u:
        for r in (await session.execute(select(Unanswered).where(Unanswered.id.in_(u)))
                  ).scalars():
            found[f"u{r.id}"] = Item(f"u{r.id}", r.text, r.created_at, r.decision,
                                     (r.guesses or {}).get("label"))
    if f:
        for fb in (await session.execute(select(Feedback).where(Feedback.id.in_(f)))
                   ).scalars():
            if fb.question:
                found[f"f{fb.id}"] = Item(f"f{fb.id}", fb.question, fb.created_at, "down",
                                          fb.label, fb.answer)
    order = [f"u{i}" for i in u] + [f"f{i}" for i in f]
    return [found[k] for k in order if k in found]


async def mark_reviewed(session: AsyncSession, keys: Sequence[str], label: str,
                        now: dt.datetime | None = None) -> int:
    """Take rows out of the inbox: taught with ``label``, or put aside (``dismissed``)."""
    u, f = parse_keys(keys)
    now = now or utcnow()
    n = 0
    if u:
        res = await session.execute(update(Unanswered).where(Unanswered.id.in_(u)).values(
            reviewed_at=now, reviewed_label=label[:96]))
        n += int(getattr(res, "rowcount", 0) or 0)
    if f:
        res = await session.execute(update(Feedback).where(Feedback.id.in_(f)).values(
            reviewed_at=now, reviewed_label=label[:96]))
        n += int(getattr(res, "rowcount", 0) or 0)
    return n


# ---------------------------------------------------------------------- grouping

_CHATTER = frozenset(fold(w) for w in (
    "cho tôi hỏi ạ ơi với nhé nha vậy thế không có là thì mà của và các những được bị em anh "
    "chị bác cháu con mình tui tôi ad admin bạn xin chào cảm ơn giúp làm sao thế nào gì ở đâu "
    "này kia đó nào rồi đã đang sẽ muốn cần phải hả hỏi nhờ chút ví dụ bao nhiêu lúc mấy"
).split())


class Space:
    """TF-IDF weights learnt from the assistant's training data: words common there ("làm",
    "thủ tục") weigh little, words of a topic it never heard of ("rác", "hiến máu") weigh a
    lot, so questions about one new need fall together even when the inbox is full of them."""

    def __init__(self, background: Sequence[str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        norms = [normalize(t) for t in background] or ["_"]
        self.words = TfidfVectorizer(analyzer="word", sublinear_tf=True,
                                     token_pattern=r"(?u)\b\w+\b").fit(norms)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5),
                                     sublinear_tf=True).fit(norms)

    @classmethod
    def of(cls, content: Content) -> Space:
        """The space of a content's training data (built once per content object)."""
        found = _SPACES.get(id(content))
        if found is None or found[0] is not content:
            from nlu.data import training_examples

            space = cls([e.text for e in training_examples(content.nlu_files, content)])
            _SPACES.clear()
            _SPACES[id(content)] = (content, space)
            return space
        return found[1]

    def vectors(self, texts: Sequence[str]) -> Any:
        from scipy.sparse import hstack
        from sklearn.preprocessing import normalize as l2

        norms = [normalize(t) for t in texts]
        return l2(hstack([l2(self.words.transform(norms)) * _WORD_WEIGHT,
                          l2(self.chars.transform(norms)) * (1 - _WORD_WEIGHT)]).tocsr())


_SPACES: dict[int, tuple[Content, Space]] = {}
_WORD_WEIGHT = 0.7


def cluster(found: Sequence[Item], similarity: float, space: Space) -> list[Group]:
    """Groups of the same need, biggest (then newest) first (remembered until the inbox, the
    content or the threshold changes: grouping 2,000 questions takes about a second)."""
    key = (id(space), similarity, tuple(i.key for i in found))
    if _LAST[0] == key:
        return list(_LAST[1])
    groups = _cluster(found, similarity, space)
    _LAST[:] = [key, groups]
    return list(groups)


_LAST: list[Any] = [None, []]


def _cluster(found: Sequence[Item], similarity: float, space: Space) -> list[Group]:
    if not found:
        return []
    if len(found) == 1:
        return [Group([found[0]], key_terms([found[0].text]))]
    import numpy as np
    from sklearn.cluster import AgglomerativeClustering

    x = space.vectors([i.text for i in found])
    sim = np.asarray((x @ x.T).todense(), dtype=np.float64)
    distance = np.clip(1.0 - sim, 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    labels = AgglomerativeClustering(n_clusters=None, metric="precomputed", linkage="average",
                                     distance_threshold=1.0 - similarity
                                     ).fit_predict(distance)
    by: dict[int, list[Item]] = {}
    for item, label in zip(found, labels, strict=True):
        by.setdefault(int(label), []).append(item)
    groups = [Group(members, key_terms([m.text for m in members])) for members in by.values()]
    groups.sort(key=lambda g: (g.count, g.last), reverse=True)
    return groups


def by_guess(found: Sequence[Item]) -> list[Group]:
    """Groups by the assistant's best guess ("none" last)."""
    by: dict[str, list[Item]] = {}
    for item in found:
        by.setdefault(item.guess or "", []).append(item)
    groups = [Group(members, key_terms([m.text for m in members])) for members in by.values()]
    groups.sort(key=lambda g: (g.guess is not None, g.count, g.last), reverse=True)
    return groups


def key_terms(texts: Sequence[str], n: int = 4) -> list[str]:
    """Words (as typed) that several of the questions use: what a group is about, without
    anything that belongs to one citizen (a word used by a single question is left out)."""
    if len(texts) < 2:
        return []
    spelled: dict[str, Counter[str]] = {}
    df: Counter[str] = Counter()
    lowered: set[str] = set()  # words also typed in lower case (capitals only: a name)
    for text in texts:
        seen: set[str] = set()
        for raw in text.split():
            typed = raw.strip(".,;:!?()\"'“”…-")
            word = typed.lower()
            if not word or not word.isalpha():
                continue
            key = fold(word)
            if key in _CHATTER or len(key) < 2:
                continue
            if typed == word:
                lowered.add(key)
            spelled.setdefault(key, Counter())[word] += 1
            seen.add(key)
        df.update(seen)
    common = [(k, c) for k, c in df.items() if c >= 2 and k in lowered]
    common.sort(key=lambda kc: (-kc[1], kc[0]))
    return [spelled[k].most_common(1)[0][0] for k, _ in common[:n]]


# ---------------------------------------------------------------------- labels

def labels(content: Content) -> list[tuple[str, list[tuple[str, str]]]]:
    """What an editor can teach, grouped for a ``<select>``: services, FAQ entries, and the
    answer for questions outside what the assistant covers."""
    services = sorted(((f"svc_{sid}", svc.name) for sid, svc in content.services.items()),
                      key=lambda x: x[1])
    out: list[tuple[str, list[tuple[str, str]]]] = [
        ("Ngoài phạm vi", [
            ("out_of_scope", "Ngoài phạm vi trợ lý (chỉ nơi hỏi)"),
            ("other_procedure", "Thủ tục hành chính ngoài 53 dịch vụ (chỉ cổng dịch vụ công, "
                                "bộ phận một cửa)")]),
        ("Dịch vụ công", services)]
    for topic in content.faqs.values():
        out.append((f"Hỏi đáp: {topic.title}",
                    [(f"{topic.intent}/{e.id}", e.question) for e in topic.entries]))
    return out


def label_name(content: Content, label: str | None) -> str:
    """A label in the editors' words ("Cấp, cấp lại hộ chiếu", a FAQ question...)."""
    if not label:
        return "—"
    if label == "out_of_scope":
        return "Ngoài phạm vi"
    if label == "other_procedure":
        return "Thủ tục ngoài 53 dịch vụ"
    if label.startswith("svc_"):
        svc = content.services.get(label[4:])
        return svc.name if svc else label
    faq_id = label.rpartition("/")[2]
    found = content.faq(faq_id)
    if found is not None:
        return found[1].question
    return _INTENTS.get(label, label)


_INTENTS = {"greet": "Chào hỏi", "goodbye": "Tạm biệt", "thanks": "Cảm ơn",
            "menu_help": "Hỏi trợ lý làm được gì", "service_list": "Danh sách dịch vụ",
            "service_howto": "Hỏi về một dịch vụ", "crime_report": "Tố giác tội phạm",
            "emergency": "Khẩn cấp", "legal_help": "Hỏi pháp luật",
            "vneid_account": "Tài khoản VNeID", "scam_report": "Lừa đảo",
            "subscribe": "Đăng ký nhận thông báo", "unsubscribe": "Hủy nhận thông báo",
            "human": "Gặp cán bộ", "other_procedure": "Thủ tục ngoài 53 dịch vụ",
            "bot_identity": "Hỏi trợ lý là ai", "insult": "Lời chê trách"}

_ASPECTS = {"steps": "Các bước", "documents": "Giấy tờ", "fee": "Lệ phí",
            "duration": "Thời gian", "eligibility": "Ai được làm", "where": "Nộp ở đâu"}


def describe(content: Content, ref: str | None) -> str:
    """The answer behind a button reference, in the editors' words."""
    if not ref:
        return "—"
    head, _, rest = ref.partition(":")
    sid, _, aspect = rest.partition(":")
    if head in ("s", "st", "sum", "a") and sid in content.services:
        name = content.services[sid].name
        if head == "a":
            return f"{_ASPECTS.get(aspect, aspect)}: {name}"
        if head == "sum":
            return f"Tóm tắt: {name}"
        return name
    if head == "q":
        found = content.faq(rest)
        return found[1].question if found else rest
    if head in ("la", "lf"):
        return "Kiểm tra trợ giúp pháp lý"
    if head == "i":
        return _INTENTS.get(rest, rest)
    return ref
