"""The training data covers every label in the contract, enough times, in valid Rasa YAML."""

from __future__ import annotations

from collections import Counter
from typing import Any

from nlu.data import read_rasa_yaml
from nlu.types import INTENTS


def test_every_label_is_canonical_or_a_catalogue_service(content: Any) -> None:
    ids = {e["id"] for e in content.catalogue.entries}
    labels = {e.label for f in content.nlu_files for e in read_rasa_yaml(f)}
    allowed = (set(INTENTS) - {"service_howto"}) | {f"svc_{i}" for i in ids}
    assert labels == allowed


def test_every_label_has_at_least_fifteen_examples(content: Any) -> None:
    counts = Counter(e.label for f in content.nlu_files for e in read_rasa_yaml(f))
    assert min(counts.values()) >= 15


def test_aspect_annotations_use_the_five_aspects(content: Any) -> None:
    aspects = {e.aspect for f in content.nlu_files for e in read_rasa_yaml(f)} - {None}
    assert aspects == {"steps", "documents", "fee", "duration", "eligibility"}
