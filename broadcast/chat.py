"""Notices in chat, on every channel: subscribing (consent first), unsubscribing, changing
one's settings; joining a team (/thamgia); composing, previewing, confirming, listing and
cancelling notices (/thongbao); inviting team members (admins).

The database is reached through :class:`broadcast.types.NoticeStore`, plugged into each
update's context under :data:`NOTICES` by the assembly. Nothing is stored as a subscription
before the citizen taps "Tôi đồng ý" and picks areas and topics: until then the choices live in
the conversation state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from broadcast.compose import priority_label, render_notice
from broadcast.radio.engines import normalizer_for
from broadcast.schedule import next_at_time, parse_chat_when, parse_hhmm
from broadcast.types import (
    PRIORITIES,
    ROLES,
    Draft,
    Member,
    NoticeError,
    NoticeStore,
    NoticeSummary,
    Subscription,
)
from flows.assistant import Assistant, Outcome, outcome
from flows.ports import Context, PortKey, State
from flows.types import Button, Incoming, Reply
from flows.ui import button, fmt_date, menu_button, short_label

__all__ = ["CONSENT", "NOTICES", "install"]

#: Which consent wording a subscriber agreed to (stored with the subscription).
CONSENT = "sub.consent@1"

#: The notice store of the update being handled (``broadcast.store.SqlNoticeStore``).
NOTICES: PortKey[NoticeStore] = PortKey("notices")


def install(assistant: Assistant) -> None:
    """Plug the notice conversations into the assistant."""
    f = _NoticeFlows()
    assistant.commands.update({"dangky": f.subscribe, "huy": f.unsubscribe,
                               "thongbao": f.compose, "thamgia": f.join, "lienket": f.link})
    assistant.payloads.update({"sub": f.sub_payload, "nb": f.nb_payload})
    assistant.text_flows.update({"nb.text": f.typed_text, "nb.at": f.typed_at,
                                 "nb.time": f.typed_time})
    assistant.intents.update({"subscribe": f.subscribe, "unsubscribe": f.unsubscribe_asked})
    assistant.on_follow = f.follow
    assistant.on_unfollow = f.unfollow


def _store(ctx: Context) -> NoticeStore:
    return ctx.ports.get(NOTICES)


def _names(pairs: Sequence[tuple[str, str]], ids: Sequence[str]) -> str:
    return ", ".join(name for code, name in pairs if code in ids)


def _picker(ctx: Context, text: str, options: Sequence[tuple[str, str]], chosen: Sequence[str],
            prefix: str, extra: Sequence[Button] = ()) -> Reply:
    """A multiple choice: each option toggles (✅/⬜), then "Xong"."""
    buttons = [button(("✅ " if key in chosen else "⬜ ") + short_label(name, 36),
                      f"{prefix}:{key}") for key, name in options]
    buttons += [*extra, button(ctx.content.text("btn.finish"), f"{prefix}:ok", role="done")]
    return Reply(text, buttons)


def _toggle(items: list[str], key: str) -> list[str]:
    return [i for i in items if i != key] if key in items else [*items, key]


#: The spoken form shown in the preview is cut here (a long notice is still read in full).
_SPOKEN_PREVIEW = 1200


class _NoticeFlows:
    def _out(self, state: State, replies: list[Reply], log: str) -> Outcome:
        return outcome(state, replies, log_text=log)

    # ================================================================ subscriptions

    async def subscribe(self, msg: Incoming, state: State, ctx: Context, arg: str) -> Outcome:
        """/dangky: the current settings for a subscriber, else the consent question."""
        t = ctx.content.text
        if not ctx.channel.push:
            return self._out(state, [Reply(t("sub.no_push"), [
                button(t("btn.recent"), "sub:recent"), menu_button(ctx.content)])], "/dangky")
        sub = await _store(ctx).subscription(msg.channel, msg.user_id)
        if sub is not None:
            state.flow = None
            return self._out(state, [self._current(ctx, sub)], "/dangky")
        state.flow = "sub"
        state.data["sub"] = {}
        return self._out(state, [Reply(t("sub.consent"), [
            button(t("btn.agree"), "sub:y"), button(t("btn.disagree"), "sub:n")])], "/dangky")

    def _current(self, ctx: Context, sub: Subscription) -> Reply:
        t, s = ctx.content.text, ctx.settings
        return Reply(t("sub.current", areas=_names(s.areas, sub.areas),
                       topics=_names(s.topics, sub.topics)), [
            button(t("btn.recent"), "sub:recent"),
            button(t("btn.change_areas"), "sub:ca"), button(t("btn.change_topics"), "sub:ct"),
            button(t("btn.unsubscribe"), "sub:off"), menu_button(ctx.content)])

    async def unsubscribe(self, msg: Incoming, state: State, ctx: Context,
                          arg: str) -> Outcome:
        """/huy: withdraw consent in one step; the subscription is deleted."""
        removed = await _store(ctx).unsubscribe(msg.channel, msg.user_id)
        state.data.pop("sub", None)
        state.flow = None
        key = "sub.stopped" if removed else "sub.not_subscribed"
        return self._out(state, [Reply(ctx.content.text(key), [menu_button(ctx.content)])],
                         "/huy")

    async def unsubscribe_asked(self, msg: Incoming, state: State, ctx: Context,
                                arg: str) -> Outcome:
        """Stopping in one's own words asks first: the understanding can read "không cần nữa"
        or "còn gì nữa" after an answer as "stop the notices" (/huy and the button act at
        once)."""
        t = ctx.content.text
        if await _store(ctx).subscription(msg.channel, msg.user_id) is None:
            return self._out(state, [Reply(t("sub.not_subscribed"), [menu_button(ctx.content)])],
                             arg)
        return self._out(state, [Reply(t("sub.confirm_off"), [
            button(t("btn.unsubscribe"), "sub:off", role="yes"),
            button(t("btn.keep_sub"), "m", role="no")])], arg)

    async def follow(self, msg: Incoming, state: State, ctx: Context, arg: str) -> Outcome:
        """A Zalo OA follow starts /dangky (consent first)."""
        return await self.subscribe(msg, state, ctx, arg)

    async def unfollow(self, msg: Incoming, state: State, ctx: Context, arg: str) -> Outcome:
        """An unfollow unsubscribes; nothing can be said back."""
        await _store(ctx).unsubscribe(msg.channel, msg.user_id)
        state.data.pop("sub", None)
        state.flow = None
        return Outcome([], state, log_text="[unfollow]")

    async def sub_payload(self, msg: Incoming, state: State, ctx: Context,
                          payload: str) -> Outcome:
        t, s = ctx.content.text, ctx.settings
        rest = payload.partition(":")[2]
        store = _store(ctx)
        log = f"[{payload}]"
        if rest == "recent":
            return await self._recent(msg, state, ctx, log)
        if not ctx.channel.push or rest == "":
            return await self.subscribe(msg, state, ctx, "")
        if rest == "n":
            state.flow = None
            state.data.pop("sub", None)
            return self._out(state, [Reply(t("sub.declined"), [
                button(t("btn.recent"), "sub:recent"), menu_button(ctx.content)])], log)
        if rest == "off":
            return await self.unsubscribe(msg, state, ctx, "")
        existing = await store.subscription(msg.channel, msg.user_id)
        if rest == "y":
            state.data["sub"] = {"consent": True, "mode": "new", "topics": [],
                                 "areas": [s.areas[0][0]] if len(s.areas) == 1 else []}
            state.flow = "sub"
            return self._out(state, [self._area_picker(ctx, state.data["sub"])], log)
        if rest in ("ca", "ct"):
            if existing is None:
                return await self.subscribe(msg, state, ctx, "")
            state.data["sub"] = {"consent": True, "mode": "areas" if rest == "ca" else "topics",
                                 "areas": list(existing.areas), "topics": list(existing.topics)}
            state.flow = "sub"
            picker = self._area_picker if rest == "ca" else self._topic_picker
            return self._out(state, [picker(ctx, state.data["sub"])], log)
        d: dict[str, Any] | None = state.data.get("sub")
        if not d or not d.get("consent"):
            # An old button, or no consent yet: ask again rather than store anything.
            return await self.subscribe(msg, state, ctx, "")
        kind, _, value = rest.partition(":")
        if kind == "a":
            if value == "ok":
                if not d["areas"]:
                    return self._out(state, [self._area_picker(ctx, d, "sub.need_area")], log)
                if d["mode"] == "areas":
                    return await self._save(msg, state, ctx, d)
                return self._out(state, [self._topic_picker(ctx, d)], log)
            if value in dict(s.areas):
                d["areas"] = _toggle(d["areas"], value)
            return self._out(state, [self._area_picker(ctx, d)], log)
        if kind == "t":
            if value == "*":
                d["topics"] = [tid for tid, _ in s.topics]
                return await self._save(msg, state, ctx, d)
            if value == "ok":
                if not d["topics"]:
                    return self._out(state, [self._topic_picker(ctx, d, "sub.need_topic")],
                                     log)
                return await self._save(msg, state, ctx, d)
            if value in dict(s.topics):
                d["topics"] = _toggle(d["topics"], value)
            return self._out(state, [self._topic_picker(ctx, d)], log)
        return await self.subscribe(msg, state, ctx, "")

    async def _recent(self, msg: Incoming, state: State, ctx: Context, log: str) -> Outcome:
        """"Thông báo gần đây": the last notices of the citizen's areas (every area for
        someone not subscribed), as they were sent, so a missed one can be read again."""
        t, s = ctx.content.text, ctx.settings
        store = _store(ctx)
        sub = await store.subscription(msg.channel, msg.user_id)
        areas = list(sub.areas) if sub is not None else [code for code, _ in s.areas]
        items = await store.recent(areas)
        names = _names(s.areas, areas)
        buttons = [menu_button(ctx.content)]
        if not items:
            return self._out(state, [Reply(t("sub.recent_none", days=store.recent_days,
                                             areas=names),
                                           buttons)], log)
        replies = [Reply(t("sub.recent_title", areas=names))]
        for when, text in items:
            day = fmt_date(when.astimezone(store.tz).date())
            replies.append(Reply(t("sub.recent_item", date=day) + "\n" + text, kind="notice"))
        replies[-1] = Reply(replies[-1].text, buttons, kind="notice")
        return self._out(state, replies, log)

    def _area_picker(self, ctx: Context, d: dict[str, Any], key: str = "sub.pick_areas"
                     ) -> Reply:
        return _picker(ctx, ctx.content.text(key), ctx.settings.areas, d["areas"], "sub:a")

    def _topic_picker(self, ctx: Context, d: dict[str, Any], key: str = "sub.pick_topics"
                      ) -> Reply:
        return _picker(ctx, ctx.content.text(key), ctx.settings.topics, d["topics"], "sub:t",
                       [button(ctx.content.text("btn.all_topics"), "sub:t:*")])

    async def _save(self, msg: Incoming, state: State, ctx: Context,
                    d: dict[str, Any]) -> Outcome:
        s = ctx.settings
        await _store(ctx).subscribe(msg.channel, msg.user_id, d["areas"], d["topics"], CONSENT)
        state.data.pop("sub", None)
        state.flow = None
        text = ctx.content.text("sub.saved", areas=_names(s.areas, d["areas"]),
                                topics=_names(s.topics, d["topics"]))
        return self._out(state, [Reply(text, [menu_button(ctx.content)])], "[sub:saved]")

    # ================================================================ team

    async def join(self, msg: Incoming, state: State, ctx: Context, arg: str) -> Outcome:
        """/thamgia CODE: redeem a one-time invite."""
        t = ctx.content.text
        if not ctx.channel.rights:  # the web chat, the terminal: anyone's session
            return self._out(state, [Reply(t("team.citizen_only"), [menu_button(ctx.content)])],
                             "/thamgia")
        if not arg.strip():
            return self._out(state, [Reply(t("team.join_ask"), [menu_button(ctx.content)])],
                             "/thamgia")
        try:
            member = await _store(ctx).join(msg.channel, msg.user_id, arg.strip())
        except NoticeError as exc:
            if exc.code != "linked_admin":
                raise
            return self._out(state, [Reply(t("team.join_linked_admin"),
                                           [menu_button(ctx.content)])], "/thamgia")
        if member is None:
            return self._out(state, [Reply(t("team.join_bad"), [menu_button(ctx.content)])],
                             "/thamgia")
        text = t("team.joined", role=t(f"team.role.{member.role}"),
                 areas=_names(ctx.settings.areas, member.areas))
        return self._out(state, [Reply(text, [button(t("btn.nb_new"), "nb:new"),
                                              menu_button(ctx.content)])], "/thamgia")

    async def link(self, msg: Incoming, state: State, ctx: Context, arg: str) -> Outcome:
        """/lienket CODE: link this chat account to a console account (same person, same
        rights)."""
        t = ctx.content.text
        menu = [menu_button(ctx.content)]
        if not ctx.channel.rights:
            return self._out(state, [Reply(t("team.citizen_only"), menu)], "/lienket")
        if not arg.strip():
            return self._out(state, [Reply(t("team.link_ask"), menu)], "/lienket")
        linked = await _store(ctx).link(msg.channel, msg.user_id, arg.strip())
        if linked is None:
            return self._out(state, [Reply(t("team.link_bad"), menu)], "/lienket")
        name, role = linked
        return self._out(state, [Reply(t("team.linked", name=name, role=t(f"team.role.{role}")),
                                       menu)], "/lienket")

    async def compose(self, msg: Incoming, state: State, ctx: Context, arg: str) -> Outcome:
        """/thongbao: the team menu (compose, list, invite)."""
        member = await _store(ctx).member(msg.channel, msg.user_id)
        if member is None:
            return self._team_only(state, ctx)
        t = ctx.content.text
        state.flow = None
        buttons = [button(t("btn.nb_new"), "nb:new"), button(t("btn.nb_list"), "nb:list")]
        if member.role == "admin":
            buttons.append(button(t("btn.nb_invite"), "nb:inv"))
        buttons.append(menu_button(ctx.content))
        text = t("nb.menu", role=t(f"team.role.{member.role}"),
                 areas=_names(ctx.settings.areas, member.areas))
        return self._out(state, [Reply(text, buttons)], "/thongbao")

    def _team_only(self, state: State, ctx: Context) -> Outcome:
        state.flow = None
        state.data.pop("nb", None)
        return self._out(state, [Reply(ctx.content.text("team.only"),
                                       [menu_button(ctx.content)])], "[nb]")

    # ================================================================ composing

    async def nb_payload(self, msg: Incoming, state: State, ctx: Context,
                         payload: str) -> Outcome:
        member = await _store(ctx).member(msg.channel, msg.user_id)
        if member is None:
            return self._team_only(state, ctx)
        t = ctx.content.text
        cmd, _, value = payload.partition(":")[2].partition(":")
        log = f"[{payload}]"
        if cmd == "new":
            state.data["nb"] = {"areas": list(member.areas) if len(member.areas) == 1 else [],
                                "topics": [], "priority": "normal", "radio": False,
                                "repeat": "none", "at": None}
            return self._ask_text(state, ctx, log)
        if cmd == "list":
            return await self._list(state, ctx, member, log)
        if cmd in ("c", "cy", "cn"):
            return await self._cancel(state, ctx, member, cmd, value, log)
        if cmd in ("inv", "ir", "ia"):
            return await self._invite(state, ctx, member, cmd, value, log)
        d: dict[str, Any] | None = state.data.get("nb")
        if cmd == "x" or not d or not d.get("text"):
            state.flow = None
            state.data.pop("nb", None)
            if cmd != "x":  # an old button: start again
                return await self.compose(msg, state, ctx, "")
            return self._out(state, [Reply(t("nb.abandoned"), [menu_button(ctx.content)])],
                             log)
        state.flow = "nb"
        mine = [(c, n) for c, n in ctx.settings.areas if c in member.areas]
        if cmd == "e":
            return self._ask_text(state, ctx, log)
        if cmd == "a":
            if value == "ok":
                if not d["areas"]:
                    return self._out(state, [_picker(ctx, t("nb.need_area"), mine,
                                                     d["areas"], "nb:a")], log)
                return self._out(state, [self._nb_topics(ctx, d)], log)
            if value in member.areas:
                d["areas"] = _toggle(d["areas"], value)
            return self._out(state, [_picker(ctx, t("nb.pick_areas"), mine, d["areas"],
                                             "nb:a")], log)
        if cmd == "t":
            if value == "ok" and not d["topics"]:
                return self._out(state, [self._nb_topics(ctx, d, "nb.need_topic")], log)
            if value in ("ok", "*"):
                if value == "*":
                    d["topics"] = [tid for tid, _ in ctx.settings.topics]
                return self._out(state, [Reply(t("nb.pick_priority"), [
                    button(t(f"btn.prio.{p}"), f"nb:p:{p}") for p in PRIORITIES])], log)
            if value in dict(ctx.settings.topics):
                d["topics"] = _toggle(d["topics"], value)
            return self._out(state, [self._nb_topics(ctx, d)], log)
        if cmd == "p" and value in PRIORITIES:
            d["priority"] = value
            return self._out(state, [self._when_menu(ctx)], log)
        if cmd == "w":
            if value == "now":
                d["at"], d["repeat"] = None, "none"
                return await self._preview(state, ctx, log)
            if value in ("at", "daily"):
                d["repeat"] = "none" if value == "at" else "daily"
                d.pop("weekday", None)
                state.flow = "nb.at" if value == "at" else "nb.time"
                key = "nb.ask_at" if value == "at" else "nb.ask_time"
                return self._out(state, [Reply(t(key), [button(t("btn.abandon"), "nb:x")])], log)
            if value == "weekly":
                d["repeat"] = "weekly"
                return self._out(state, [Reply(t("nb.pick_weekday"), [
                    button(t(f"weekday.{i}"), f"nb:d:{i}") for i in range(7)])], log)
        if cmd == "d" and value.isdigit() and 0 <= int(value) <= 6:
            d["weekday"] = int(value)
            state.flow = "nb.time"
            return self._out(state, [Reply(t("nb.ask_time"), [button(t("btn.abandon"),
                                                                     "nb:x")])], log)
        if cmd == "r":
            d["radio"] = not d.get("radio")
            return await self._preview(state, ctx, log)
        if cmd == "ok":
            return await self._confirm(state, ctx, member, log)
        return await self._preview(state, ctx, log)

    def _ask_text(self, state: State, ctx: Context, log: str) -> Outcome:
        state.flow = "nb.text"
        t = ctx.content.text
        return self._out(state, [Reply(t("nb.ask_text", limit=_store(ctx).max_chars),
                                       [button(t("btn.abandon"), "nb:x")])], log)

    def _nb_topics(self, ctx: Context, d: dict[str, Any], key: str = "nb.pick_topics") -> Reply:
        return _picker(ctx, ctx.content.text(key), ctx.settings.topics, d["topics"], "nb:t",
                       [button(ctx.content.text("btn.all_topics"), "nb:t:*")])

    def _when_menu(self, ctx: Context) -> Reply:
        t = ctx.content.text
        return Reply(t("nb.pick_when"), [button(t(f"btn.when.{w}"), f"nb:w:{w}")
                                         for w in ("now", "at", "daily", "weekly")])

    async def typed_text(self, msg: Incoming, state: State, ctx: Context,
                         text: str) -> Outcome | None:
        d = state.data.get("nb")
        if d is None:
            state.flow = None
            return None
        t, limit = ctx.content.text, _store(ctx).max_chars
        if len(text) > limit:
            return self._out(state, [Reply(t("nb.too_long", n=len(text), limit=limit),
                                           [button(t("btn.abandon"), "nb:x")])], "[nb:text]")
        d["text"] = text
        state.flow = "nb"
        if d.get("previewed"):
            return await self._preview(state, ctx, "[nb:text]")
        member = await _store(ctx).member(msg.channel, msg.user_id)
        if member is None:
            return self._team_only(state, ctx)
        mine = [(c, n) for c, n in ctx.settings.areas if c in member.areas]
        return self._out(state, [_picker(ctx, t("nb.pick_areas"), mine, d["areas"], "nb:a")],
                         "[nb:text]")

    async def typed_at(self, msg: Incoming, state: State, ctx: Context,
                       text: str) -> Outcome | None:
        d = state.data.get("nb")
        if d is None:
            state.flow = None
            return None
        store = _store(ctx)
        when = parse_chat_when(text, store.now(), store.tz)
        if when is None:
            return self._bad_time(state, ctx)
        d["at"] = when.isoformat()
        state.flow = "nb"
        return await self._preview(state, ctx, "[nb:at]")

    async def typed_time(self, msg: Incoming, state: State, ctx: Context,
                         text: str) -> Outcome | None:
        d = state.data.get("nb")
        if d is None:
            state.flow = None
            return None
        hm = parse_hhmm(text)
        if hm is None:
            return self._bad_time(state, ctx)
        store = _store(ctx)
        first = next_at_time(hm[0], hm[1], store.now(), store.tz, d.get("weekday"))
        d["at"] = first.isoformat()
        state.flow = "nb"
        return await self._preview(state, ctx, "[nb:time]")

    def _bad_time(self, state: State, ctx: Context) -> Outcome:
        t = ctx.content.text
        return self._out(state, [Reply(t("nb.bad_time"), [button(t("btn.abandon"), "nb:x")])],
                         "[nb:time?]")

    def _draft(self, d: dict[str, Any]) -> Draft:
        return Draft(text=d["text"], areas=list(d["areas"]), topics=list(d["topics"]),
                     priority=d.get("priority", "normal"),
                     at=dt.datetime.fromisoformat(d["at"]) if d.get("at") else None,
                     repeat=d.get("repeat", "none"), radio=bool(d.get("radio")))

    def _when(self, ctx: Context, at: dt.datetime | None, repeat: str) -> str:
        t = ctx.content.text
        if at is None:
            return t("when.now")
        local = at.astimezone(_store(ctx).tz)
        time, date = local.strftime("%H:%M"), fmt_date(local.date())
        if repeat == "daily":
            return t("when.daily", time=time, date=date)
        if repeat == "weekly":
            return t("when.weekly", weekday=t(f"weekday.{local.weekday()}"), time=time,
                     date=date)
        return t("when.at", time=time, date=date)

    async def _preview(self, state: State, ctx: Context, log: str) -> Outcome:
        t, s = ctx.content.text, ctx.settings
        d = state.data["nb"]
        d["previewed"] = True
        draft = self._draft(d)
        notice = render_notice(ctx.content.texts, title=None, text=draft.text,
                               priority=draft.priority,
                               area_names=[n for c, n in s.areas if c in draft.areas])
        count = await _store(ctx).count_recipients(draft.areas, draft.topics)
        text = t("nb.preview", notice=notice, areas=_names(s.areas, draft.areas),
                 topics=_names(s.topics, draft.topics),
                 priority=priority_label(ctx.content.texts, draft.priority),
                 when=self._when(ctx, draft.at, draft.repeat),
                 radio=t("btn.yes") if draft.radio else t("btn.no"), count=count)
        if draft.priority == "emergency":
            text += "\n" + t("nb.emergency_note")
        if count == 0:  # it would end as "done" having reached nobody: say so before confirming
            text += "\n" + t("nb.no_recipients")
        if draft.radio:  # what the loudspeakers will say: numbers, dates, abbreviations spelt out
            spoken = normalizer_for(ctx.content.lexicon).spoken(draft.text).strip()
            if len(spoken) > _SPOKEN_PREVIEW:
                spoken = spoken[:_SPOKEN_PREVIEW].rsplit(" ", 1)[0] + " …"
            text += "\n\n" + t("nb.spoken", script=spoken)
        state.flow = "nb"
        return self._out(state, [Reply(text, [
            button(t("btn.confirm"), "nb:ok"),
            button(t("btn.radio_off" if draft.radio else "btn.radio_on"), "nb:r"),
            button(t("btn.edit_text"), "nb:e"), button(t("btn.abandon"), "nb:x")])], log)

    async def _confirm(self, state: State, ctx: Context, member: Member, log: str) -> Outcome:
        t = ctx.content.text
        d = state.data["nb"]
        draft = self._draft(d)
        try:
            made = await _store(ctx).create(member, draft)
        except NoticeError as exc:
            if exc.code == "past":
                return self._out(state, [Reply(t("nb.bad_time")), self._when_menu(ctx)], log)
            key = {"forbidden_area": "nb.forbidden_area"}.get(exc.code, "nb.failed")
            return self._out(state, [Reply(t(key), [button(t("btn.edit_text"), "nb:e"),
                                                    button(t("btn.abandon"), "nb:x")])], log)
        state.flow = None
        state.data.pop("nb", None)
        if made.approval == "waiting":
            text = t("nb.created_waiting", id=made.id,
                     when=self._when(ctx, draft.at, draft.repeat))
        elif draft.at is None:
            text = t("nb.created_now", id=made.id, count=made.recipients)
        else:
            text = t("nb.created_later", id=made.id,
                     when=self._when(ctx, draft.at, draft.repeat))
        return self._out(state, [Reply(text, [button(t("btn.nb_list"), "nb:list"),
                                              menu_button(ctx.content)])], log)

    # ================================================================ list, cancel, invite

    def _line(self, ctx: Context, n: NoticeSummary) -> str:
        t = ctx.content.text
        state = (t("nb.state.sending", sent=n.sent, recipients=n.recipients)
                 if n.state == "sending" else t("nb.state.waiting")
                 if n.approval == "waiting" else t("nb.state.scheduled"))
        return t("nb.list_item", id=n.id, title=short_label(n.title, 60),
                 when=self._when(ctx, n.at, n.repeat) if n.at else "—", state=state)

    async def _list(self, state: State, ctx: Context, member: Member, log: str) -> Outcome:
        t = ctx.content.text
        state.flow = None
        items = await _store(ctx).notices(member, limit=8)
        if not items:
            return self._out(state, [Reply(t("nb.list_empty"), [
                button(t("btn.nb_new"), "nb:new"), menu_button(ctx.content)])], log)
        text = "\n".join([t("nb.list_title"), *(self._line(ctx, n) for n in items)])
        buttons = [button(t("btn.nb_cancel", id=n.id), f"nb:c:{n.id}") for n in items]
        return self._out(state, [Reply(text, [*buttons, menu_button(ctx.content)])], log)

    async def _cancel(self, state: State, ctx: Context, member: Member, cmd: str, value: str,
                      log: str) -> Outcome:
        t = ctx.content.text
        state.flow = None
        menu = [menu_button(ctx.content)]
        if not value.isdigit():
            return self._out(state, [Reply(t("nb.not_found"), menu)], log)
        notice_id = int(value)
        if cmd == "cn":
            return self._out(state, [Reply(t("nb.cancel_kept"), menu)], log)
        if cmd == "c":
            found = [n for n in await _store(ctx).notices(member, limit=100) if n.id == notice_id]
            if not found:
                return self._out(state, [Reply(t("nb.not_found"), menu)], log)
            return self._out(state, [Reply(
                t("nb.cancel_confirm", id=notice_id, title=found[0].title),
                [button(t("btn.cancel_yes"), f"nb:cy:{notice_id}"),
                 button(t("btn.cancel_no"), f"nb:cn:{notice_id}")])], log)
        try:
            done = await _store(ctx).cancel(member, notice_id)
        except NoticeError as exc:
            key = "nb.forbidden_area" if exc.code == "forbidden_area" else "nb.cancel_over"
            return self._out(state, [Reply(t(key, id=notice_id), menu)], log)
        key = "nb.not_found" if done is None else "nb.cancel_done"
        return self._out(state, [Reply(t(key, id=notice_id), menu)], log)

    async def _invite(self, state: State, ctx: Context, member: Member, cmd: str, value: str,
                      log: str) -> Outcome:
        t = ctx.content.text
        state.flow = None
        if member.role != "admin":
            return self._out(state, [Reply(t("nb.admin_only"), [menu_button(ctx.content)])],
                             log)
        if cmd == "inv":
            return self._out(state, [Reply(t("nb.pick_role"), [
                button(t("btn.role.member"), "nb:ir:member"),
                button(t("btn.role.radio"), "nb:ir:radio"),
                button(t("btn.role.admin"), "nb:ir:admin")])], log)
        if cmd == "ir" and value in ROLES:
            state.data["inv"] = {"role": value, "areas": []}
        d = state.data.get("inv")
        if d is None:
            return await self._invite(state, ctx, member, "inv", "", log)
        if cmd == "ia" and value == "ok" and d["areas"]:
            code = await _store(ctx).invite(member, d["role"], d["areas"])
            state.data.pop("inv", None)
            return self._out(state, [Reply(t("nb.invite_code", code=code,
                                             hours=_store(ctx).invite_ttl_hours),
                                           [menu_button(ctx.content)])], "[nb:invite]")
        # An area's admin invites for their own areas; an admin of every area has them all.
        mine = [(code, name) for code, name in ctx.settings.areas if code in member.areas]
        if cmd == "ia" and value in dict(mine):
            d["areas"] = _toggle(d["areas"], value)
        return self._out(state, [_picker(ctx, t("nb.invite_areas"), mine, d["areas"],
                                         "nb:ia")], log)
