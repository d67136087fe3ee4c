"""Learning from what citizens ask (role editor): the inbox of unanswered and doubtful
questions, teaching a label to a question or a whole group, and the retrains with their
figures before and after.

The domain work is in ``console.inbox`` and ``console.teaching``; this module turns forms into
calls and results into pages.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from broadcast import audit
from console import inbox, teaching
from console.ports import Live
from console.routing import Ctx, NavItem, Route, ctx
from flows.privacy import mask_for_training

__all__ = ["EDITORS", "NAV", "RETRAINER", "live_of", "routes"]

#: Who works on what the assistant says: content editors, and admins.
EDITORS = frozenset({"editor", "admin"})

NAV = [NavItem("Câu hỏi chưa trả lời", "/console/inbox", EDITORS, 30),
       NavItem("Huấn luyện", "/console/learning", EDITORS, 31)]

RETRAINER: web.AppKey[teaching.Retrainer] = web.AppKey("console_retrainer", teaching.Retrainer)

#: Groups shown on the inbox page, and questions shown per group (the rest are counted).
MAX_GROUPS = 60
MAX_SHOWN = 40

KIND = {"suggest": "Chỉ gợi ý", "handover": "Chuyển người", "out_of_scope": "Ngoài phạm vi",
        "down": "👎 Chê câu trả lời"}
STATE = {"queued": "Chờ huấn luyện", "training": "Đang huấn luyện", "accepted": "Đã dùng",
         "refused": "Không dùng: làm kết quả kiểm tra kém đi", "failed": "Lỗi",
         "merged": "Gộp vào lần sau", "pending": "Chờ huấn luyện", "removing": "Đang bỏ",
         "evaltext": "Trùng câu kiểm tra: không dùng"}
METRIC = {"intent": "độ đúng ý định", "service": "độ đúng dịch vụ",
          "danger_missed": "tin nguy hiểm nhận ra được", "false_alarms": "báo động nhầm",
          "missing": "không chấm được", "timeout": "chạy quá lâu, đã dừng",
          "error": "lỗi khi huấn luyện", "no_eval_files": "không có tệp kiểm tra",
          "merged": "gộp vào lần huấn luyện khác"}
OK = {"taught": "Đã lưu câu mẫu. Trợ lý đang học lại; kết quả hiện ở đây sau ít phút.",
      "dismissed": "Đã bỏ qua các câu này.", "queued": "Đã yêu cầu huấn luyện lại.",
      "removed": "Đã bỏ câu mẫu.", "retry": "Đã đưa các câu bị từ chối vào lần huấn luyện sau."}


def live_of(c: Ctx) -> Live:
    live = c.deps.live
    if live is None:
        raise web.HTTPServiceUnavailable(text="the assistant is not attached to this console")
    return live


def _nudge(request: web.Request) -> None:
    retrainer = request.app.get(RETRAINER)
    if retrainer is not None:
        retrainer.nudge()


def _places(c: Ctx) -> list[str]:
    return [a.name for a in c.settings.areas]


# ---------------------------------------------------------------------------- inbox

async def inbox_page(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    live = live_of(c)
    content = live.content
    by = "guess" if request.query.get("by") == "guess" else "similar"
    async with c.tx() as s:
        found = await inbox.items(s, limit=c.settings.learning.inbox_max)
    if by == "guess":
        groups = inbox.by_guess(found)
    else:
        space = await asyncio.to_thread(inbox.Space.of, content)
        groups = await asyncio.to_thread(inbox.cluster, found,
                                         c.settings.learning.cluster_similarity, space)
    ok = OK.get(request.query.get("ok", ""))
    return c.render("inbox.html", groups=groups[:MAX_GROUPS],
                    more=max(len(groups) - MAX_GROUPS, 0), total=len(found), by=by,
                    labels=inbox.labels(content), kind=KIND,
                    name=lambda lb: inbox.label_name(content, lb),
                    describe=lambda ref: inbox.describe(content, ref), shown=MAX_SHOWN,
                    message=ok)


def _chosen(form: Any) -> tuple[list[str], str]:
    """The inbox rows and the label a posted inbox form is about."""
    group = str(form.get("group", ""))
    if group.isdigit():
        keys = str(form.get(f"keys-{group}", "")).split(",")
        label = str(form.get(f"label-{group}", ""))
    else:
        keys = [str(k) for k in form.getall("pick", [])]
        label = str(form.get("label", ""))
    return [k for k in keys if k], label


def _valid_label(live: Live, label: str) -> bool:
    return any(label == value for _, options in inbox.labels(live.content)
               for value, _ in options)


async def teach_preview(request: web.Request) -> web.StreamResponse:
    """What will be saved: the questions masked again for good (names, house numbers)."""
    c = ctx(request)
    live = live_of(c)
    keys, label = _chosen(await request.post())
    if not keys:
        return c.render("error.html", status=400, status_code=400,
                        message="Bạn chọn ít nhất một câu hỏi.")
    if not _valid_label(live, label):
        return c.render("error.html", status=400, status_code=400,
                        message="Bạn chọn nhãn (dịch vụ, câu hỏi đáp hoặc ngoài phạm vi).")
    async with c.tx() as s:
        rows = await inbox.texts_of(s, keys)
    texts = list(dict.fromkeys(mask_for_training(r.text, _places(c)) for r in rows))
    return _confirm(c, live, [r.key for r in rows], label, texts, [], 200)


def _confirm(c: Ctx, live: Live, keys: list[str], label: str, texts: list[str],
             notes: list[str], status: int) -> web.Response:
    return c.render("teach.html", status=status, keys=",".join(keys), label=label,
                    label_name=inbox.label_name(live.content, label), texts=texts, notes=notes,
                    count=len(keys))


async def teach(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    live = live_of(c)
    form = await request.post()
    keys = [k for k in str(form.get("keys", "")).split(",") if k]
    label = str(form.get("label", ""))
    if not _valid_label(live, label):
        return c.render("error.html", status=400, status_code=400,
                        message="Nhãn không có trong nội dung hiện tại.")
    typed = [" ".join(t.split()) for t in str(form.get("texts", "")).splitlines()]
    typed = [t for t in typed if t]
    masked = [mask_for_training(t, _places(c)) for t in typed]
    if not masked:
        return _confirm(c, live, keys, label, [], ["Không còn câu nào để lưu."], 400)
    if masked != typed:
        # What is saved is exactly what the editor read: show the newly masked text again.
        return _confirm(c, live, keys, label, masked, [
            "Trợ lý vừa che thêm tên hoặc số trong câu bạn sửa. Bạn đọc lại rồi xác nhận."], 409)
    if form.get("confirm") != "1":
        return _confirm(c, live, keys, label, masked, [
            "Bạn đánh dấu ô xác nhận: đã đọc từng câu và không còn thông tin cá nhân."], 400)
    forbidden = await asyncio.to_thread(teaching.forbidden_texts, c.settings)
    async with c.tx() as s:
        saved, _ = await teaching.teach(s, c.who.actor, masked, label, keys, forbidden)
    _nudge(request)
    if not saved:
        return _confirm(c, live, keys, label, masked, [
            "Các câu này trùng câu trong bộ kiểm tra (hoặc trùng nhau): không được dùng để "
            "huấn luyện."], 400)
    raise c.back("/learning", ok="taught")


async def dismiss(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    keys, _ = _chosen(await request.post())
    async with c.tx() as s:
        await teaching.dismiss(s, c.who.actor, keys)
    raise c.back("/inbox", ok="dismissed")


# ---------------------------------------------------------------------------- retrains

def _rows(model: Any) -> list[dict[str, Any]]:
    """Before/after per evaluation file, for the table of one retrain."""
    report = model.report or {}
    before, after = report.get("before") or {}, report.get("after") or {}
    out = []
    for name in sorted(set(before) | set(after), key=lambda n: (n.startswith("danger"), n)):
        b, a = before.get(name) or {}, after.get(name) or {}
        if name == "danger_now":
            out.append({"file": "Tin nguy hiểm (phải nhận ra hết)", "n": a.get("n"),
                        "cells": [("Nhận ra", b.get("caught"), a.get("caught"))]})
        elif name == "danger_calm":
            out.append({"file": "Tin bình thường giống tin nguy hiểm", "n": a.get("n"),
                        "cells": [("Báo động nhầm", b.get("alarms"), a.get("alarms"))]})
        else:
            out.append({"file": name, "n": a.get("n") or b.get("n"), "cells": [
                (label, _pct(b.get(m)), _pct(a.get(m)))
                for m, label in (("intent", "Ý định"), ("service", "Dịch vụ"),
                                 ("top3", "Dịch vụ, 3 đoán đầu"))]})
    return out


def _pct(v: Any) -> str | None:
    return None if v is None else f"{100 * float(v):.1f} %"


def _reason(r: dict[str, Any]) -> str:
    metric = METRIC.get(str(r.get("metric")), str(r.get("metric")))
    if r.get("metric") in ("intent", "service"):
        return (f"{r.get('file')}: {metric} giảm từ {_pct(r.get('before'))} xuống "
                f"{_pct(r.get('after'))}")
    if r.get("metric") == "danger_missed":
        return f"Bỏ sót tin nguy hiểm: nhận ra {r.get('after'):.0f}/{r.get('n')}"
    if r.get("metric") == "false_alarms":
        return f"Báo động nhầm tăng từ {r.get('before'):.0f} lên {r.get('after'):.0f}"
    if r.get("metric") == "error":
        return f"Lỗi: {r.get('detail')}"
    return metric


def _job_json(m: Any) -> dict[str, Any]:
    return {"id": m.id, "state": m.state, "state_text": STATE.get(m.state, m.state),
            "requested_at": m.requested_at.isoformat(),
            "finished_at": m.finished_at.isoformat() if m.finished_at else None,
            "train_s": m.train_s, "total_s": (m.report or {}).get("total_s"),
            "reasons": [_reason(r) for r in m.reasons or []]}


async def learning_page(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    live = live_of(c)
    async with c.tx() as s:
        jobs = await teaching.jobs(s)
        examples = await teaching.taught(s)
    content = live.content
    return c.render("learning.html", jobs=jobs, examples=examples, rows=_rows, reason=_reason,
                    state=STATE, name=lambda lb: inbox.label_name(content, lb),
                    serving=live.engine.version, busy=any(j.state in ("queued", "training")
                                                          for j in jobs),
                    refused=any(e.state == "refused" for e in examples),
                    message=OK.get(request.query.get("ok", "")))


async def status(request: web.Request) -> web.StreamResponse:
    """The latest retrains (the page refreshes itself while one runs)."""
    c = ctx(request)
    async with c.tx() as s:
        jobs = await teaching.jobs(s, limit=5)
    return web.json_response({"serving": live_of(c).engine.version,
                              "jobs": [_job_json(j) for j in jobs]})


async def retrain(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    async with c.tx() as s:
        job = await teaching.request_retrain(s, c.who.actor)
        await audit.record(s, c.who.actor, "learning.retrain_request", details={"retrain": job})
    _nudge(request)
    raise c.back("/learning", ok="queued")


async def retry(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    async with c.tx() as s:
        await teaching.retry_refused(s, c.who.actor)
    _nudge(request)
    raise c.back("/learning", ok="retry")


async def remove(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    async with c.tx() as s:
        found = await teaching.remove_example(s, c.who.actor, int(request.match_info["id"]))
    if not found:
        raise web.HTTPNotFound()
    _nudge(request)
    raise c.back("/learning", ok="removed")


def routes() -> list[Route]:
    return [
        Route("GET", "/inbox", inbox_page, "inbox", EDITORS),
        Route("POST", "/inbox/preview", teach_preview, "inbox.preview", EDITORS),
        Route("POST", "/inbox/teach", teach, "inbox.teach", EDITORS),
        Route("POST", "/inbox/dismiss", dismiss, "inbox.dismiss", EDITORS),
        Route("GET", "/learning", learning_page, "learning", EDITORS),
        Route("GET", "/learning/status", status, "learning.status", EDITORS, api=True),
        Route("POST", "/learning/retrain", retrain, "learning.retrain", EDITORS),
        Route("POST", "/learning/retry", retry, "learning.retry", EDITORS),
        Route("POST", r"/learning/examples/{id:\d+}/remove", remove, "learning.remove",
              EDITORS),
    ]

