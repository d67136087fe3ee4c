"""A topic taught under a catch-all answer is a class of its own, added to the trained engine:
what the engine answered before stays as it was, and the topic's questions get the catch-all
label."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nlu.builtin import BuiltinEngine
from nlu.data import load_eval, split_label, training_examples
from nlu.retrain import taught_example, training_label
from nlu.topics import add_topics, split_topics

ROOT = Path(__file__).resolve().parents[2]
TAUGHT = ["lịch thu gom rác của phường", "mấy giờ xe rác đến", "tiền rác mỗi tháng bao nhiêu",
          "xe rác bỏ sót nhà tôi", "đóng tiền rác ở đâu", "phân loại rác thế nào",
          "chủ nhật có thu rác không", "rác cồng kềnh bỏ ở đâu", "thu gom rác ngày lễ",
          "túi phân loại rác mua ở đâu"]


def test_a_topic_label_trains_apart_and_answers_as_its_catch_all() -> None:
    label = training_label("out_of_scope", "t7")
    assert label == "out_of_scope__t7" and split_label(label) == ("out_of_scope", None)
    assert training_label("svc_cap-ho-chieu", "t7") == "svc_cap-ho-chieu"  # not a catch-all
    plain, topics = split_topics([taught_example("a", label),
                                  taught_example("b", "svc_cap-ho-chieu")])
    assert [e.label for e in plain] == ["svc_cap-ho-chieu"]
    assert [e.label for e in topics] == [label]


def test_adding_a_topic_moves_no_existing_answer(engine: BuiltinEngine, content: Any) -> None:
    base = training_examples(content.nlu_files, content)
    taught = add_topics(engine, base, [taught_example(t, "other_procedure__t1")
                                       for t in TAUGHT])
    assert taught.labels == [*engine.labels, "other_procedure__t1"]
    moved = []
    for item in load_eval(ROOT / "tests/data/nlu_eval.yml"):
        before, after = engine.parse(item["text"]), taught.parse(item["text"])
        if (after.intent, after.service) != (before.intent, before.service) \
                and after.label != "other_procedure":
            moved.append(item["text"])  # changed, and not to the new topic
    assert moved == []
    got = [taught.parse(t) for t in ("xe rác mấy giờ thì qua", "tháng này đóng tiền rác chưa")]
    assert [(p.intent, p.label) for p in got] == [("out_of_scope", "other_procedure")] * 2
