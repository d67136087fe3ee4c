"""The retrain gate: figures per evaluation file, and the refusal rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from nlu.builtin import BuiltinEngine
from nlu.gate import DANGER_CALM, DANGER_NOW, EvalSpec, compare, eval_texts, same_text, score
from nlu.live import LiveEngine
from nlu.retrain import taught_example

ROOT = Path(__file__).resolve().parents[2]


def report(intent: float = 0.98, service: float = 0.99, caught: int = 10,
           alarms: int = 0) -> dict[str, dict[str, Any]]:
    return {"nlu_eval.yml": {"n": 400, "intent": intent, "service": service, "top3": 1.0},
            DANGER_NOW: {"n": 10, "caught": caught}, DANGER_CALM: {"n": 200, "alarms": alarms}}


def test_a_drop_of_half_a_point_passes_and_more_is_refused() -> None:
    assert compare(report(), report(intent=0.975), 0.5) == []
    found = compare(report(), report(intent=0.9749, service=0.98), 0.5)
    assert [(f.file, f.metric) for f in found] == [("nlu_eval.yml", "intent"),
                                                    ("nlu_eval.yml", "service")]
    assert found[0].before == 0.98 and found[0].after == 0.9749


def test_one_danger_message_missed_is_refused() -> None:
    [finding] = compare(report(), report(caught=9), 0.5)
    assert (finding.file, finding.metric, finding.after) == (DANGER_NOW, "danger_missed", 9)


def test_more_false_alarms_than_the_margin_are_refused() -> None:
    assert compare(report(), report(alarms=1), 0.5) == []  # 1 of 200: 0.5 point
    [finding] = compare(report(), report(alarms=2), 0.5)
    assert finding.metric == "false_alarms"


def test_a_file_missing_from_the_candidate_report_is_refused() -> None:
    after = report()
    del after["nlu_eval.yml"]
    assert [f.metric for f in compare(report(), after, 0.5)] == ["missing"]


def test_the_spec_expands_globs_and_skips_missing_danger_files(tmp_path: Path) -> None:
    spec = EvalSpec.resolve(ROOT, ["tests/data/nlu_eval*.yml"], "tests/data/danger_now.yml",
                            "tests/data/nope.yml")
    assert [p.name for p in spec.files] == ["nlu_eval.yml", "nlu_eval_hard.yml"]
    assert spec.danger_now is not None and spec.danger_calm is None


def test_evaluation_texts_match_whatever_the_case_diacritics_and_spacing(
        tmp_path: Path) -> None:
    f = tmp_path / "e.yml"
    f.write_text(yaml.safe_dump([{"text": "Làm hộ chiếu ở đâu", "intent": "service_howto"}],
                                allow_unicode=True), encoding="utf-8")
    texts = eval_texts(EvalSpec((f,)))
    assert same_text("lam  ho chieu o DAU") in texts
    assert same_text("làm hộ chiếu ở đâu vậy") not in texts


def test_scores_name_every_file_and_the_danger_pair(engine: BuiltinEngine,
                                                    tmp_path: Path) -> None:
    f = tmp_path / "e.yml"
    f.write_text(yaml.safe_dump([
        {"text": "làm hộ chiếu hết bao nhiêu tiền", "intent": "service_howto",
         "service": "cap-ho-chieu"},
        {"text": "xin chào", "intent": "greet"}], allow_unicode=True), encoding="utf-8")
    now = tmp_path / "now.yml"
    now.write_text(yaml.safe_dump([{"text": "cứu với nhà tôi đang cháy"}], allow_unicode=True),
                   encoding="utf-8")
    calm = tmp_path / "calm.yml"
    calm.write_text(yaml.safe_dump([{"text": "thủ tục sáp nhập xã thế nào"}],
                                   allow_unicode=True), encoding="utf-8")
    got = score(engine.parse, EvalSpec((f,), now, calm))
    assert got["e.yml"] == {"n": 2, "intent": 1.0, "service": 1.0, "top3": 1.0}
    assert got[DANGER_NOW]["caught"] == 1 and got[DANGER_CALM]["alarms"] == 0


def test_a_taught_faq_label_trains_its_intent_and_ranks_the_entry() -> None:
    e = taught_example("quên pass vneid", "vneid_account/vneid-quen-mat-khau")
    assert (e.label, e.faq, e.source) == ("vneid_account", "vneid-quen-mat-khau", "nlu")
    assert taught_example("rác", "out_of_scope").faq is None


def test_the_live_engine_swaps_between_messages(engine: BuiltinEngine) -> None:
    live = LiveEngine(engine)
    before = live.current
    other = engine.with_thresholds(engine.thresholds)
    live.swap(other, 3, "k")
    assert before is engine and live.current is other and (live.version, live.key) == (3, "k")
    assert live.parse("làm hộ chiếu").service == "cap-ho-chieu"
    assert live.featurizer is other.featurizer  # other attributes are the serving engine's


async def test_a_cancelled_retrain_ends_its_child_at_once(content: Any, tmp_path: Path) -> None:
    """A process stopping mid-retrain (its retrainer task cancelled) does not wait for the
    child to train and evaluate a candidate nobody will use."""
    import asyncio
    import contextlib
    import time

    import psutil

    from nlu.builtin import default_thresholds
    from nlu.retrain import Job, run_in_child

    job = Job(content=content, taught=[], thresholds=default_thresholds(), spec=EvalSpec(),
              out_dir=tmp_path)  # an empty cache: the child trains (~13 CPU s)
    def workers() -> list[psutil.Process]:  # not multiprocessing's resource tracker
        out = []
        for c in psutil.Process().children():
            with contextlib.suppress(psutil.Error):
                if "resource_tracker" not in " ".join(c.cmdline()):
                    out.append(c)
        return out

    task = asyncio.create_task(run_in_child(job))
    for _ in range(200):  # until the child runs
        if workers():
            break
        await asyncio.sleep(0.05)
    children = workers()
    assert children and not task.done()
    started = time.monotonic()
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    assert time.monotonic() - started < 3
    assert not any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children)
    assert not list(tmp_path.glob("*.pkl"))  # nothing trained
