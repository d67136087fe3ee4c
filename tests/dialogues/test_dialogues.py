"""Scripted conversations (``*.yml`` here) against the web API with the real trained engine.

Every conversation runs on one aiohttp server (real ``POST /api/chat``, SQLite, the engine
trained once for the module) under its own session id; one with ``channel: telegram`` (team
members: the web chat never carries team rights) talks to the assistant as Telegram messages.
Each turn either types (``say``) or taps a button shown in the previous turn (``tap``), and
``expect`` states what the citizen must get. Expectations are checked against data, never
against hand-copied wording: service facts against ``trolyso content export --json``, FAQ
answers and interface texts against the loaded content, and buttons by their payloads.

``expect`` keys (all given keys are checked):

- ``service``: the answer is about this service (its name from the export is in the text);
  with ``aspect`` (steps, documents, fee, duration, eligibility, where) the aspect's own text
  from the export is there and the feedback button names that service and aspect; without it,
  the service card (summary and the walkthrough button).
- ``step``: step N of the walkthrough of ``service`` (that step's text; the next button).
- ``summary``: the summary after the last step of ``service``.
- ``range``: the "choose from 1 to N" reply, N options; the earlier buttons still work.
- ``emergency``: the first reply is the emergency reply (``first_number``: its first number).
- ``no_emergency``: no reply carries the emergency numbers first. ``soft``: the last reply is
  the short line of numbers.
- ``too_long``: a reply says the length limit.
- ``faq``: the answer to this FAQ id; ``disclaimer``: its topic's disclaimer is / is not shown.
- ``outside``: the "not among the 53" reply (portal link, no walkthrough); ``near``: service ids
  offered as buttons.
- ``identity`` / ``insult`` / ``menu`` / ``greeting`` / ``ask_ward``: those replies
  (``identity: false``: not the "who I am" reply).
- ``no_service``: the answer is not about this service; ``no_faq``: no reply is this FAQ's
  answer.
- ``ack`` / ``thanks``: the short polite reply to "ok", "không cần nữa" when nothing was
  asked / to a thank-you.
- ``more``: the rest of this FAQ's answer ("Xem thêm"); ``topic_menu``: this FAQ topic's
  questions.
- ``guess``: the "not sure" reply (guesses or the way to a person); ``first_offer``: the
  payload of its first button; ``which_service``: "which service's <aspect>?" after
  guesses, the aspect of each guess as a button.
- ``ward``: the first reply shows this ward's offices (area code) before the hotlines.
- ``aid``: a legal-aid question number (1-based), or ``financial``, ``eligible``, ``not_eligible``.
- ``offers``: payloads that must be among the buttons (``not_offered``: must not be);
  ``second``: a second topic offered; ``two_topics``: one of the two services answered, the
  other offered as a button.
- ``picker``: the notice flow's area picker is shown.
- ``link``: a button opens this address.
- ``which_paper``: "which paper?" with these services among the buttons, no walkthrough.
- ``not_covered``: [FAQ id, aspect]: "that answer does not say <aspect>", the answer and a
  person one tap away.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import yaml
from aiohttp import web

from bot.app import App, build_app, load_nlu
from bot.channels.web import reply_json
from bot.cli import main
from bot.web import make_web_app
from broadcast import teams
from broadcast.types import Actor
from flows.content import ANSWER_LIMIT, Content, load_content
from flows.faq import disclaimer_of
from flows.types import Incoming
from tests.conftest import ROOT, settings_for

HERE = Path(__file__).resolve().parent


def _load() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in sorted(HERE.glob("*.yml")):
        items = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        for i, item in enumerate(items):
            item.setdefault("name", f"{path.stem} {i + 1}")
            item["_id"] = f"{path.stem}-{i + 1:02d}"
            out.append(item)
    return out


DIALOGUES = _load()


def _params() -> list[Any]:
    out = []
    for d in DIALOGUES:
        marks = []
        if d.get("xfail"):
            marks.append(pytest.mark.xfail(strict=True, reason=str(d["xfail"])))
        out.append(pytest.param(d, id=d["_id"], marks=marks))
    return out


@dataclass
class Chat:
    base: str
    app: App
    content: Content
    export: dict[str, dict[str, Any]]
    http: aiohttp.ClientSession


def _content_export() -> str:
    """``trolyso content export --json`` as the shipped config gives it, through the CLI's
    main() in this process (an interpreter start cost ~1.5 CPU s)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["--config", str(ROOT / "config.yaml"), "content", "export", "--json"])
    assert status == 0
    return out.getvalue()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def chat(tmp_path_factory: pytest.TempPathFactory,
               trained_nlu_cache: Path) -> AsyncIterator[Chat]:
    tmp = tmp_path_factory.mktemp("dialogues")
    settings = settings_for(f"sqlite+aiosqlite:///{tmp / 'dialogues.db'}", tmp)
    engine = load_nlu(settings, load_content(settings.path(settings.content.dir)))
    app = await build_app(settings, nlu=engine)
    exported = _content_export()
    runner = web.AppRunner(make_web_app(app))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as http:
        yield Chat(f"http://127.0.0.1:{port}", app, app.content,
                   {s["id"]: s for s in json.loads(exported)}, http)
    await runner.cleanup()
    await app.close()


