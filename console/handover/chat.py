"""The citizen's side of a handover, plugged into the assistant (as the notice flows are).

* **The offer**: under "Gặp cán bộ" (the ``human`` reply, from the menu or the ``human``
  intent), and after two answers in a row that were only suggestions or got 👎. The offer says
  first that a person will read the recent conversation: agreeing is the consent.
* **The request**: the ward (the one the citizen gave, else their notice subscription's single
  area, else asked) decides whose queue; the citizen is told their place and the expected wait,
  or, when nobody of the ward is on duty, the office hours and the hotlines (the request waits
  for the first operator on duty).
* **The gate**: in a claimed chat the assistant stays silent: what the citizen writes goes to
  the operator. Danger still comes first: the emergency numbers are the reply (and the operator
  sees them in the transcript). While waiting, the assistant answers as usual and the operator
  will see those messages too.
"""

from __future__ import annotations

import re

from console.handover.desk import OPEN_FLAG, Desk, QueueFull, Requested
from flows.assistant import Assistant, Outcome, outcome
from flows.ports import Context, PortKey, State
from flows.safety import clean_text, detect_danger, emergency_reply
from flows.types import Incoming, Reply
from flows.ui import button, menu_button

__all__ = ["HANDOVER", "MISSES", "install"]

#: The handover desk of the update being handled (bound to its transaction).
HANDOVER: PortKey[Desk] = PortKey("handover")
#: The state key holding how the last answers went ("ok" / "miss"), for the offer.
MISSES = "ho_m"
_COMMAND = re.compile(r"^/([A-Za-z_]+)")
#: Buttons that still work while a person has the chat: the handover's own, deleting one's
#: data, the emergency numbers, 👍/👎.
_PASS_BUTTONS = ("ho", "del", "em", "f")
#: Commands that still work: deleting one's data, seeing what is stored.
_PASS_COMMANDS = ("xoadulieu", "dulieucuatoi")


def install(assistant: Assistant) -> None:
    """Plug the handover into the assistant (the desk comes from the update's ports)."""
    f = _HandoverFlows()
    assistant.payloads["ho"] = f.payload
    assistant.gates.append(f.gate)
    assistant.after.append(f.after)


def _ward(state: State) -> str | None:
    """The ward the citizen gave (the conversation's ward when it keeps one)."""
    ward = getattr(state, "ward", None)
    if isinstance(ward, str) and ward:
        return ward
    ward = state.data.get("ward")
    return ward if isinstance(ward, str) and ward else None


def _set_ward(state: State, code: str) -> None:
    if hasattr(state, "ward"):
        setattr(state, "ward", code)  # noqa: B010  (a State that keeps the ward itself)
    else:
        state.data["ward"] = code


def _hotlines(ctx: Context) -> str:
    unconfirmed = ctx.content.text("human.unconfirmed")
    return "\n".join(f"📞 {h.number}: {h.name}" + ("" if h.confirmed else " " + unconfirmed)
                     for h in ctx.content.hotlines if not h.emergency)


