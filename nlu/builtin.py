"""The built-in engine: normalization, TF-IDF features and a linear model, in process.

Training (scikit-learn's logistic regression) takes a few seconds at start-up; the learnt
weights are then copied into plain arrays, so a parse is a dictionary walk and one small
matrix product (well under a millisecond), with no per-call scikit-learn overhead.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import compress, count
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nlu.augment import augment
from nlu.danger import assess
from nlu.data import FAQ_TOPICS, FINER, Example, base_label, dedupe, split_label
from nlu.features import Featurizer
from nlu.normalize import normalize
from nlu.rules import (
    Sentence,
    aspect_of,
    content_words,
    core_norm,
    is_follow_up,
    only_vague,
    question_part,
    sentences,
    topic_clauses,
    without_formulas,
)
from nlu.tables import FAMILY_TERMS, SERVICE_TERMS
from nlu.types import Alternative, Decision, Parse

__all__ = ["BuiltinEngine", "Thresholds", "TrainParams", "default_thresholds", "train"]

THRESHOLDS_FILE = Path(__file__).with_name("thresholds.json")
_SOCIAL = frozenset({"greet", "goodbye", "thanks"})
_MANY_SENTENCES_RE = re.compile(r"[.!?;:\n…]\s*\S")
#: How much the question found inside a long message weighs against the whole message.
_QUESTION_WEIGHT = 0.5
#: A follow-up on the current service is a short question (in words).
_FOLLOW_UP_WORDS = 14
#: Intents whose own words beat a follow-up reading ("ai được trợ giúp pháp lý miễn phí").
_OWN_WORDS_INTENTS = frozenset({
    "legal_help", "vneid_account", "scam_report", "crime_report", "subscribe", "unsubscribe",
    "human", "service_list", "menu_help", "goodbye", "thanks", "greet"})
#: A follow-up form on a service card ("còn ... thì sao") that the model, reading the words
#: alone, gives to another service this surely is about that other service.
_SURE_SWITCH = 0.8
#: At most this many services named in a message (``_mentions``) are looked at for a place
#: among the three best guesses: a letter naming more is a story, not a pointer.
_NAMED_MAX = 2
#: A second topic must be this likely on its own.
_SECOND_MIN = 0.5
_SECOND_MIN_TOPIC = 0.9
_NO_SECOND = frozenset({"greet", "goodbye", "thanks", "out_of_scope", "emergency", "menu_help",
                        "bot_identity", "insult"})
#: A message of only words that ask for a paper without saying which (``rules.only_vague``)
#: names no service, so the model's lean to one is halved: the citizen gets the best guesses
#: to choose from, not one answer.
_VAGUE_DISCOUNT = 0.5
#: Services whose answer already covers others (no need to offer those as a second topic).
_COVERS_SERVICES: dict[str, set[str]] = {
    "lien-thong-khai-sinh": {"dang-ky-khai-sinh", "dang-ky-thuong-tru", "can-cuoc-tre-duoi-6",
                             "gia-han-bhyt-ho-gia-dinh", "cap-lai-the-bhyt"},
    "lien-thong-khai-tu": {"dang-ky-khai-tu", "xoa-dang-ky-thuong-tru", "ho-tro-mai-tang"},
    "dang-ky-khai-sinh": {"lien-thong-khai-sinh"}, "dang-ky-khai-tu": {"lien-thong-khai-tu"},
    "ho-tro-mai-tang": {"lien-thong-khai-tu"}, "cap-doi-the-can-cuoc": {"can-cuoc-tre-duoi-6"},
    "can-cuoc-tre-duoi-6": {"cap-doi-the-can-cuoc"},
    "doi-giay-phep-lai-xe": {"cap-lai-giay-phep-lai-xe"},
    "cap-lai-giay-phep-lai-xe": {"doi-giay-phep-lai-xe"},
    "gia-han-bhyt-ho-gia-dinh": {"cap-lai-the-bhyt"},
    "cap-lai-the-bhyt": {"gia-han-bhyt-ho-gia-dinh"},
    "dang-ky-xe-may": {"sang-ten-xe", "dang-ky-o-to"},
    "dang-ky-o-to": {"sang-ten-xe", "dang-ky-xe-may"},
    "sang-ten-xe": {"dang-ky-xe-may", "dang-ky-o-to"},
    "con-dau-moi": {"con-dau-thu-nho"}, "con-dau-thu-nho": {"con-dau-moi"},
    "cap-so-do-lan-dau": {"dang-ky-bien-dong-dat-dai", "thong-tin-dat-dai"},
    "dang-ky-bien-dong-dat-dai": {"cap-so-do-lan-dau", "thong-tin-dat-dai"},
    "thong-tin-dat-dai": {"cap-so-do-lan-dau", "dang-ky-bien-dong-dat-dai"},
    "dang-ky-thuong-tru": {"xoa-dang-ky-thuong-tru", "xac-nhan-thong-tin-cu-tru"},
    "xoa-dang-ky-thuong-tru": {"dang-ky-thuong-tru"},
    "dang-ky-thue": {"quyet-toan-thue-tncn"}, "quyet-toan-thue-tncn": {"dang-ky-thue"},
    "dang-ky-ho-kinh-doanh": {"dang-ky-doanh-nghiep", "dang-ky-thue"},
    "dang-ky-doanh-nghiep": {"dang-ky-ho-kinh-doanh", "dang-ky-thue"},
    "thi-tot-nghiep-thpt": {"xet-tuyen-dai-hoc"}, "xet-tuyen-dai-hoc": {"thi-tot-nghiep-thpt"},
}
_COVERS: dict[str, frozenset[str]] = {
    f"svc_{k}": frozenset(f"svc_{x}" for x in v) for k, v in _COVERS_SERVICES.items()}
_TERM_OWNERS: dict[str, set[str]] = {}
for _sid, _terms in SERVICE_TERMS.items():
    for _t in _terms:
        _TERM_OWNERS.setdefault(_t, set()).add(_sid)
#: Words that make the service named after them a state, not a wish (folded).
_NEGATION = frozenset({"chua", "khong", "chang", "cha", "ko"})
#: Words between the negation and the service that keep it a state ("chưa đăng ký kết hôn",
#: "không có hộ chiếu"; not "không biết làm hộ chiếu").
_STATE_WORDS = frozenset({"dang", "ky", "co", "lam", "duoc", "tung", "he", "giay", "di", "cap"})
_TERMS_RE = re.compile("(?<= )(?:" + "|".join(
    sorted((re.escape(t) for t in _TERM_OWNERS), key=len, reverse=True)) + ")(?= )")
_FAMILY_RE = re.compile("(?<= )(?:" + "|".join(
    sorted((re.escape(t) for t in FAMILY_TERMS), key=len, reverse=True)) + ")(?= )")
#: The terms by their first word, the longest first, each with the services it names:
#: ``_TERMS_RE`` read word by word.
_TERMS_BY_FIRST: dict[str, list[tuple[tuple[str, ...], set[str]]]] = {}
for _t in sorted(_TERM_OWNERS, key=len, reverse=True):
    _TERMS_BY_FIRST.setdefault(_t.split(" ")[0], []).append(
        (tuple(_t.split(" ")), _TERM_OWNERS[_t]))


@dataclass(frozen=True)
class TrainParams:
    """Model settings chosen by cross-validation (bench/nlu_bench.py --cv)."""

    c: float = 0.6
    word_weight: float = 1.0
    min_df_char: int = 2
    copies: int = 4
    seed: int = 13
    max_faq_per_label: int = 60  # FAQ questions must not swamp the other labels
    model: str = "svm"  # lr: logistic regression; svm: linear SVM with a softmax on its scores
    temperature: float = 5.5  # svm only: scores are multiplied by this before the softmax
    #: "balanced": each label weighs alike, however many examples it has; "sqrt": halfway
    #: (a label's weight is the square root of its balanced weight); None: each example alike.
    class_weight: str | None = "sqrt"


@dataclass(frozen=True)
class Thresholds:
    answer: float
    suggest: float
    faq: float = 0.3
    soft_emergency: float = 0.08


def default_thresholds() -> Thresholds:
    """The thresholds calibrated on the evaluation data (nlu/thresholds.json)."""
    try:
        data = json.loads(THRESHOLDS_FILE.read_text(encoding="utf-8"))
        return Thresholds(answer=float(data["answer"]), suggest=float(data["suggest"]),
                          faq=float(data.get("faq", 0.3)),
                          soft_emergency=float(data.get("soft_emergency", 0.08)))
    except (OSError, ValueError, KeyError):
        return Thresholds(answer=0.5, suggest=0.2)


@dataclass
class _FaqIndex:
    """FAQ questions of the topics behind one intent, as L2-normalized TF-IDF rows."""

    ids: list[str]
    rows: NDArray[np.int64]  # feature index -> row of ``matrix``, or -1
    matrix: NDArray[np.float32]  # (features used by these FAQs, FAQ entries)

    def best(self, idx: NDArray[np.int64], val: NDArray[np.float64]) -> tuple[str | None, float]:
        """The closest FAQ entry and its cosine similarity to the message."""
        if idx.size == 0:
            return None, 0.0
        rows = self.rows[idx]
        keep = rows >= 0
        if not keep.any():
            return None, 0.0
        scores = val[keep].astype(np.float32) @ self.matrix[rows[keep]]
        k = int(scores.argmax(0))
        return self.ids[k], float(scores[k]) / (float(np.sqrt(val @ val)) or 1.0)


@dataclass
class BuiltinEngine:
    """A trained model; ``parse`` is synchronous and fast, ``aparse`` just calls it."""

    featurizer: Featurizer
    labels: list[str]
    weights: NDArray[np.float32]  # (features, labels)
    bias: NDArray[np.float32]
    thresholds: Thresholds
    faq_index: dict[str, _FaqIndex] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._intents = [split_label(lb) for lb in self.labels]
        #: (intent, service, base label) of each label, for the alternatives of a parse.
        self._alt_parts = [(*split_label(lb), base_label(lb)) for lb in self.labels]
        self._index = {lb: i for i, lb in enumerate(self.labels)}
        self._emergency = self._index.get("emergency", -1)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__post_init__()

    def with_thresholds(self, thresholds: Thresholds) -> BuiltinEngine:
        return BuiltinEngine(self.featurizer, self.labels, self.weights, self.bias, thresholds,
                             self.faq_index, self.info)

    # ------------------------------------------------------------------ scoring

    def probabilities(self, norm: str) -> NDArray[np.float64]:
        """Label probabilities for one normalized message."""
        return self._scored(norm)[0]

    def _scored(self, norm: str) -> tuple[NDArray[np.float64], NDArray[np.int64],
                                          NDArray[np.float64]]:
        return self._scored_ids(self.featurizer.ids(norm))

    def _scored_ids(self, ids: NDArray[np.int64]
                    ) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
        idx, val = self.featurizer.weigh(ids)
        scores = self.bias.astype(np.float64)
        if idx.size:
            scores = scores + val.astype(np.float32) @ self.weights[idx]
        return _softmax(scores), idx, val

    def _scored_with_part(self, ids: NDArray[np.int64], part_ids: NDArray[np.int64]
                          ) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64],
                                     NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
        """``_scored_ids`` of a message and of a part of it (its question), with the weight
        rows of the message's features gathered once: the part's features are among them."""
        idx, val = self.featurizer.weigh(ids)
        pidx, pval = self.featurizer.weigh(part_ids)
        x = np.zeros((2, idx.size), dtype=np.float32)
        x[0] = val
        x[1, idx.searchsorted(pidx)] = pval
        scores = self.bias.astype(np.float64) + x @ self.weights[idx]
        return _softmax(scores[0]), idx, val, _softmax(scores[1]), pidx, pval

    def _combined(self, parts: list[Sentence], probs: NDArray[np.float64]) -> NDArray[np.float64]:
        """A long message may be carried by one of its sentences.

        A greeting or a thank-you wrapped around a request must not win over the request.
        """
        if self.labels[int(probs.argmax(0))] not in _SOCIAL or len(parts) < 2:
            return probs
        best = probs
        best_p = 0.0
        for part in parts:
            pp = self.probabilities(part.norm)
            j = int(pp.argmax(0))
            if self.labels[j] not in _SOCIAL and pp[j] > best_p:
                best, best_p = pp, float(pp[j])
        if best_p > 0.0:
            return 0.3 * probs + 0.7 * best
        return probs

    @staticmethod
    def _mentions(norm: str) -> set[str]:
        """Services the text names clearly (SERVICE_TERMS)."""
        out: set[str] = set()
        for owners in BuiltinEngine._named_terms(norm):
            out |= owners
        return out

    @staticmethod
    def _named_terms(norm: str) -> list[set[str]]:
        """The services of each SERVICE_TERMS term the text uses, term by term."""
        out: list[set[str]] = []
        words = norm.split(" ")
        if "" in words:  # not single-spaced: the regex, which the word walk below mirrors
            return [_TERM_OWNERS[m.group(0)] for m in _TERMS_RE.finditer(f" {norm} ")]
        # Leftmost, then longest, terms that do not overlap, as the regex finds them: only
        # the words a term starts with are looked at, from the end of the last term found.
        first = _TERMS_BY_FIRST
        i = 0
        for h in compress(count(), map(first.__contains__, words)):
            if h < i:
                continue  # inside the term found last
            for term, owners in first[words[h]]:
                k = len(term)
                if k == 1 or tuple(words[h:h + k]) == term:
                    out.append(owners)
                    i = h + k
                    break
        return out

    @staticmethod
    def _named_as_wanted(norm: str) -> set[str]:
        """Services the text names, but not as a state it is in ("chưa đăng ký kết hôn",
        "không có hộ chiếu"): a service named after a negation is no second question."""
        out: set[str] = set()
        padded = f" {norm} "
        for m in _TERMS_RE.finditer(padded):
            before = padded[:m.start()].split()[-4:]
            negated = [i for i, w in enumerate(before) if w in _NEGATION]
            if not negated or not _STATE_WORDS.issuperset(before[negated[-1] + 1:]):
                out |= _TERM_OWNERS[m.group(0)]
        return out

    def _vague(self, norm: str) -> bool:
        """Whether a message asks for a paper without a word saying which one."""
        return (only_vague(norm) and not self._mentions(norm)
                and _FAMILY_RE.search(f" {norm} ") is None)  # "sổ đỏ" says which paper

    def _second(self, parts: list[Sentence], question: list[int], label: str,
                main_norm: str,
                known: dict[str, list[NDArray[np.int64]]] | None = None
                ) -> Alternative | None:
        """A second topic: another question of the message, about something else.

        A second service must be named in its clause ("và đăng ký tạm trú cho con dâu ở
        đâu?"); a follow-up about the same thing ("sau bao lâu thì nhận tiền?") is not one.
        """
        pool: list[str] = []
        asked = [i for i in (question or range(len(parts))) if parts[i].question] or question
        for i in asked:
            pool.extend(topic_clauses(parts[i].norm))
        if len(parts) <= 1 or not question:
            pool = topic_clauses(main_norm) if len(pool) <= 1 else pool
        if len(pool) < 2:
            return None
        main = self._index.get(label, -1)
        covered = _COVERS.get(label, frozenset())
        best: Alternative | None = None
        main_service = split_label(label)[1]
        main_services = {main_service} | _COVERS_SERVICES.get(main_service or "", set())
        scored = 0
        for clause in pool:
            if content_words(clause) < 2:
                continue
            mentioned = self._mentions(clause)
            if mentioned and not _NEGATION.isdisjoint(clause.split(" ")):
                mentioned = self._named_as_wanted(clause)
            named = mentioned - main_services
            if not named and len(pool) > 2:
                continue  # only a clause naming another service is worth a look
            scored += 1
            if scored > 3:
                break
            found = known.get(clause) if known else None  # a whole sentence: looked up already
            pp = (self._scored_ids(_joined(found))[0] if found is not None
                  else self.probabilities(clause))
            j = int(pp.argmax(0))
            lb = self.labels[j]
            if (lb == label or lb in covered or base_label(lb) in _NO_SECOND
                    or pp[j] < _SECOND_MIN
                    or (main >= 0 and pp[main] > 0.2)):
                continue
            a_intent, a_service = split_label(lb)
            if a_service and a_service not in mentioned:
                continue
            if not a_service and pp[j] < _SECOND_MIN_TOPIC:
                # A topic that is no service is offered only when the clause is plainly
                # about it: "giờ còn chặn số điện thoại" in a loan story is no wish to talk to
                # a person (human at 0.75), "app ngân hàng" beside a lost phone no legal
                # question (0.68).
                continue
            if best is None or pp[j] > best.confidence:
                best = Alternative(a_intent, a_service, float(pp[j]), lb)
        return best

    def _with_named(self, order: list[int], probs: NDArray[np.float64], q_norm: str,
                    norm: str) -> list[int]:
        """The best guesses, with a service the message names among the first three.

        The model may rank a service the citizen names in so many words ("hộ chiếu", "tạm
        trú") below two others (a long story about something else around it); the citizen
        choosing among the three best guesses must see it. The likeliest named service missing
        from the first three takes the third place (the question's names first, then the
        whole message's); at most ``_NAMED_MAX`` names, else the message is a story.
        """
        terms = self._named_terms(q_norm) if q_norm != norm else []
        if not terms:
            terms = self._named_terms(norm)
        named = {sid for owners in terms for sid in owners}
        if not named or len(named) > _NAMED_MAX:
            return order
        top3 = {sid for i in order[:3] if (sid := self._alt_parts[i][1])}
        top3 |= {c for sid in top3 for c in _COVERS_SERVICES.get(sid, ())}
        # A term one of whose services is guessed already ("khai sinh": the birth registration
        # guessed, the linked procedure not) is answered.
        wanted = {sid for owners in terms if not owners & top3 for sid in owners}
        missing = [j for sid in wanted if (j := self._index.get(f"svc_{sid}", -1)) >= 0]
        if not missing:
            return order
        j = max(missing, key=lambda k: float(probs[k]))
        return [*order[:2], j, *(i for i in order[2:] if i != j)][:len(order)]

    # ------------------------------------------------------------------ parse

    def parse(self, text: str, current_service: str | None = None) -> Parse:
        danger = assess(text)
        parts = (without_formulas(sentences(text)) if _MANY_SENTENCES_RE.search(text.strip())
                 else [])
        norm = " ".join(p.norm for p in parts) if parts else core_norm(text)
        question = question_part(parts)
        asked = question
        if len(question) > 1:
            # "Xin hỏi làm khai sinh cần gì? Và tạm trú cho con dâu ở đâu?": the first question
            # is the one to answer; one naming another service is a second topic.
            first = self._mentions(parts[question[0]].norm)
            covered = first | {c for f in first for c in _COVERS_SERVICES.get(f, ())}
            if first:
                question = [question[0], *(i for i in question[1:]
                                           if not self._mentions(parts[i].norm) - covered)]
        q_norm = " ".join(parts[i].norm for i in question) if question else norm
        if parts:
            # Each sentence is looked up once; the whole and the question are their sums.
            ids = [self.featurizer.id_pieces(p.norm) for p in parts]
            whole = _joined([a for piece in ids for a in piece])
            if q_norm != norm:
                probs, idx, val, pq, qidx, qval = self._scored_with_part(
                    whole, _joined([a for i in question for a in ids[i]]))
                probs = _QUESTION_WEIGHT * pq + (1.0 - _QUESTION_WEIGHT) * probs
            else:
                probs, idx, val = self._scored_ids(whole)
        else:
            probs, idx, val = self._scored(norm)
        probs = self._combined(parts, probs)
        order = [int(i) for i in (-probs).argsort()[:6]]
        level = danger.level
        if danger.now:
            if self._emergency >= 0:
                order = [self._emergency, *[i for i in order if i != self._emergency][:4]]
        elif self._emergency >= 0:
            if order[0] == self._emergency and level == "none":
                level = "soft"  # the model smells danger the rules did not see: say where help is
            order = [i for i in order if i != self._emergency]
        order = order[:5]
        top = order[0]
        label = self.labels[top]
        confidence = float(probs[top])
        if danger.now:
            confidence = max(confidence, 0.9)
        intent, service = split_label(label)
        aspect_text = q_norm if q_norm != norm else norm
        follow_up = False
        if (current_service and not danger.now and f"svc_{current_service}" in self._index
                and len(aspect_text.split()) <= _FOLLOW_UP_WORDS):
            named = (self._mentions(aspect_text) or self._mentions(norm)
                     or {sid for m in _FAMILY_RE.finditer(f" {aspect_text} ")
                         for sid in FAMILY_TERMS[m.group(0)]})
            keep_intent = (intent in _OWN_WORDS_INTENTS and confidence >= 0.75
                           and content_words(aspect_text) >= 2)
            target: str | None = None
            # The model, reading the words alone, sure of another service in a message with
            # words of its own ("còn miếng đất đứng tên ba thì sao" on the electricity
            # contract; "làm luôn thẻ BHYT cho cháu" on the birth registration: the linked
            # procedure for a newborn): a change of subject, not a question about this card.
            other = (service if intent == "service_howto" and service != current_service
                     and confidence >= _SURE_SWITCH and content_words(aspect_text) >= 2
                     else None)
            if current_service in named or (not named and is_follow_up(aspect_text)
                                            and other is None):
                target = current_service  # "còn giấy tờ gì nữa", "hộ chiếu mất bao lâu"
                follow_up = True
            elif named and not keep_intent and is_follow_up(aspect_text):
                # "còn ô tô thì sao" on the motorbike card: the named service, the likeliest
                # (the model's own when it is sure of one).
                target = other or max(named, key=lambda sid: float(
                    probs[self._index.get(f"svc_{sid}", top)]))
            if target is not None and f"svc_{target}" in self._index and (
                    not keep_intent or target != current_service or current_service in named):
                label = f"svc_{target}"
                top = self._index[label]
                intent, service = "service_howto", target
                confidence = max(float(probs[top]), 0.9)
                order = [top, *[i for i in order if i != top][:4]]
            else:
                follow_up = False
        if (intent == "service_howto" and not follow_up and not danger.now
                and self._vague(norm)):
            confidence *= _VAGUE_DISCOUNT
        decision = self._decision(intent, confidence)
        aspect = None  # a confident non-service answer: any aspect words belong to it
        if intent in ("service_howto", "out_of_scope") or decision != "answer":
            aspect = aspect_of(aspect_text)
        faq = None
        base = base_label(label)
        out_label: str | None = base if (service or base in FINER) else None
        if intent in self.faq_index and not follow_up:
            fidx, fval = (qidx, qval) if q_norm != norm else (idx, val)
            fid, score = self.faq_index[intent].best(fidx, fval)
            if q_norm != norm:
                fid2, score2 = self.faq_index[intent].best(idx, val)
                if fid2 is not None and score2 > score:
                    fid, score = fid2, score2
            if fid is not None and score >= self.thresholds.faq:
                faq = out_label = fid
        if not danger.now and not follow_up:
            order = self._with_named(order, probs, q_norm, norm)
        alternatives = []
        for i in order:
            a_intent, a_service, a_label = self._alt_parts[i]
            conf = confidence if self.labels[i] == label else float(probs[i])
            alternatives.append(Alternative(a_intent, a_service, conf, a_label))
        second = None
        if not danger.now and not follow_up and (len(parts) > 1 or len(norm.split()) >= 8):
            second = self._second(parts, asked, label, norm,
                                  {p.norm: i for p, i in zip(parts, ids, strict=True)}
                                  if parts else None)
        return Parse(text=text, intent=intent, label=out_label, confidence=confidence,
                     decision=decision, service=service, aspect=aspect,
                     alternatives=alternatives, faq=faq, danger=level,
                     numbers=danger.numbers if level != "none" else (), second=second,
                     question=" ".join(parts[i].raw for i in question) if question else None,
                     follow_up=follow_up)

    async def aparse(self, text: str, current_service: str | None = None) -> Parse:
        return self.parse(text, current_service)

    def _decision(self, intent: str, confidence: float) -> Decision:
        if intent == "emergency":
            return "answer"  # danger now: always show the emergency numbers
        if confidence >= self.thresholds.answer:
            return "answer"
        if confidence >= self.thresholds.suggest:
            return "suggest"
        return "handover"


def _joined(arrays: list[NDArray[np.int64]]) -> NDArray[np.int64]:
    """Feature ids in pieces (``Featurizer.id_pieces``) as one array, as ``Featurizer.ids``."""
    if not arrays:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate(arrays) if len(arrays) > 1 else arrays[0]


def _softmax(scores: NDArray[np.float64]) -> NDArray[np.float64]:
    e = np.exp(scores - scores.max(0))  # 1-d scores
    e /= e.sum()
    return e


# ---------------------------------------------------------------------- training

def _fit_weights(featurizer: Featurizer, norms: Sequence[str], y: Sequence[int],
                 n_labels: int, params: TrainParams
                 ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    indptr, indices, data = featurizer.transform(norms)
    x = csr_matrix((data, indices, indptr), shape=(len(norms), featurizer.size))
    model: Any
    scale = 1.0
    weight: Any = params.class_weight
    if weight == "sqrt":
        labels, counts = np.unique(np.asarray(y), return_counts=True)
        weight = {int(lb): float(np.sqrt(len(y) / (len(labels) * n)))
                  for lb, n in zip(labels, counts, strict=True)}
    if params.model == "svm":
        model = LinearSVC(C=params.c, tol=1e-3, class_weight=weight)
        scale = params.temperature
    else:
        model = LogisticRegression(C=params.c, max_iter=300, tol=1e-3,
                                   class_weight=weight)
    model.fit(x, np.asarray(y))
    coef = np.zeros((n_labels, featurizer.size), dtype=np.float32)
    bias = np.full(n_labels, -1e4, dtype=np.float32)
    coef[model.classes_] = model.coef_ * scale
    bias[model.classes_] = model.intercept_ * scale
    return np.ascontiguousarray(coef.T), bias


def _faq_indexes(featurizer: Featurizer, content: Any,
                 examples: Sequence[Example] = ()) -> dict[str, _FaqIndex]:
    """FAQ entries of each intent's topics, each the sum of its questions' vectors (the entry's
    own questions, and the training examples written for it: ``intent/faq-id``)."""
    out: dict[str, _FaqIndex] = {}
    if content is None:
        return out
    extra: dict[str, list[str]] = {}
    for e in examples:
        if e.faq:
            extra.setdefault(e.faq, []).append(e.text)
    for intent, topics in FAQ_TOPICS.items():
        ids: list[str] = []
        vectors: list[dict[int, float]] = []
        for topic_id in topics:
            topic = content.faqs.get(topic_id)
            if topic is None:
                continue
            for e in topic.entries:
                acc: dict[int, float] = {}
                for q in (e.question, *e.questions, *extra.get(e.id, ())):
                    i, v = featurizer.transform_one(normalize(q))
                    for j, w in zip(i.tolist(), v.tolist(), strict=True):
                        acc[j] = acc.get(j, 0.0) + w
                n = math.sqrt(sum(w * w for w in acc.values())) or 1.0
                ids.append(e.id)
                vectors.append({j: w / n for j, w in acc.items()})
        if ids:
            used = sorted({j for vec in vectors for j in vec})
            rows = np.full(featurizer.size, -1, dtype=np.int64)
            rows[used] = np.arange(len(used))
            matrix = np.zeros((len(used), len(ids)), dtype=np.float32)
            for k, vec in enumerate(vectors):
                for j, w in vec.items():
                    matrix[rows[j], k] = w
            out[intent] = _FaqIndex(ids, rows, matrix)
    return out


def _cap_per_label(examples: Sequence[Example], source: str, cap: int) -> list[Example]:
    """At most ``cap`` examples of ``source`` per label, spread over the whole list."""
    groups: dict[str, list[Example]] = {}
    for e in examples:
        if e.source == source:
            groups.setdefault(e.label, []).append(e)
    keep: set[int] = set()
    for items in groups.values():
        step = max(1.0, len(items) / cap)
        keep.update(id(items[int(i * step)]) for i in range(min(cap, len(items))))
    return [e for e in examples if e.source != source or id(e) in keep]


def train(examples: Sequence[Example], content: Any | None = None,
          params: TrainParams | None = None,
          thresholds: Thresholds | None = None) -> BuiltinEngine:
    """Train the built-in engine on labelled examples (and the content's FAQs for ranking)."""
    params = params or TrainParams()
    base = _cap_per_label(dedupe(examples), "faq", params.max_faq_per_label)
    labels = sorted({e.label for e in base})
    index = {lb: i for i, lb in enumerate(labels)}
    data = augment(base, copies=params.copies, seed=params.seed)
    norms = [core_norm(e.text) for e in data]
    featurizer = Featurizer(word_weight=params.word_weight,
                            min_df_char=params.min_df_char).fit(norms)
    weights, bias = _fit_weights(featurizer, norms, [index[e.label] for e in data],
                                 len(labels), params)
    return BuiltinEngine(
        featurizer=featurizer, labels=labels, weights=weights, bias=bias,
        thresholds=thresholds or default_thresholds(),
        faq_index=_faq_indexes(featurizer, content, base),
        info={"examples": len(base), "augmented": len(data), "features": featurizer.size,
              "params": params.__dict__},
    )
