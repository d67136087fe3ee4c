"""The parse's fast paths read every message exactly as the plain code they replace.

Each shortcut (sentence ends, services named, TF-IDF weights, danger phrases looked up by
their first words) is checked against the straightforward version on every message of the
evaluation files and of the frozen danger pair, typed as written and without diacritics.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml

import nlu.danger as danger
from nlu.builtin import _TERM_OWNERS, _TERMS_RE, BuiltinEngine
from nlu.fastre import AnyMatch, also_needed, needles, top_alternatives
from nlu.features import Featurizer, raw_features
from nlu.normalize import _TOKEN_RE, fold, normalize, tokens
from nlu.rules import _FOLLOW_UP_RE, ASPECT_PATTERNS, register_free, sentences

ROOT = Path(__file__).resolve().parents[2]
FILES = ["tests/data/nlu_eval.yml", "tests/data/nlu_eval_hard.yml", "tests/data/nlu_real.yml",
         "bench/data/nlu_real_dev.yml", "tests/data/danger_now.yml",
         "tests/data/danger_calm.yml"]


def _texts() -> list[str]:
    out: list[str] = []
    for name in FILES:
        items = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))
        out += [str(it["text"]) for it in items]
    out += [fold(t) for t in out]
    # Long messages and odd spacing: several texts joined, with runs of marks and spaces.
    out += [" ..  ".join(out[i:i + 7]) + "!!  \n\n" for i in range(0, 700, 7)]
    return out


TEXTS = _texts()


def test_sentences_end_where_the_splitting_regex_cut() -> None:
    split = re.compile(r"(?<=[!?;\n])\s*|(?<=\.)(?<!\d\.)\s*|(?<=\d\.)(?!\d)\s*|(?<=[:…])\s+")
    for text in TEXTS:
        plain = [raw.strip() for raw in split.split(text)
                 if raw.strip() and register_free(normalize(raw.strip()))]
        assert [s.raw for s in sentences(text)] == plain, text


def test_services_named_are_those_the_terms_regex_finds() -> None:
    for text in TEXTS:
        for norm in (normalize(text), f"{normalize(text)}  x", ""):
            plain = {sid for m in _TERMS_RE.finditer(f" {norm} ")
                     for sid in _TERM_OWNERS[m.group(0)]}
            assert BuiltinEngine._mentions(norm) == plain, norm


def test_tfidf_weights_are_those_of_each_block_weighed_apart() -> None:
    norms = [normalize(t) for t in TEXTS]
    featurizer = Featurizer().fit(norms[::2])
    for norm in norms:
        # The plain way: count the message's word and character n-grams, weigh each block.
        counted_words, counted_chars = raw_features(norm)
        blocks = []
        for counted, vocab, weight in ((counted_words, featurizer.word_vocab,
                                        featurizer.word_weight),
                                       (counted_chars, featurizer.char_vocab, 1.0)):
            found = sorted((vocab[k], n) for k, n in counted.items() if k in vocab)
            if found:
                uniq = np.asarray([j for j, _ in found], dtype=np.int64)
                counts = np.asarray([n for _, n in found], dtype=np.int64)
                vals = (1.0 + np.log(counts)) * featurizer.idf[uniq]
                blocks.append((uniq, vals * (weight / np.sqrt(vals @ vals))))
        idx, val = featurizer.weigh(featurizer.ids(norm))
        if not blocks:
            assert idx.size == 0 and val.size == 0
            continue
        assert np.array_equal(idx, np.concatenate([b[0] for b in blocks]))
        assert np.array_equal(val, np.concatenate([b[1] for b in blocks]))  # bit for bit


def test_a_message_scored_with_its_question_scores_each_as_alone(engine: BuiltinEngine) -> None:
    for text in TEXTS[::25]:
        parts = [p.norm for p in sentences(text)]
        if len(parts) < 2:
            continue
        ids = [engine.featurizer.ids(p) for p in parts]
        whole, part = np.concatenate(ids), np.concatenate(ids[-1:])
        probs, idx, val, pq, pidx, pval = engine._scored_with_part(whole, part)
        alone, aidx, aval = engine._scored_ids(whole)
        q_alone, qidx, qval = engine._scored_ids(part)
        assert np.array_equal(idx, aidx) and np.array_equal(pidx, qidx)
        assert np.array_equal(val, aval) and np.array_equal(pval, qval)
        assert np.allclose(probs, alone, atol=1e-6) and np.allclose(pq, q_alone, atol=1e-6)


def test_required_strings_of_a_pattern() -> None:
    assert top_alternatives(r"a(b|c)d|[|(]x\|y|(?:e|f)g") == ["a(b|c)d", r"[|(]x\|y", "(?:e|f)g"]
    assert needles(r"\b(?:cho|noi) nao\b") == {" nao"}
    assert needles(r"(online|qua mang) (duoc )?(khong|ko)\b") == {"online", "qua mang"}
    assert needles(r"\btien\b.{0,30}bao nhieu") == {"bao nhieu"}
    assert needles(r"(?<=\s)ab(?=c)de") == {"abde"}
    assert needles(r"x+y?") is None and needles(r"(?i)thu tuc") is None
    assert needles(r"(?:ab)*cd|x") is None  # one alternative needs only "x": too short
    # Every requirement, not only the most telling: a match holds one string of each.
    assert set(also_needed(r"(online|qua mang) (duoc )?(the|nao)\b")) == {
        frozenset({"online", "qua mang"}), frozenset({"the", "nao"})}
    assert also_needed(r"(?i)thu tuc") == []


@pytest.mark.parametrize("rx", [p for _, p in ASPECT_PATTERNS] + [_FOLLOW_UP_RE],
                         ids=[n for n, _ in ASPECT_PATTERNS] + ["follow_up"])
def test_a_pattern_matches_where_its_quick_test_says(rx: re.Pattern[str]) -> None:
    quick = AnyMatch(rx)
    assert len(quick.parts) > 3 and all(need is not None for need, _ in quick.parts)
    norms = [normalize(t) for t in TEXTS]
    norms += [" ".join(norms[i:i + 9]) for i in range(0, len(norms), 9)]  # long messages
    hits = 0
    for norm in norms:
        found = rx.search(norm) is not None
        hits += found
        assert quick(norm) == found, norm
    assert 0 < hits < len(norms)


def test_a_message_is_emphatic_where_the_emphasis_regex_says() -> None:
    odd = ["cứuuuu", "CỨUUUU", "aAAA", "1111", "____", "xxx", "ooooo!", "\n\n\n\n", "ưưưư",
           "a" + "\u0301" * 4, "a\u0301a\u0301a\u0301a\u0301", "٣٣٣٣", "ⅫⅫⅫⅫ", "bbbbb cccc"]
    found = 0
    for text in TEXTS + odd + [t.upper() for t in odd]:
        plain = danger._EMPHASIS_RE.search(text) is not None
        found += plain
        assert danger._emphatic(text) == plain, text
    assert found > 5


def _every_word(s: str, table: danger._Table) -> Iterator[tuple[str, int, int]]:
    """Each pattern of the table tried at each word of s by its first word and word pair."""
    found = [(m.start(), m.group(0)) for m in re.finditer(r"[^ ]+", s)]
    for i, (pos, word) in enumerate(found):
        pair = f"{word} {found[i + 1][1]}" if i + 1 < len(found) else None
        for family, rx in (*table.get(word, ()), *(table.get(pair, ()) if pair else ())):
            m = rx.match(s, pos)
            if m is not None:
                yield family, m.start(), m.end()


@pytest.mark.parametrize("tables", ["_LOOKALIKE_TABLE", "_STRONG_TABLE", "_WEAK_TABLE"])
def test_danger_phrases_found_as_when_every_word_is_tried(tables: str) -> None:
    for text in TEXTS:
        s, _, mode = danger._words(text)
        table = getattr(danger, tables)[mode]
        fast = [(f, m.start(), m.end()) for f, m in danger._matches(s, table, danger._index(s))]
        assert fast == list(_every_word(s, table)), text


def _plain_words(text: str) -> tuple[str, list[int], int]:
    """``danger._words`` the plain way: token by token."""
    text = unicodedata.normalize("NFC", text).lower()
    if danger._SPELLED_HINT.search(text):
        text = danger._SPELLED_RE.sub(lambda m: re.sub(r"[.\-*_]", "", m.group(0)), text)
    found = danger._TOKEN_RE.findall(text)
    toks = [danger._TOKENS[t] for t in found]
    toks = [t for i, t in enumerate(toks) if t != "|" or i == 0 or toks[i - 1] != "|"]
    counted = [t for t in found if t[0] not in danger._END_MARKS and t != ","][:400]
    marked = len(counted) - sum(t.isascii() for t in counted)
    mode = danger.EXACT if len(counted) >= 3 and marked >= 0.3 * len(counted) else danger.LOOSE
    s = " ".join(["", *toks, ""])
    return s, [i for i, c in enumerate(s) if c == "|"], mode


ODD = ["", "!!!", ",,, a", "a , , b", "x..!!?? y. . . z", "a_b c__d _x_", "²³ ½ ٣", "Σ.Β",
       "c.h.á.y nhà!!!", "cứu\n\n\ncứu", " | | ", "ờ ờ ờ ờ ờ", "a\tb\xa0c\u2003d\r\ne",
       "  hai  dấu cách  ", "x-y/z (w) \"q\"", "😀cứu😀 ok👍"]


def test_the_danger_word_string_is_the_one_made_token_by_token() -> None:
    for text in TEXTS + ODD:
        assert danger._words(text) == _plain_words(text), text


def test_tokens_are_those_the_token_regex_finds_in_the_whole_text() -> None:
    for text in TEXTS + ODD:
        low = unicodedata.normalize("NFC", text).lower()
        assert tokens(text) == _TOKEN_RE.findall(low), text


def test_letter_questions_and_drills_found_where_the_joined_regex_finds_them() -> None:
    for text in TEXTS:
        s, _, mode = danger._words(text)
        words = danger._index(s)
        letter = danger._LETTER_QUESTION[mode].search(s)
        assert danger._first(s, danger._LETTER_QUESTION_TABLE[mode], words) == (
            letter.start() if letter is not None else -1), text
        drill = danger._DRILL_EVENT[mode].search(s) is not None
        assert (danger._first(s, danger._DRILL_EVENT_TABLE[mode], words) >= 0) == drill, text


def test_a_message_is_read_for_danger_once_and_the_reading_is_the_same(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The conversation checks a message for danger, then the parse reads it again.
    for text in TEXTS[:300]:
        assert danger.assess(text) == danger._assess(text) == danger.assess(text), text
    calls: list[str] = []
    plain = danger._assess
    monkeypatch.setattr(danger, "_assess", lambda t: calls.append(t) or plain(t))
    text = "nhà bên cạnh đang cháy to, cứu với, tôi cũng muốn hỏi làm hộ chiếu"
    first = danger.assess(text)
    again = danger.assess(text)
    assert first is again and first.level == "now" and calls == [text]
    for k in range(danger._RECENT_MAX + 5):  # old messages are forgotten, a few are kept
        danger.assess(f"tin nhắn số {k}")
    assert len(danger._RECENT) <= danger._RECENT_MAX and text not in danger._RECENT
    assert danger.assess(text) == first and calls.count(text) == 2