def test_there_are_at_least_sixty_conversations() -> None:
    assert len(DIALOGUES) >= 60
    assert len({d["name"] for d in DIALOGUES}) == len(DIALOGUES)  # names say what each tests


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("dialogue", _params())
async def test_dialogue(chat: Chat, dialogue: dict[str, Any]) -> None:
    session = "dlg-" + dialogue["_id"]
    # Team members are on a channel with accounts (the web chat is anyone's session).
    channel = str(dialogue.get("channel", "web"))
    assert channel == "telegram" or not any("team_member" in t for t in dialogue["turns"]), \
        f"{dialogue['name']!r}: team members are on Telegram (channel: telegram)"
    shown: list[str] = []
    for n, turn in enumerate(dialogue["turns"], 1):
        where = f"{dialogue['name']!r}, turn {n}"
        assert turn.get("expect"), f"{where}: every turn states what the citizen must get"
        if "team_member" in turn:
            code = await _invite(chat.app, str(turn["team_member"]))
            turn = {**turn, "say": f"/thamgia {code}"}
        if "tap" in turn:
            payload = str(turn["tap"])
            assert payload in shown, f"{where}: {payload} was not among the buttons {shown}"
            replies = await _send(chat, channel, {"session": session, "button": payload})
        else:
            replies = await _send(chat, channel, {"session": session, "text": _text(turn)})
        _check(chat, turn.get("expect") or {}, replies, shown, where)
        shown = [b["payload"] for r in replies for b in r["buttons"] if b.get("payload")]


def _text(turn: dict[str, Any]) -> str:
    if "say" in turn:
        return str(turn["say"])
    long = turn["say_long"]
    return str(long["story"]) * int(long["times"]) + str(long.get("then", ""))


async def _send(chat: Chat, channel: str, body: dict[str, str]) -> list[dict[str, Any]]:
    """One turn: over the web API, or straight to the assistant as a Telegram message."""
    if channel == "web":
        return await _post(chat, body)
    msg = (Incoming(channel, body["session"], button=body["button"], kind="button")
           if "button" in body else Incoming(channel, body["session"], text=body["text"]))
    replies = [reply_json(r) for r in await chat.app.handle(msg) or []]
    assert replies, f"no reply to {body}"
    return replies


async def _post(chat: Chat, body: dict[str, str]) -> list[dict[str, Any]]:
    async with chat.http.post(f"{chat.base}/api/chat", json=body) as r:
        assert r.status == 200, await r.text()
        data: dict[str, Any] = await r.json()
    replies: list[dict[str, Any]] = data["replies"]
    assert replies, f"no reply to {body}"
    return replies


async def _invite(app: App, area: str) -> str:
    async with app.sessionmaker() as s, s.begin():
        return await teams.create_invite(s, app.settings, Actor.cli("dialogues"), "member",
                                         [area])


# ---------------------------------------------------------------------------- checks


def _payloads(replies: list[dict[str, Any]]) -> list[str]:
    return [b["payload"] for r in replies for b in r["buttons"] if b.get("payload")]


def _answer(replies: list[dict[str, Any]]) -> dict[str, Any]:
    """The reply that answers (after the emergency reply, when one comes first)."""
    rest = [r for r in replies if r["kind"] not in ("emergency",)]
    return rest[0] if rest else replies[0]


