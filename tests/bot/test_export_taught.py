"""``trolyso nlu export-taught DIR``: the examples editors taught, as Rasa YAML that the
training reads exactly as it reads them from the database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from core.db import make_engine, make_sessionmaker, upgrade
from core.models import TaughtExample
from nlu.data import read_rasa_yaml
from nlu.retrain import taught_example
from tests.conftest import ROOT


async def _seed(url: str) -> None:
    await upgrade(url)
    engine = make_engine(url)
    async with make_sessionmaker(engine)() as s, s.begin():
        for text, label, state, topic in [
                ("xe rác mấy giờ đến", "out_of_scope", "accepted", "t1"),
                ("quên pass vneid rồi", "vneid_account/vneid-quen-mat-khau", "accepted", None),
                ("làm hộ chiếu cho mẹ già", "svc_cap-ho-chieu", "accepted", None),
                ("lịch thu gom rác", "out_of_scope", "pending", "t1"),
                ("làm passport bao tiền", "svc_dang-ky-khai-tu", "refused", None)]:
            s.add(TaughtExample(text=text, label=label, state=state, topic=topic,
                                taught_by="console:a"))
    await engine.dispose()


def test_export_writes_what_the_serving_engine_learnt(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["content"]["dir"] = str(ROOT / "content")
    data["database_url"] = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    asyncio.run(_seed(data["database_url"]))
    out = tmp_path / "nlu"
    assert main(["--config", str(config), "nlu", "export-taught", str(out)]) == 0
    assert capsys.readouterr().out.splitlines() == ["3 examples", str(out / "taught.yml")]
    got = read_rasa_yaml(out / "taught.yml")
    want = [taught_example("quên pass vneid rồi", "vneid_account/vneid-quen-mat-khau"),
            taught_example("xe rác mấy giờ đến", "out_of_scope__t1"),  # its taught topic
            taught_example("làm hộ chiếu cho mẹ già", "svc_cap-ho-chieu")]
    assert sorted(got, key=lambda e: e.text) == sorted(want, key=lambda e: e.text)
    assert main(["--config", str(config), "nlu", "export-taught", str(out), "--pending"]) == 0
    assert len(read_rasa_yaml(out / "taught.yml")) == 4
