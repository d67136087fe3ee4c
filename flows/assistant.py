"""The conversation core: one incoming message in, replies out.

The assistant is channel-neutral and stateless between calls: the caller loads the citizen's
:class:`State` from the database, passes it in, and stores the returned state in the same
transaction. Order of precedence for a text message: danger first (emergency numbers as the very
first reply, whatever flow the citizen was in), then a numbered choice, a command, a flow waiting
for typed input, and finally free-text understanding.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from flows import faq, legal_aid, services
from flows.ports import Context, State
from flows.safety import clean_text, emergency_reply, human_reply, scrub
from flows.types import Button, Incoming, Reply
from flows.ui import button, main_menu, menu_button, short_label
from nlu.types import Parse

__all__ = ["After", "Assistant", "Handler", "Outcome", "outcome"]

log = logging.getLogger(__name__)

_NUMBER_CHOICE = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")
_SPEAKABLE = {"s", "st", "a", "sum", "q", "la", "lf", "em", "hu"}
_COMMAND = re.compile(r"^/([A-Za-z_]+)(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)


@dataclass
class Outcome:
    replies: list[Reply]
    state: State
    parse: Parse | None = None
    forget: bool = False  # the citizen's data was deleted: store nothing more about them
    log_text: str | None = None  # what may be logged of the message (masked)


def outcome(state: State, replies: list[Reply], parse: Parse | None = None,
            log_text: str | None = None) -> Outcome:
    """Replies with the state to keep; the buttons shown become the numbered options."""
    options: list[str] = []
    for r in replies:
        options += [b.payload for b in r.buttons if b.url is None]
    state.options = options
    return Outcome(replies, state, parse=parse, log_text=log_text)


#: A plug-in handler (subscriptions, team tools): returns None when it does not apply.
Handler = Callable[[Incoming, State, Context, str], Awaitable[Outcome | None]]
#: A plug-in that sees every outcome last and may add to it (the offer of a person).
After = Callable[[Incoming, Outcome, Context], Awaitable[Outcome]]


@dataclass
class Assistant:
    """Routes one message. ``plugins`` add commands/payload prefixes (broadcast flows)."""

    commands: dict[str, Handler] = field(default_factory=dict)
    payloads: dict[str, Handler] = field(default_factory=dict)
    text_flows: dict[str, Handler] = field(default_factory=dict)
    intents: dict[str, Handler] = field(default_factory=dict)
    on_follow: Handler | None = None
    on_unfollow: Handler | None = None
    #: See every message first; an outcome stops there (a person took over the chat).
    gates: list[Handler] = field(default_factory=list)
    after: list[After] = field(default_factory=list)

    async def handle(self, msg: Incoming, state: State, ctx: Context) -> Outcome:
        for gate in self.gates:
            gated = await gate(msg, state, ctx, "")
            if gated is not None:
                return gated
        out = await self._route(msg, state, ctx)
        if not out.forget:
            for hook in self.after:
                out = await hook(msg, out, ctx)
        return out

    async def _route(self, msg: Incoming, state: State, ctx: Context) -> Outcome:
        content = ctx.content
        hook = {"follow": self.on_follow, "unfollow": self.on_unfollow}.get(msg.kind)
        if hook is not None:
            hooked = await hook(msg, state, ctx, "")
            if hooked is not None:
                return hooked
        if msg.kind in ("image", "sticker", "voice", "unsupported", "follow", "unfollow"):
            return self._out(state, [Reply(content.text("input.not_text"), main_menu(content),
                                           kind="menu")])

        if msg.button is not None:
            return await self._payload(msg, state, ctx, msg.button)

        raw = msg.text or ""
        if len(raw) > ctx.settings.max_text_chars:
            return self._out(state, [Reply(content.text(
                "input.too_long", limit=ctx.settings.max_text_chars))])
        text = clean_text(raw)
        if not text:
            key = "input.empty" if not raw.strip() else "input.unreadable"
            return self._out(state, [Reply(content.text(key), main_menu(content), kind="menu")])

        m = _NUMBER_CHOICE.match(text)
        if m and state.options:
            n = int(m.group(1))
            if 1 <= n <= len(state.options):
                return await self._payload(msg, state, ctx, state.options[n - 1])

        c = _COMMAND.match(text)
        if c:
            return await self._command(msg, state, ctx, c.group(1).lower(), c.group(2) or "")

        waiting = self.text_flows.get(state.flow or "")
        if waiting is not None:
            out = await waiting(msg, state, ctx, text)
            if out is not None:
                return out

        return await self._free_text(msg, state, ctx, text)

    # ------------------------------------------------------------------ routing

    def _out(self, state: State, replies: list[Reply], parse: Parse | None = None,
             log_text: str | None = None) -> Outcome:
        return outcome(state, replies, parse, log_text)

    async def _command(self, msg: Incoming, state: State, ctx: Context, cmd: str,
                       arg: str) -> Outcome:
        content = ctx.content
        if cmd in ("start", "menu"):
            state.flow = None
            return self._out(state, [Reply(content.text("greeting"), main_menu(content),
                                           kind="menu")], log_text=f"/{cmd}")
        if cmd == "trogiup":
            return self._out(state, [Reply(content.text("help", days=ctx.settings.retention_days),
                                           [button(content.text("menu.human"), "hu"),
                                            menu_button(content)])], log_text="/trogiup")
        if cmd == "xoadulieu":
            return self._out(state, [Reply(content.text("privacy.confirm"), [
                button(content.text("btn.delete_yes"), "del:y"),
                button(content.text("btn.delete_no"), "del:n")])], log_text="/xoadulieu")
        plugin = self.commands.get(cmd)
        if plugin is not None:
            out = await plugin(msg, state, ctx, arg)
            if out is not None:
                return out
        return self._out(state, [Reply(content.text("command.unknown", cmd=cmd),
                                       main_menu(content), kind="menu")], log_text=f"/{cmd}")

    async def _payload(self, msg: Incoming, state: State, ctx: Context, payload: str) -> Outcome:
        content, today = ctx.content, ctx.today
        head, _, rest = payload.partition(":")
        out: Reply | None = None
        if payload == "m":
            state.flow = None
            out = Reply(content.text("menu.title"), main_menu(content), kind="menu")
        elif payload == "svc":
            out = services.group_list(content)
        elif payload == "em":
            out = emergency_reply(content)
        elif payload == "hu":
            out = human_reply(content)
        elif head == "g":
            out = services.services_in_group(content, rest)
        elif head in ("s", "st", "a", "sum"):
            out = self._service_payload(ctx, state, head, rest)
        elif head == "t":
            out = faq.topic_menu(content, rest, today)
        elif head == "c":
            topic, _, category = rest.partition(":")
            out = faq.category_menu(content, topic, category, today)
        elif head == "q":
            out = faq.faq_answer(content, rest, today)
        elif head in ("la", "lf"):
            out = legal_aid.legal_aid_step(content, payload)
        elif head == "f":
            return await self._feedback(msg, state, ctx, rest)
        elif head == "v":
            return await self._voice(state, ctx, rest)
        elif head == "i":
            return await self._intent(msg, state, ctx, rest, None, "")
        elif head == "del":
            return await self._delete(msg, state, ctx, rest == "y")
        else:
            plugin = self.payloads.get(head) or self.payloads.get(payload)
            if plugin is not None:
                res = await plugin(msg, state, ctx, payload)
                if res is not None:
                    return res
        if out is None:
            out = Reply(content.text("button.stale"), main_menu(content), kind="menu")
        return self._out(state, [self._with_voice(ctx, out, payload)], log_text=f"[{payload}]")

    def _with_voice(self, ctx: Context, reply: Reply, ref: str) -> Reply:
        """Add the "🔊 Nghe" button to answers on channels that can play audio."""
        payload = f"v:{ref}"
        speakable = ctx.channel.audio and ctx.speech and reply.speakable
        if not speakable or len(payload.encode()) > 64:
            return reply
        buttons = list(reply.buttons)
        buttons.insert(max(len(buttons) - 1, 0), button(ctx.content.text("btn.listen"), payload))
        return Reply(reply.text, buttons, reply.audio_path, reply.audio_url, reply.speakable,
                     reply.kind)

    def _service_payload(self, ctx: Context, state: State, head: str, rest: str) -> Reply | None:
        content, today = ctx.content, ctx.today
        sid, _, arg = rest.partition(":")
        svc = content.services.get(sid)
        if svc is None:
            return None
        state.service = sid
        state.flow = "service"
        if head == "s":
            return services.service_intro(content, svc, today)
        if head == "st":
            try:
                i = int(arg)
            except ValueError:
                i = 0
            return services.step_reply(content, svc, i, today)
        if head == "sum":
            return services.summary_reply(content, svc, today)
        return services.aspect_reply(content, svc, arg, today)

    async def _feedback(self, msg: Incoming, state: State, ctx: Context, rest: str) -> Outcome:
        sign, _, ref = rest.partition(":")
        value = 1 if sign == "+" else -1
        await ctx.store.add_feedback(msg.channel, msg.user_id, ref[:96], value)
        key = "feedback.thanks_up" if value > 0 else "feedback.thanks_down"
        buttons = [menu_button(ctx.content)]
        if value < 0:
            buttons.insert(0, button(ctx.content.text("menu.human"), "hu"))
        return self._out(state, [Reply(ctx.content.text(key), buttons)], log_text=f"[f:{sign}]")

    async def _voice(self, state: State, ctx: Context, ref: str) -> Outcome:
        """Send the spoken version of an earlier answer (for citizens who read with difficulty)."""
        if ctx.speech is None or ref.partition(":")[0] not in _SPEAKABLE:
            return self._out(state, [Reply(ctx.content.text("voice.unavailable"),
                                           [menu_button(ctx.content)])])
        original = await self._payload(Incoming("internal", "-"), State(), ctx, ref)
        spoken = "\n\n".join(r.text for r in original.replies)
        try:
            path = await ctx.speech.voice(spoken)
        except Exception:  # speech is a convenience: never lose the conversation over it
            log.exception("voice synthesis failed")
            return self._out(state, [Reply(ctx.content.text("voice.unavailable"),
                                           [menu_button(ctx.content)])])
        return self._out(state, [Reply(ctx.content.text("voice.caption"), [], audio_path=path)],
                         log_text=f"[v:{ref}]")

    async def _delete(self, msg: Incoming, state: State, ctx: Context, confirmed: bool) -> Outcome:
        content = ctx.content
        if not confirmed:
            return self._out(state, [Reply(content.text("privacy.kept"), main_menu(content),
                                           kind="menu")])
        counts = await ctx.store.delete_user_data(msg.channel, msg.user_id)
        log.info("deleted data of one %s user: %s", msg.channel, counts)
        return Outcome([Reply(content.text("privacy.deleted"), main_menu(content), kind="menu")],
                       State(), forget=True)

    # --------------------------------------------------------------- free text

    async def _free_text(self, msg: Incoming, state: State, ctx: Context, text: str) -> Outcome:
        parse = await ctx.nlu.aparse(text)
        masked = scrub(text)
        replies: list[Reply] = []
        if parse.intent == "emergency":
            # Danger now: the numbers come first, before anything else is said.
            state.flow = None
            return self._out(state, [emergency_reply(ctx.content)], parse, masked)

        # A question about one aspect of the service the citizen is already looking at.
        current = ctx.content.services.get(state.service or "")
        if parse.aspect and current and (parse.service in (None, current.id)
                                         or parse.decision != "answer"):
            reply = services.aspect_reply(ctx.content, current, parse.aspect, ctx.today)
            ref = f"a:{current.id}:{parse.aspect}"
            return self._out(state, [self._with_voice(ctx, reply, ref)], parse, masked)

        if parse.decision == "answer":
            return await self._intent(msg, state, ctx, parse.intent, parse, masked)

        await ctx.store.log_unanswered(masked, {
            "intent": parse.intent, "label": parse.label,
            "confidence": round(parse.confidence, 3),
            "alternatives": [[a.intent, a.service, round(a.confidence, 3)]
                             for a in parse.alternatives[:3]],
        }, parse.decision)
        if parse.decision == "suggest":
            replies.append(self._suggest(ctx, parse))
        else:
            replies.append(Reply(ctx.content.text("fallback.handover"),
                                 [button(ctx.content.text("menu.human"), "hu"),
                                  *main_menu(ctx.content)[:1], menu_button(ctx.content)]))
        return self._out(state, replies, parse, masked)

    def _suggest(self, ctx: Context, parse: Parse) -> Reply:
        """The three best guesses as buttons, plus the way to a person."""
        content = ctx.content
        buttons: list[Button] = []
        seen: set[str] = set()
        candidates = [(parse.intent, parse.service, parse.label)] + [
            (a.intent, a.service, a.label) for a in parse.alternatives]
        for intent, service, label in candidates:
            b = self._guess_button(ctx, intent, service, label)
            if b is not None and b.payload not in seen:
                seen.add(b.payload)
                buttons.append(b)
            if len(buttons) == 3:
                break
        buttons += [button(content.text("menu.human"), "hu"), menu_button(content)]
        return Reply(content.text("fallback.suggest"), buttons)

    def _guess_button(self, ctx: Context, intent: str, service: str | None,
                      label: str | None) -> Button | None:
        content = ctx.content
        if service and service in content.services:
            return button(short_label(content.services[service].name), f"s:{service}")
        if label and content.faq(label):
            found = content.faq(label)
            assert found is not None
            return button(short_label(found[1].question), f"q:{label}")
        key = f"intent.{intent}"
        if intent in ("out_of_scope",) or key not in content.texts:
            return None
        return button(content.text(key), f"i:{intent}")

    async def _intent(self, msg: Incoming, state: State, ctx: Context, intent: str,
                      parse: Parse | None, masked: str) -> Outcome:
        content, today = ctx.content, ctx.today
        plugin = self.intents.get(intent)
        if plugin is not None:
            out = await plugin(msg, state, ctx, masked)
            if out is not None:
                out.parse = out.parse or parse
                out.log_text = out.log_text or masked
                return out
        reply: Reply
        ref = f"i:{intent}"
        if intent in ("greet", "menu_help"):
            reply = Reply(content.text("greeting"), main_menu(content), kind="menu")
        elif intent == "goodbye":
            reply = Reply(content.text("goodbye"), [menu_button(content)])
        elif intent == "thanks":
            reply = Reply(content.text("thanks"), [menu_button(content)])
        elif intent == "service_list":
            reply = services.group_list(content)
        elif intent == "service_howto":
            svc = content.services.get(parse.service or "") if parse else None
            if svc is None:
                reply = services.group_list(content)
            else:
                state.service, state.flow = svc.id, "service"
                if parse and parse.aspect:
                    reply = services.aspect_reply(content, svc, parse.aspect, today)
                    ref = f"a:{svc.id}:{parse.aspect}"
                else:
                    reply = services.service_intro(content, svc, today)
                    ref = f"s:{svc.id}"
        elif intent == "emergency":
            reply = emergency_reply(content)
        elif intent == "human":
            reply = human_reply(content)
        elif intent in faq.TOPIC_OF_INTENT:
            answer = None
            if parse and parse.faq:
                answer = faq.faq_answer(content, parse.faq, today)
                ref = f"q:{parse.faq}"
            reply = answer or faq.topic_menu(content, faq.TOPIC_OF_INTENT[intent][0], today)
            if answer is None:
                ref = f"t:{faq.TOPIC_OF_INTENT[intent][0]}"
        else:  # out_of_scope, or an intent whose feature is not configured
            reply = Reply(content.text("out_of_scope"), main_menu(content), kind="menu")
        return self._out(state, [self._with_voice(ctx, reply, ref)], parse, masked)
