"""The training data covers every label in the contract, enough times, in valid Rasa YAML."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from nlu.data import FINER, read_rasa_yaml
from nlu.rules import ASPECTS
from nlu.types import INTENTS


def test_every_label_is_canonical_finer_or_a_catalogue_service(content: Any) -> None:
    ids = {e["id"] for e in content.catalogue.entries}
    labels = {e.label for f in content.nlu_files for e in read_rasa_yaml(f)}
    allowed = (set(INTENTS) - {"service_howto"}) | {f"svc_{i}" for i in ids} | set(FINER)
    assert labels == allowed
    assert set(FINER.values()) <= set(INTENTS)


def test_every_label_has_at_least_fifteen_examples(content: Any) -> None:
    counts = Counter(e.label for f in content.nlu_files for e in read_rasa_yaml(f))
    assert min(counts.values()) >= 15


def test_every_label_has_ten_examples_in_the_citizens_style(content: Any) -> None:
    """Issue 11: written like citizens write (a situation, then the question; regional words;
    no diacritics in some), in the citizens_*.yml files."""
    files = [f for f in content.nlu_files if f.name.startswith("citizens_")]
    counts = Counter(e.label for f in files for e in read_rasa_yaml(f))
    thin = {lb: n for lb, n in counts.items() if n < 10}
    every = {e.label for f in content.nlu_files for e in read_rasa_yaml(f)}
    assert thin == {} and every <= set(counts)


def test_aspect_annotations_use_the_six_aspects(content: Any) -> None:
    aspects = {e.aspect for f in content.nlu_files for e in read_rasa_yaml(f)} - {None}
    assert aspects <= set(ASPECTS) and {"where", "documents", "fee"} <= aspects


def test_faq_examples_name_their_intent(content: Any) -> None:
    """``intent/faq-id`` examples train the intent whose topics hold that FAQ."""
    faq_examples = [e for f in content.nlu_files for e in read_rasa_yaml(f) if e.faq]
    assert faq_examples
    for e in faq_examples:
        found = content.faq(e.faq)
        assert found is not None, e.faq
        assert e.label == found[0].intent, (e.faq, e.label, e.text)


def test_no_training_example_rewords_a_real_citizens_question(content: Any) -> None:
    """tests/data/nlu_real.yml and the dev files bench/data/nlu_real_dev*.yml are never trained
    on: no training example shares ten word trigrams with one of their items."""
    from pathlib import Path

    import yaml

    from nlu.normalize import normalize

    def trigrams(text: str) -> set[tuple[str, str, str]]:
        w = normalize(text).split()
        return set(zip(w, w[1:], w[2:], strict=False))

    root = Path(__file__).resolve().parents[2]
    real = [trigrams(str(i["text"])) for name in ("tests/data/nlu_real.yml",
                                                   "bench/data/nlu_real_dev.yml",
                                                   "bench/data/nlu_real_dev2.yml")
            for i in yaml.safe_load((root / name).read_text(encoding="utf-8"))]
    # An index from each trigram to the real items holding it: counting the shared trigrams per
    # item touches only the items that share one (comparing every pair took ~10 CPU s).
    index: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for n, r in enumerate(real):
        for t in r:
            index[t].append(n)

    def rewords_one(text: str) -> bool:
        shared = Counter(n for t in trigrams(text) for n in index.get(t, ()))
        return any(c >= 10 for c in shared.values())

    close = [e.text for f in content.nlu_files for e in read_rasa_yaml(f)
             if rewords_one(e.text)]
    assert close == []
