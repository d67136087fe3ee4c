"""``trolyso nlu parse|eval|export-rasa`` and the trained-engine cache."""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import main
from core.config import NluSettings
from nlu import build_builtin

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config(tmp_path: Path, nlu_cache: Path) -> Path:
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["content"]["dir"] = str(ROOT / "content")
    data["nlu"]["cache_dir"] = str(nlu_cache)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def small_content(content: Any) -> Any:
    """content/ with two of its training files (general: every intent; services_ho_tich: the
    civil-status services, 'báo tử' among them): the same training path and cache in a child
    process, on ~850 examples instead of ~4,000 (~4 CPU s instead of ~15)."""
    keep = {"general", "services_ho_tich"}
    files = [f for f in content.nlu_files if f.stem in keep]
    assert {f.stem for f in files} == keep, "a training file of the small content moved"
    return dataclasses.replace(content, nlu_files=files)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_parse_json(config: Path, engine: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, "--config", str(config), "nlu", "parse", "lamf hoj chieeus",
                     "--json")
    data = json.loads(out)
    assert code == 0
    assert (data["intent"], data["service"], data["label"]) == (
        "service_howto", "cap-ho-chieu", "svc_cap-ho-chieu")
    assert data["decision"] in ("answer", "suggest", "handover")


def test_parse_with_the_current_service_reads_a_follow_up(
        config: Path, engine: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, "--config", str(config), "nlu", "parse", "con phai den dau lam",
                     "--service", "dang-ky-tam-tru", "--json")
    data = json.loads(out)
    assert code == 0
    assert (data["intent"], data["service"], data["aspect"]) == (
        "service_howto", "dang-ky-tam-tru", "where")


def test_eval_json_scores_a_file(config: Path, engine: Any, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    items = [
        {"text": "làm hộ chiếu", "intent": "service_howto", "service": "cap-ho-chieu"},
        {"text": "cháy nhà rồi", "intent": "emergency"},
        {"text": "giá vàng hôm nay", "intent": "greet"},  # deliberately wrong
    ]
    f = tmp_path / "eval.yml"
    f.write_text(yaml.safe_dump(items, allow_unicode=True), encoding="utf-8")
    code, out = _run(capsys, "--config", str(config), "nlu", "eval", str(f), "--json")
    data = json.loads(out)
    assert code == 0
    assert set(data) == {"n", "intent_accuracy", "service_accuracy", "service_top3", "p50_ms",
                         "p99_ms", "errors"}
    assert (data["n"], data["intent_accuracy"], data["service_accuracy"]) == (3, 0.6667, 1.0)
    assert [e["text"] for e in data["errors"]] == ["giá vàng hôm nay"]


def test_eval_of_a_missing_file_fails_naming_it(config: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--config", str(config), "nlu", "eval", str(tmp_path / "nope.yml")])
    assert code != 0 and "nope.yml" in capsys.readouterr().err


def test_export_rasa_writes_a_project(config: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, "--config", str(config), "nlu", "export-rasa",
                     str(tmp_path / "rasa"))
    written = out.split()
    assert code == 0 and [Path(p).name for p in written] == ["config.yml", "domain.yml",
                                                             "nlu.yml"]
    nlu = yaml.safe_load(Path(written[2]).read_text(encoding="utf-8"))
    domain = yaml.safe_load(Path(written[1]).read_text(encoding="utf-8"))
    assert {b["intent"] for b in nlu["nlu"]} == set(domain["intents"])
    assert "svc_cap-ho-chieu" in domain["intents"] and "aspect" in domain["entities"]
    assert any("(aspect:fee)" in b["examples"] for b in nlu["nlu"])


def test_a_trained_engine_is_loaded_from_the_cache(content: Any, tmp_path: Path,
                                                   trained_nlu_file: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    """The engine the session trained, in a folder of its own (writing the cache is tested
    below: training here again cost ~13 CPU s)."""
    shutil.copy2(trained_nlu_file, tmp_path / trained_nlu_file.name)
    with caplog.at_level(logging.INFO, logger="nlu"):
        again = build_builtin(NluSettings(), content, tmp_path)
    assert any("loaded the trained engine" in r.getMessage() for r in caplog.records)
    assert again.parse("báo tử").service == "dang-ky-khai-tu"
    assert len(list(tmp_path.glob("nlu-*.pkl"))) == 1


@pytest.mark.slow  # trains the engine
def test_training_runs_in_a_child_process_and_the_parent_loads_its_cache(
        small_content: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The parent never trains itself (its heap would keep training's scratch memory)."""
    import nlu as nlu_pkg

    with caplog.at_level(logging.INFO, logger="nlu"), \
            pytest.MonkeyPatch.context() as mp:
        mp.setattr(nlu_pkg, "train", lambda *a, **k: pytest.fail("trained in the parent"))
        engine = build_builtin(NluSettings(), small_content, tmp_path)
    messages = [r.getMessage() for r in caplog.records]
    assert any("(child process)" in m for m in messages)
    assert any("loaded the trained engine" in m for m in messages)
    assert engine.parse("báo tử").service == "dang-ky-khai-tu"


@pytest.mark.slow  # trains the engine
def test_when_the_child_cannot_run_the_parent_trains(small_content: Any, tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    import nlu as nlu_pkg

    class NoProcesses:
        def __init__(self, *a: Any, **k: Any) -> None:
            raise OSError("no processes here")

    with caplog.at_level(logging.INFO, logger="nlu"), \
            pytest.MonkeyPatch.context() as mp:
        mp.setattr(nlu_pkg, "ProcessPoolExecutor", NoProcesses)
        engine = build_builtin(NluSettings(), small_content, tmp_path)
    assert any("training here" in r.getMessage() for r in caplog.records)
    assert engine.parse("báo tử").service == "dang-ky-khai-tu"
    assert len(list(tmp_path.glob("nlu-*.pkl"))) == 1


def test_config_thresholds_override_the_calibrated_ones(content: Any, nlu_cache: Path) -> None:
    strict = build_builtin(NluSettings(answer_threshold=1.0, suggest_threshold=1.0), content,
                           nlu_cache)
    assert strict.parse("làm hộ chiếu").decision == "handover"