class _HandoverFlows:
    # ------------------------------------------------------------------ buttons

    async def payload(self, msg: Incoming, state: State, ctx: Context,
                      payload: str) -> Outcome | None:
        if HANDOVER not in ctx.ports:
            return None
        desk = ctx.ports.get(HANDOVER)
        _, _, rest = payload.partition(":")
        if rest == "":
            return await self._offer_or_status(msg, state, ctx, desk)
        if rest == "n":
            return outcome(state, [Reply(ctx.content.text("handover.declined"),
                                         [menu_button(ctx.content)])], log_text="[ho:n]")
        if rest == "x":
            return await self._cancel(msg, state, ctx, desk)
        if rest == "y":
            return await self._agreed(msg, state, ctx, desk)
        head, _, code = rest.partition(":")
        if head == "w" and code in dict(ctx.settings.areas):
            _set_ward(state, code)
            return await self._agreed(msg, state, ctx, desk)
        return None

    def _offer(self, ctx: Context, key: str = "handover.offer") -> Reply:
        t = ctx.content.text
        return Reply(t(key), [button(t("handover.btn.agree"), "ho:y"),
                              button(t("handover.btn.decline"), "ho:n")])

    async def _offer_or_status(self, msg: Incoming, state: State, ctx: Context,
                               desk: Desk) -> Outcome:
        h = await desk.open_for(msg.channel, msg.user_id)
        if h is None:
            return outcome(state, [self._offer(ctx)], log_text="[ho]")
        state.data[OPEN_FLAG] = h.id
        return outcome(state, [self._status_reply(ctx, await desk.status(h), h.area)],
                       log_text="[ho]")

    def _area(self, ctx: Context, state: State, subscribed: list[str]) -> str | None:
        codes = [c for c, _ in ctx.settings.areas]
        ward = _ward(state)
        if ward in codes:
            return ward
        if len(codes) == 1:
            return codes[0]
        mine = [c for c in subscribed if c in codes]
        return mine[0] if len(mine) == 1 else None

    async def _agreed(self, msg: Incoming, state: State, ctx: Context, desk: Desk) -> Outcome:
        t = ctx.content.text
        area = self._area(ctx, state, await desk.subscription_areas(msg.channel, msg.user_id))
        if area is None:
            names = dict(ctx.settings.areas)
            return outcome(state, [Reply(t("handover.ask_ward"), [
                *(button("📍 " + names[c], f"ho:w:{c}") for c, _ in ctx.settings.areas),
                menu_button(ctx.content)])], log_text="[ho:y]")
        ward = dict(ctx.settings.areas).get(area, area)
        try:
            status = await desk.request(msg.channel, msg.user_id, area)
        except QueueFull:
            text = t("handover.full", ward=ward) + "\n\n" + _hotlines(ctx)
            return outcome(state, [Reply(text, [menu_button(ctx.content)])],
                           log_text="[ho:y]")
        state.data[OPEN_FLAG] = status.id
        state.data.pop(MISSES, None)
        return outcome(state, [self._status_reply(ctx, status, area)], log_text="[ho:y]")

    def _status_reply(self, ctx: Context, status: Requested, area: str) -> Reply:
        t = ctx.content.text
        ward = dict(ctx.settings.areas).get(area, area)
        if status.state == "claimed":
            return Reply(t("handover.in_chat"), [button(t("handover.btn.end"), "ho:x")])
        if status.staffed:
            key = "handover.queued" if status.new else "handover.waiting"
            text = t(key, ward=ward, place=status.place, wait=status.wait_min)
        else:
            text = (t("handover.after_hours", ward=ward, hours=status.hours)
                    + "\n\n" + t("handover.urgent") + "\n" + _hotlines(ctx))
        return Reply(text, [button(t("handover.btn.cancel"), "ho:x"), menu_button(ctx.content)])

    async def _cancel(self, msg: Incoming, state: State, ctx: Context, desk: Desk) -> Outcome:
        h = await desk.open_for(msg.channel, msg.user_id)
        state.data.pop(OPEN_FLAG, None)
        key = "handover.none"
        if h is not None:
            await desk.citizen_cancel(h)
            key = "handover.cancelled"
        return outcome(state, [Reply(ctx.content.text(key), [menu_button(ctx.content)])],
                       log_text="[ho:x]")

    # ------------------------------------------------------------------ the gate

    async def gate(self, msg: Incoming, state: State, ctx: Context,
                   _arg: str) -> Outcome | None:
        """In a chat a person has claimed, the citizen's messages go to them; the assistant
        answers only danger (the emergency numbers first)."""
        hid = state.data.get(OPEN_FLAG)
        if not isinstance(hid, int) or HANDOVER not in ctx.ports:
            return None
        desk = ctx.ports.get(HANDOVER)
        h = await desk.get(hid)
        if h is None or h.open != 1 or h.channel != msg.channel or h.user_id != msg.user_id:
            state.data.pop(OPEN_FLAG, None)  # closed (or deleted): the assistant is back
            return None
        text = clean_text(msg.text or "") if msg.kind == "text" and msg.button is None else ""
        command = _COMMAND.match(text)
        if h.state == "queued":
            if text and not command:
                await desk.record(h, "citizen", text)  # the operator will read it too
            return None
        if msg.button is not None:
            if msg.button.partition(":")[0] in _PASS_BUTTONS:
                return None
            return self._reminder(ctx, state)
        if command:
            if command.group(1).lower() in _PASS_COMMANDS:
                return None
            return self._reminder(ctx, state)
        if not text:
            if msg.kind in ("follow", "unfollow"):
                return None
            await desk.record(h, "citizen", f"[{msg.kind}]")
            return outcome(state, [], log_text="[ho]")
        await desk.record(h, "citizen", text)
        replies: list[Reply] = []
        danger = detect_danger(text)
        if danger.level == "now":
            urgent = emergency_reply(ctx.content, danger.numbers)
            await desk.record(h, "assistant", urgent.text)
            replies.append(urgent)
        return outcome(state, replies, log_text="[ho]")

    def _reminder(self, ctx: Context, state: State) -> Outcome:
        t = ctx.content.text
        return outcome(state, [Reply(t("handover.in_chat"),
                                     [button(t("handover.btn.end"), "ho:x")])],
                       log_text="[ho]")

    # ------------------------------------------------------------------ the offer

    async def after(self, msg: Incoming, out: Outcome, ctx: Context) -> Outcome:
        """Offer a person under "Gặp cán bộ", and after two answers in a row that missed."""
        if HANDOVER not in ctx.ports:
            return out
        state = out.state
        waiting = OPEN_FLAG in state.data
        offer: Reply | None = None
        if not waiting and any(r.kind == "human" for r in out.replies):
            offer = self._offer(ctx)
        if self._missed_twice(msg, out) and not waiting and offer is None:
            offer = self._offer(ctx, "handover.offer_after_misses")
        if offer is not None:
            out.replies = [*out.replies, offer]
            state.options = [*state.options, *(b.payload for b in offer.buttons
                                               if b.url is None)]
        return out

    def _missed_twice(self, msg: Incoming, out: Outcome) -> bool:
        """Two answers in a row that were only suggestions (or "not understood") or got 👎."""
        state = out.state
        recent = [str(x) for x in state.data.get(MISSES, []) if x in ("ok", "miss")]
        if msg.button is not None and msg.button.startswith("f:-"):
            if recent and recent[-1] == "ok":
                recent[-1] = "miss"
            else:
                recent.append("miss")
        elif msg.button is not None and msg.button.startswith("f:+"):
            recent = []
        elif out.parse is not None and out.parse.intent != "emergency":
            recent.append("miss" if out.parse.decision in ("suggest", "handover") else "ok")
        else:
            return False
        recent = recent[-2:]
        if recent == ["miss", "miss"]:
            state.data.pop(MISSES, None)
            return True
        state.data[MISSES] = recent
        return False