def _aspect_text(svc: dict[str, Any], aspect: str) -> str:
    """A piece of the aspect's own text in the export that the answer must contain."""
    if aspect in ("steps", "documents"):
        value = svc[aspect][0]
    elif aspect == "where":
        w = svc["where"][0]
        value = w["url"] or w["path"]
    else:
        value = svc[aspect].split("\n")[0]
    return str(value)[:60]


def _check(chat: Chat, exp: dict[str, Any], replies: list[dict[str, Any]],
           before: list[str], where: str) -> None:
    content = chat.content
    texts = [r["text"] for r in replies]
    payloads = _payloads(replies)
    answer = _answer(replies)
    ctx = f"{where}: got {texts!r} {payloads!r}"

    if "emergency" in exp:
        is_emergency = replies[0]["kind"] == "emergency"
        assert is_emergency == bool(exp["emergency"]), ctx
        if exp.get("first_number"):
            assert replies[0]["numbers"][0] == str(exp["first_number"]), ctx
    if exp.get("no_emergency"):
        assert replies[0]["kind"] != "emergency", ctx
    if "soft" in exp:
        soft = content.text("emergency.soft")
        assert (replies[-1]["text"] == soft) == bool(exp["soft"]), ctx
        if exp["soft"]:
            assert len(replies) >= 2 and replies[-1]["numbers"], ctx  # after an answer
    if exp.get("too_long"):
        limit = str(chat.app.settings.web.max_text_chars)
        assert any(limit in t and r["kind"] != "emergency" for r, t in zip(replies, texts,
                                                                            strict=True)), ctx

    sid = exp.get("service")
    if sid is not None:
        svc = chat.export[sid]
        assert svc["name"] in answer["text"], ctx
        if "step" in exp:
            i = int(exp["step"])
            assert svc["steps"][i - 1][:60] in answer["text"], ctx
            assert f"st:{sid}:{i}" in payloads, ctx  # the next (or "done") button
        elif exp.get("summary"):
            assert answer["text"].startswith(content.text("services.summary", name=svc["name"]))
        elif "aspect" in exp:
            aspect = exp["aspect"]
            assert _aspect_text(svc, aspect) in answer["text"], ctx
            assert f"f:+:a:{sid}:{aspect}" in payloads, ctx
        else:
            assert svc["summary"][:60] in answer["text"], ctx
            assert f"st:{sid}:0" in payloads, ctx
    if "range" in exp:
        n = int(exp["range"])
        assert texts == [content.text("choice.range", n=n)], ctx
    if "faq" in exp:
        found = content.faq(str(exp["faq"]))
        assert found is not None, f"{where}: unknown FAQ {exp['faq']}"
        topic, entry = found
        assert answer["text"].startswith(f"❓ {entry.question}"), ctx
        assert f"f:+:q:{entry.id}" in payloads, ctx
        note = disclaimer_of(content, topic)
        if "disclaimer" in exp:
            assert note, f"{where}: the topic {topic.topic} has no disclaimer"
            assert (note in answer["text"]) == bool(exp["disclaimer"]), ctx
        if exp.get("short"):
            # The key point before "Xem thêm": what is left after the question line, the
            # once-per-conversation notes and the sources line.
            notes = {note, content.text("faq.unconfirmed")}
            body = [p for p in answer["text"].split("\n\n")[1:]
                    if p not in notes and not p.startswith(content.text("sources.prefix"))]
            assert len("\n\n".join(body)) <= ANSWER_LIMIT, ctx
            assert len(entry.answer) <= ANSWER_LIMIT or f"qm:{entry.id}" in payloads, ctx
    if exp.get("outside"):
        assert answer["text"].startswith(content.text("outside.procedure")), ctx
        assert any(b.get("url") == "https://dichvucong.gov.vn" for b in answer["buttons"]), ctx
        assert not any(p.startswith("st:") for p in payloads), ctx
        for near in exp.get("near", []):
            assert f"s:{near}" in payloads, ctx
    for key in ("identity", "insult"):
        if exp.get(key):
            assert answer["text"] == content.text(key) and "hu" in payloads, ctx
        elif key in exp:
            assert answer["text"] != content.text(key), ctx
    if "no_service" in exp:
        svc = chat.export[str(exp["no_service"])]
        assert svc["name"] not in answer["text"], ctx
    if "no_faq" in exp:
        found = content.faq(str(exp["no_faq"]))
        assert found is not None, f"{where}: unknown FAQ {exp['no_faq']}"
        assert not any(found[1].question in t for t in texts), ctx
    for key in ("ack", "thanks"):
        if exp.get(key):
            assert texts == [content.text(key)], ctx
    if "more" in exp:
        found = content.faq(str(exp["more"]))
        assert found is not None, f"{where}: unknown FAQ {exp['more']}"
        title = content.text("more.title", title=f"❓ {found[1].question}")
        assert answer["text"].startswith(title), ctx
    if "topic_menu" in exp:
        topic = content.faqs[str(exp["topic_menu"])]
        assert answer["text"].startswith(topic.title) and answer["kind"] == "menu", ctx
        assert any(p.startswith(("q:", "c:")) for p in payloads), ctx
    if exp.get("guess"):
        assert answer["text"] in (content.text("fallback.suggest"),
                                  content.text("fallback.handover")), ctx
    if "which_service" in exp:
        aspect = content.text(f"aspect.{exp['which_service']}").lower()
        assert answer["text"] == content.text("fallback.which_service", aspect=aspect), ctx
    if "which_paper" in exp:
        assert answer["text"] == content.text("fallback.which_paper"), ctx
        assert not any(p.startswith("st:") for p in payloads), ctx
        for sid in exp["which_paper"]:
            assert f"s:{sid}" in payloads, ctx
    if "not_covered" in exp:
        faq_id, aspect = exp["not_covered"]
        found = content.faq(faq_id)
        assert found is not None, f"{where}: unknown FAQ {faq_id}"
        head = content.text("thread.not_covered", aspect=content.text(f"aspect.{aspect}").lower(),
                            question="\x00").split("\x00")[0]
        assert answer["text"].startswith(head), ctx
        assert f"q:{faq_id}" in payloads and "hu" in payloads, ctx
    if "first_offer" in exp:
        assert answer["buttons"][0].get("payload") == str(exp["first_offer"]), ctx
    if exp.get("out_of_scope"):
        assert answer["text"] == content.text("out_of_scope"), ctx
    if exp.get("menu"):
        assert texts[0] == content.text("menu.title") and "svc" in payloads, ctx
    if exp.get("greeting"):
        assert texts[0] == content.text("greeting") and "svc" in payloads, ctx
    if exp.get("ask_ward"):
        assert answer["text"] == content.text("ward.ask"), ctx
    if "ward" in exp:
        assert content.locality is not None
        area = next(a for a in content.locality.areas if a.code == str(exp["ward"]))
        first = answer["text"]
        assert first.startswith(content.text("contact.ward", ward=area.name)), ctx
        assert area.one_stop is not None and area.one_stop.name in first, ctx
    if "aid" in exp:
        step = exp["aid"]
        check = content.legal_aid
        assert check is not None
        if step == "financial":
            assert answer["text"].startswith(check.financial_question), ctx
        elif step in ("eligible", "not_eligible", "maybe"):
            assert answer["text"].startswith(getattr(check, step)), ctx
        else:
            assert f"la:{int(step) - 1}:y" in payloads, ctx
    for p in exp.get("offers", []):
        assert p in payloads, ctx
    for p in exp.get("not_offered", []):
        assert p not in payloads, ctx
    if "two_topics" in exp:
        # One is answered, the other offered as a button after the answer (which one comes
        # first is the understanding engine's reading of the message).
        a, b = (str(x) for x in exp["two_topics"])
        about = a if chat.export[a]["name"] in answer["text"] else b
        other = b if about == a else a
        assert chat.export[about]["name"] in answer["text"], ctx
        assert content.text("topic.second") in texts, ctx
        offer = replies[texts.index(content.text("topic.second"))]
        assert [x["payload"] for x in offer["buttons"]] == [f"s:{other}"], ctx
    if "second" in exp:
        assert any(t == content.text("topic.second") for t in texts), ctx
        assert str(exp["second"]) in payloads, ctx
    if exp.get("picker"):
        assert content.text("nb.pick_areas") in texts, ctx
    if "link" in exp:
        assert any(b.get("url") == exp["link"] for r in replies for b in r["buttons"]), ctx
    if exp.get("keeps_buttons"):
        assert before, ctx
