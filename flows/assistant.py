"""The conversation core: one incoming message in, replies out.

The assistant is channel-neutral and stateless between calls: the caller loads the citizen's
:class:`State` from the database, passes it in, and stores the returned state in the same
transaction. Order of precedence for a text message: danger first, on the whole text before any
length limit (emergency numbers as the very first reply, whatever flow the citizen was in, then
the answer if the message also asked something), then a numbered choice, a command, a typed word
that acts as a shown button ("tiếp", "không"), a flow waiting for typed input, and finally
free-text understanding (with the service being discussed, for follow-ups).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from flows import faq, legal_aid, services
from flows.content import Content, Service
from flows.nav import asks_back, asks_more, asks_next, closes, typed_payload
from flows.ports import Context, State
from flows.safety import (
    Danger,
    clean_text,
    detect_danger,
    emergency_reply,
    human_reply,
    scrub,
    soft_danger_reply,
)
from flows.thread import (
    FollowUp,
    aspect_of_answer,
    back_to,
    best_in_topic,
    child_passport,
    civil_lawyer,
    fine_on_card,
    follow_up,
    linked_service,
    names_service,
    offered,
    offered_entry,
    only_linked_service,
    other_paper_merged,
    owner_refuses,
    related_entry,
    same_words,
    scam_thread_words,
    thread_topic,
    words,
)
from flows.types import Button, Incoming, Reply
from flows.ui import (
    MAX_PAYLOAD_BYTES,
    button,
    main_menu,
    menu_button,
    short_label,
    split_more,
)
from flows.ward import (
    SKIP,
    area_name,
    ask_ward,
    contact_block,
    find_area,
    match_ward,
    ward_buttons,
)
from nlu.rules import VAGUE_KINDS, asks_amount_received, aspect_of, core_norm, vague_paper
from nlu.types import Parse

__all__ = ["RUN_GAP", "After", "Assistant", "Handler", "Outcome", "outcome", "remember"]

log = logging.getLogger(__name__)

#: /dulieucuatoi: tables counted, and the line that says what their rows are.
_MY_DATA_COUNTS = (
    ("message_log", "privacy.mine.messages"),
    ("unanswered", "privacy.mine.unanswered"),
    ("feedback", "privacy.mine.feedback"),
    ("outbox", "privacy.mine.notices"),
    ("handovers", "privacy.mine.handovers"),
    ("handover_messages", "privacy.mine.handover_messages"),
)
_NUMBER_CHOICE = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")
_SPEAKABLE = {"s", "st", "a", "sum", "q", "la", "lf", "em", "hu", "am", "sm", "qm"}
#: A conversation run ends after this long without a message (the disclaimer is shown again).
RUN_GAP = dt.timedelta(hours=6)
_NO_DANGER = Danger("none")
#: Finer labels of the understanding engine that get their own short, honest reply.
OTHER_PROCEDURE, BOT_IDENTITY, INSULT = "other_procedure", "bot_identity", "insult"
#: "mày là người hay máy" is read as "who are you" at this confidence, short of an answer:
#: the reply (an automated assistant, a person by the hotlines) is right even if it is not.
_IDENTITY_LIKELY = 0.5
#: A service named this surely is never taken for a follow-up in a question-and-answer
#: thread ("đăng ký xe máy hết bao nhiêu" after a scam warning); "tôi kết bạn rồi" read as
#: the marriage service (0.82) after the Zalo scam is.
_SURE_OF_SERVICE = 0.9
#: A follow-up's own words read alone this surely as a procedure outside the 53: outside.
_SURE_OUTSIDE = 0.9
#: A message that names a procedure ("thủ tục", folded).
_PROCEDURE = re.compile(r"\bthu tuc\b")
#: Longer messages are questions of their own, not follow-ups to the answer just given.
_FOLLOW_UP_WORDS = 12
#: The national public service portal, whose search finds every procedure.
_PORTAL = "https://dichvucong.gov.vn"
_COMMAND = re.compile(r"^/([A-Za-z_]+)(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)
#: The last typed question (masked) and its label, in the state's data.
_ASKED = "asked"
#: The question-and-answer entry being discussed (and whether its "Xem thêm" was shown), in
#: the state's data: "còn gì nữa", "quay lại" and an answer not understood refer to it.
_FAQ, _FAQ_MORE = "faq", "faq_more"
#: The services discussed lately (ids, newest last), in the state's data.
_SEEN, _SEEN_KEPT = "seen", 5
#: The service whose answer offered other answers under it, and those answers' ids.
_OFFERED = "offered"
#: The emergency numbers just shown first (in the state's data): "tiếp" right after them is
#: the next safe step, not the menu.
_SOS, _SOS_AGAIN = "sos", "sos_again"
#: What to say when calling 113, 114, 115 (free, no area code): the step after the numbers.
_CALLING = "crime-goi-113"
#: A link button among the numbered options ("link:<url>").
_LINK = "link"
#: Intents of talk about the talk: after guesses, an aspect in such words is about them.
_CHATTER = ("menu_help", "greet", "service_list", "goodbye", "thanks")


def _asked_aspect(svc: Service, aspect: str, text: str) -> str:
    """The aspect to answer: "được bao nhiêu một tháng" on a benefit asks the amount paid out,
    which its eligibility states; the fee pattern reads it as a fee ("không thu lệ phí")."""
    if aspect == "fee" and svc.pays_out and asks_amount_received(core_norm(text)):
        return "eligibility"
    return aspect


def _seen(state: State, sid: str) -> None:
    """The services discussed lately, the newest last ("quay lại căn cước" finds one)."""
    seen = [x for x in state.data.get(_SEEN, []) if isinstance(x, str) and x != sid]
    state.data[_SEEN] = [*seen[-(_SEEN_KEPT - 1):], sid]


#: The main-menu doors by their folded words, per loaded content (built once for each).
_DOORS: dict[int, tuple[Content, dict[str, str]]] = {}


def _typed_door(content: Content, text: str) -> str | None:
    """A main-menu door typed as its label ("cảnh báo lừa đảo", "gặp cán bộ"): its payload."""
    if len(text) > 48:
        return None
    known = _DOORS.get(id(content))
    if known is None or known[0] is not content:
        doors = {words(b.label): b.payload for b in main_menu(content)}
        known = _DOORS[id(content)] = (content, doors)
        if len(_DOORS) > 4:  # contents reloaded: keep the newest few
            del _DOORS[next(iter(_DOORS))]
    return known[1].get(words(text))


#: A paper issued abroad, named in a message (folded words): "bằng lái nước ngoài", "bằng lái
#: xe Hàn Quốc", "giấy phép lái xe của Nhật".
_FOREIGN = (r"(nuoc ngoai|han quoc|nhat ban|dai loan|trung quoc|hoa ky|thai lan|campuchia"
            r"|chau au|nhat|my|uc|duc|phap|nga|lao|han)")
_ABROAD = re.compile(rf"\b(bang|giay phep)( lai)?( xe)?( o to| xe may)?( cua| o| tai| do)?"
                     rf" {_FOREIGN}\b|\b{_FOREIGN} cap\b")
#: Papers none of the 53 issues, named in a request to get one ("xin cấp lại bằng tốt nghiệp
#: cấp 3", "xin giấy xác nhận khuyết tật ở đâu"): a school's diploma, a disability
#: certificate. Read alone, the engine names the service whose words they share (the driving
#: licence for "bằng", the monthly allowance that asks for the disability paper).
_PAPER_NOT_OURS = (r"(bang tot nghiep|van bang|bang (dai hoc|cao dang|trung cap|cu nhan|thac si"
                   r"|cap (2|3|ii|iii|hai|ba))|hoc ba|giay xac nhan (muc do )?khuyet tat"
                   r"|xac (nhan|dinh) muc do khuyet tat|the (nguoi )?khuyet tat"
                   # a licence for a gun
                   r"|giay phep (su dung |so huu |mang |giu )?(sung|vu khi)|sung (san|hoi|kip))")
#: Asked for, made again, or lost: the verb just before the paper, or the loss just after it
#: ("cần giấy xác nhận khuyết tật không" for the allowance is a question about its papers).
_OUTSIDE_PAPER = re.compile(
    rf"\b(xin|cap|lam|cap lai|lam lai|cap doi|xin lai|xin cap|xin cap lai)( \w+){{0,2}}"
    rf" {_PAPER_NOT_OURS}\b|\b{_PAPER_NOT_OURS}( \w+){{0,4}} (bi )?(mat|chay|hong|rach)\b"
    # a boat or a fishing ship registered ("đăng ký ghe đánh cá"): not a vehicle of the 53
    r"|\bdang ky (cho )?(ghe|thuyen|tau ca|tau thuyen|xuong may)\b")
#: A certified copy of such a paper is one of the 53 ("chứng thực bản sao bằng tốt nghiệp").
_COPY_OF = re.compile(r"\b(chung thuc|sao y|cong chung|ban sao dien tu)\b")
#: Words of the ward's notices: "đăng ký nhận thông báo" is a subscription, "khi nào đăng ký"
#: on a service card is not.
_NOTICE_WORDS = re.compile(r"\b(thong bao|tin tuc|tin moi|nhan tin|ban tin|loa)\b")
#: What a service says when it is only for papers Vietnam issued (its audience, eligibility).
_VIETNAM_ISSUED = re.compile(r"\bdo viet nam cap\b")
#: A party of another nationality named in a short follow-up ("nếu chồng là người nước ngoài
#: thì sao", "vợ tôi quốc tịch Hàn Quốc"), and the words of a service that covers one.
_FOREIGN_PARTY = re.compile(rf"\b(nguoi|quoc tich|dan|ong|ba|anh|chi|chong|vo)"
                            rf" (nuoc ngoai|ngoai quoc|{_FOREIGN})\b|\bviet kieu\b|\bnguoi tay\b")
_COVERS_FOREIGNER = re.compile(r"\bnguoi nuoc ngoai\b")
#: A procedure asked for a foreigner ("đăng ký tạm trú cho người nước ngoài thuê nhà").
_FOR_FOREIGNER = re.compile(r"\bcho (nguoi|khach|ong|ba|anh|chi|vo|chong|nguoi thue)"
                            r" (nuoc ngoai|ngoai quoc)\b")


def _who_for(svc: Service) -> str:
    """What a service says, folded, about whom it is for (its audience and conditions)."""
    return words(" ".join([svc.audience, *(d.text for d in svc.eligibility)]))


def _foreign_paper(content: Content, parse: Parse) -> bool:
    """Whether the message is about a paper issued abroad while the service it was read as is
    only for papers Vietnam issued (its own words say so)."""
    svc = content.services.get(parse.service or "") if parse.intent == "service_howto" else None
    if svc is None or not _VIETNAM_ISSUED.search(_who_for(svc)):
        return False
    return bool(_ABROAD.search(words(parse.text)))


def _outside_paper(parse: Parse) -> bool:
    """Whether a service answer was read for a request to get a paper none of the 53 issues
    (a diploma, a disability certificate)."""
    if parse.intent != "service_howto" or parse.service is None:
        return False
    said = words(parse.question or parse.text)
    return bool(_OUTSIDE_PAPER.search(said) and not _COPY_OF.search(said))


def _for_foreigner(content: Content, parse: Parse) -> bool:
    """Whether a service the engine named is asked for a foreigner ("đăng ký tạm trú cho người
    nước ngoài thuê nhà") while its own audience and conditions do not cover one: another
    procedure, outside the 53 (the marriage card, which covers a foreign spouse, stays)."""
    svc = content.services.get(parse.service or "") if parse.intent == "service_howto" else None
    if svc is None or not _FOR_FOREIGNER.search(words(parse.text)):
        return False
    return not _COVERS_FOREIGNER.search(_who_for(svc))


def _covers_foreigner(content: Content, sid: str | None, text: str) -> bool | None:
    """A short follow-up that names a party of another nationality on a service card: True
    when the service says, in its own audience or conditions, that it covers one ("kể cả khi
    một bên là người nước ngoài" on the marriage card), False when it does not (a foreign
    tenant on the citizens' temporary residence card); None when no such party is named."""
    svc = content.services.get(sid or "")
    if svc is None or len(text.split()) > _FOLLOW_UP_WORDS \
            or not _FOREIGN_PARTY.search(words(text)):
        return None
    said = _who_for(svc)
    return bool(_COVERS_FOREIGNER.search(said) and not _VIETNAM_ISSUED.search(said))


#: A clause that asks something (folded words).
_ASKS = re.compile(r"\b(o dau|the nao|bao nhieu|bao lau|lam sao|cai gi|gi|khong|ko|nao)$"
                   r"|\b(o dau|the nao|bao nhieu|bao lau|lam sao)\b")
#: A clause this short ("làm sao", "phải làm gì") asks about the danger itself.
_CLAUSE_WORDS = 5


def _asked_clause(text: str) -> str | None:
    """The last clause of a message with danger in it, when it asks something of its own and
    has no danger in it ("..., tôi muốn ly hôn thì nộp đơn ở đâu"); None otherwise."""
    parts = [p.strip() for p in re.split(r"[,;]", text) if p.strip()]
    if len(parts) < 2:
        return None
    last = parts[-1]
    if len(last.split()) < _CLAUSE_WORDS or detect_danger(last).level != "none":
        return None
    return last if _ASKS.search(words(last)) else None


def _guesses(parse: Parse) -> dict[str, object]:
    """What the understanding thought, for the content team's inbox."""
    return {"intent": parse.intent, "label": parse.label,
            "confidence": round(parse.confidence, 3),
            "alternatives": [[a.intent, a.service, round(a.confidence, 3)]
                             for a in parse.alternatives[:3]]}


def _about(ref: str, label: str) -> bool:
    """Whether the answer ``ref`` ("a:cap-ho-chieu:fee", "q:vneid-bi-khoa") is about the
    label the question got ("svc_cap-ho-chieu", "vneid-bi-khoa", "legal_help")."""
    name = label.removeprefix("svc_").rpartition("/")[2]
    parts = ref.split(":")
    return bool(name) and (name in parts[1:] or (parts[0] == "i" and name in parts))


@dataclass
class Outcome:
    replies: list[Reply]
    state: State
    parse: Parse | None = None
    forget: bool = False  # the citizen's data was deleted: store nothing more about them
    log_text: str | None = None  # what may be logged of the message (masked)
    fallback: bool = False  # "not sure what you mean": dropped when danger comes first


def outcome(state: State, replies: list[Reply], parse: Parse | None = None,
            log_text: str | None = None) -> Outcome:
    """Replies with the state to keep; the buttons shown become the numbered options."""
    remember(state, replies)
    return Outcome(replies, state, parse=parse, log_text=log_text)


def remember(state: State, replies: list[Reply]) -> None:
    """The buttons just shown: by number ("2") and by role (typed "tiếp", "không")."""
    options: list[str] = []
    nav: dict[str, str] = {}
    for r in replies:
        for b in r.buttons:
            if b.url is None:
                options.append(b.payload)
                if b.role is not None:
                    nav.setdefault(b.role, b.payload)
            else:
                # A link counts where it is shown: "1" on the "outside the 53" reply is the
                # portal, the first button the citizen sees.
                options.append(f"{_LINK}:{b.url}")
    state.options = options
    state.nav = nav
    # The answers offered under a service's answer stay in mind while that service's answers
    # follow ("nộp ở đâu", then "có được lĩnh hằng tháng không" in the offered one's words).
    cards = {p.split(":")[1] for p in options if p.startswith("st:")}
    shown = offered(options)
    if len(cards) == 1 and shown:
        state.data[_OFFERED] = [*cards, *shown]
    elif len(cards) != 1 or state.data.get(_OFFERED, [None])[0] not in cards:
        state.data.pop(_OFFERED, None)


#: A plug-in handler (subscriptions, team tools): returns None when it does not apply.
Handler = Callable[[Incoming, State, Context, str], Awaitable[Outcome | None]]
#: A plug-in that sees every outcome last and may add to it (the offer of a person).
After = Callable[[Incoming, Outcome, Context], Awaitable[Outcome]]


def _guessed_services(content: Content, options: list[str]) -> list[str]:
    """The services on the buttons just shown: a service's own ("s:"), one aspect of it
    ("a:", the "which procedure's fee?" buttons: "nộp hồ sơ ở đâu" typed next), and the one
    service a question-and-answer guess is linked to ("q:", the age to marry guessed, then
    "đăng ký cần giấy tờ gì" is the marriage registration's papers)."""
    out: list[str] = []
    for p in options:
        head, _, rest = p.partition(":")
        sid = rest.partition(":")[0] if head in ("s", "a") else ""
        if head == "q" and (found := content.faq(rest)) is not None \
                and len(found[1].services) == 1:
            sid = found[1].services[0]
        if sid in content.services and sid not in out:
            out.append(sid)
    return out


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

    def __post_init__(self) -> None:
        self.text_flows.setdefault("ward", self._typed_ward)

    async def handle(self, msg: Incoming, state: State, ctx: Context) -> Outcome:
        for gate in self.gates:
            gated = await gate(msg, state, ctx, "")
            if gated is not None:
                return gated
        # A walkthrough's next step, shown before the message: "tiếp" after the emergency
        # numbers goes on with it.
        resume = state.nav.get("next") or state.nav.get("done")
        out = await self._route(msg, state, ctx)
        first = out.replies[0] if out.replies else None
        again = out.state.data.pop(_SOS_AGAIN, False)  # the step after them, shown once
        if first is not None and first.kind == "emergency" and not again:
            out.state.data[_SOS] = {"numbers": list(first.numbers), "resume": resume}
        else:
            out.state.data.pop(_SOS, None)
        if not out.forget:
            for hook in self.after:
                out = await hook(msg, out, ctx)
        return out

    async def _route(self, msg: Incoming, state: State, ctx: Context) -> Outcome:
        content = ctx.content
        self._tick(state, ctx)
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
        text = clean_text(raw)
        # Danger is looked for in the whole text first, whatever its length or the flow.
        danger = detect_danger(text) if text else _NO_DANGER
        if len(raw) > ctx.settings.max_text_chars:
            replies = [Reply(content.text("input.too_long", limit=ctx.settings.max_text_chars))]
            if danger.level == "now":
                replies.insert(0, emergency_reply(content, danger.numbers, alone=False))
            return Outcome(replies, state)  # the buttons shown before still work
        if not text:
            key = "input.empty" if not raw.strip() else "input.unreadable"
            return self._out(state, [Reply(content.text(key), main_menu(content), kind="menu")])
        return self._guard(ctx, await self._text(msg, state, ctx, text, danger), danger)

    def _tick(self, state: State, ctx: Context) -> None:
        """Start a new conversation run after a long silence (once-per-run notes again)."""
        now = ctx.now or dt.datetime.now(dt.UTC)
        if state.run_started is None or state.last_at is None or now - state.last_at > RUN_GAP:
            self._new_run(state, now)
        state.last_at = now

    @staticmethod
    def _new_run(state: State, now: dt.datetime) -> None:
        state.run_started = now
        state.shown = []

    @staticmethod
    def _once(state: State, key: str) -> bool:
        """True the first time ``key`` is asked for in this conversation run."""
        if key in state.shown:
            return False
        state.shown.append(key)
        return True

    def _guard(self, ctx: Context, out: Outcome, danger: Danger) -> Outcome:
        """Danger now: the emergency numbers are the first reply, then the answer if the
        message also asked something. A doubtful signal: one short line of numbers at the end.
        """
        if danger.level == "now":
            rest = [] if out.fallback else [r for r in out.replies if r.kind != "emergency"]
            out.replies = [emergency_reply(ctx.content, danger.numbers, alone=not rest), *rest]
            if not out.forget:
                remember(out.state, out.replies)
        elif (danger.level == "soft" or danger.hunch) and out.replies and all(
                r.kind != "emergency" and r.text != ctx.content.text("emergency.soft")
                for r in out.replies):
            # (The second net's hunch: the same line, the message routed as calm.)
            out.replies = [*out.replies, soft_danger_reply(ctx.content, danger.numbers)]
        return out

    async def _text(self, msg: Incoming, state: State, ctx: Context, text: str,
                    danger: Danger) -> Outcome:
        """A typed message: a numbered choice, a command, a word that acts as a button, a flow
        waiting for typed input, or free text for the understanding engine."""
        waiting = self.text_flows.get(state.flow or "")
        m = _NUMBER_CHOICE.match(text)
        if m and state.options:
            n = int(m.group(1))
            if 1 <= n <= len(state.options):
                return await self._payload(msg, state, ctx, state.options[n - 1])
            if waiting is None:
                key = "choice.range" if len(state.options) > 1 else "choice.only_one"
                return Outcome([Reply(ctx.content.text(key, n=len(state.options)))], state,
                               log_text=text)

        c = _COMMAND.match(text)
        if c:
            return await self._command(msg, state, ctx, c.group(1).lower(), c.group(2) or "")

        if waiting is None or state.flow == "ward":
            typed = typed_payload(text, state.nav)
            if typed is not None:
                return await self._payload(msg, state, ctx, typed)

        if waiting is not None:
            out = await waiting(msg, state, ctx, text)
            if out is not None:
                return out
        elif danger.level == "none":
            door = _typed_door(ctx.content, text)
            if door is not None:
                return await self._payload(msg, state, ctx, door)
            out = await self._thread_word(msg, state, ctx, text)
            if out is not None:
                return out

        return await self._free_text(msg, state, ctx, text, danger)

    async def _thread_word(self, msg: Incoming, state: State, ctx: Context,
                           text: str) -> Outcome | None:
        """Short words about the thread when no button of their role is shown: "tiếp" on a
        service card starts its walkthrough, "quay lại" goes back to what was discussed,
        "còn gì nữa" asks for more of the answer just given, "ok" / "không cần nữa" closes
        politely (never a guess, never "out of scope")."""
        content = ctx.content
        faq_id = str(state.data.get(_FAQ) or "")
        found = content.faq(faq_id) if faq_id else None
        if asks_back(text):
            if found is not None:
                payload = f"t:{found[0].topic}"
            elif state.service in content.services:
                payload = f"s:{state.service}"
            else:
                payload = "m"
            return await self._payload(msg, state, ctx, payload)
        start = f"st:{state.service}:0"
        if asks_next(text):
            if start in state.options:
                return await self._payload(msg, state, ctx, start)  # "tiếp" on a card: step 1
            sos = state.data.get(_SOS)
            sos = sos if isinstance(sos, dict) else {}
            if isinstance(sos.get("resume"), str):
                # The emergency numbers came in the middle of a walkthrough: go on with it.
                return await self._payload(msg, state, ctx, str(sos["resume"]))
            calling = self._faq(ctx, state, _CALLING) if sos else None
            if calling is not None:
                # Right after the emergency numbers: the numbers again, then what to say
                # when calling (never the menu, as if nothing had happened).
                shown = sos.get("numbers")
                numbers = tuple(str(n) for n in shown) if isinstance(shown, list) else ()
                sos_reply = (emergency_reply(content, numbers, alone=False) if numbers
                             else emergency_reply(content, alone=False))
                state.data[_SOS_AGAIN] = True
                return self._out(state, [sos_reply, self._with_voice(ctx, calling,
                                                                     f"q:{_CALLING}")],
                                 log_text=text)
            return await self._payload(msg, state, ctx, "m")  # nothing to go on with: menu
        if found is not None and asks_more(text):
            # More of the answer when it has more to say (not only its legal basis), once;
            # then the topic's other questions.
            entry = found[1]
            has_more = bool(split_more(entry.answer)[1] or entry.more.strip() or entry.steps)
            shown_more = state.data.get(_FAQ_MORE) == faq_id
            payload = f"qm:{faq_id}" if has_more and not shown_more else f"t:{found[0].topic}"
            return await self._payload(msg, state, ctx, payload)
        closing = closes(text)
        if closing is not None:
            state.data.pop(_ASKED, None)
            return self._out(state, [Reply(content.text(closing), [menu_button(content)])],
                             log_text=text)
        return None

    # ------------------------------------------------------------------ routing

    def _out(self, state: State, replies: list[Reply], parse: Parse | None = None,
             log_text: str | None = None) -> Outcome:
        return outcome(state, replies, parse, log_text)

    async def _command(self, msg: Incoming, state: State, ctx: Context, cmd: str,
                       arg: str) -> Outcome:
        content = ctx.content
        if cmd == "start":
            # A new conversation: greet, and show the once-per-conversation notes again.
            state.flow = None
            self._new_run(state, ctx.now or dt.datetime.now(dt.UTC))
            return self._out(state, [Reply(content.text("greeting"), main_menu(content),
                                           kind="menu")], log_text="/start")
        if cmd == "menu":
            state.flow = None
            return self._out(state, [Reply(content.text("menu.title"), main_menu(content),
                                           kind="menu")], log_text="/menu")
        if cmd == "trogiup":
            return self._out(state, [Reply(content.text("help", days=ctx.settings.retention_days),
                                           [button(content.text("menu.human"), "hu"),
                                            menu_button(content)])], log_text="/trogiup")
        if cmd == "xoadulieu":
            return self._out(state, [self._delete_confirm(ctx)], log_text="/xoadulieu")
        if cmd == "dulieucuatoi":
            return self._out(state, [await self._my_data(msg, state, ctx)],
                             log_text="/dulieucuatoi")
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
            return await self._human(msg, state, ctx)
        elif head == "w":
            return await self._ward_chosen(msg, state, ctx, rest)
        elif head == "g":
            out = services.services_in_group(content, rest)
        elif head in ("s", "st", "a", "sum", "am", "sm"):
            out = self._service_payload(ctx, state, head, rest)
        elif head == "t":
            out = faq.topic_menu(content, rest, today)
        elif head == "c":
            topic, _, category = rest.partition(":")
            out = faq.category_menu(content, topic, category, today)
        elif head in ("q", "qm"):
            out = self._faq(ctx, state, rest, more=head == "qm")
        elif head in ("la", "lf"):
            out = legal_aid.legal_aid_step(content, payload)
        elif head == "f":
            return await self._feedback(msg, state, ctx, rest)
        elif head == "v":
            return await self._voice(state, ctx, rest)
        elif head == _LINK and rest.startswith("https://"):
            # A link picked by its number: the link again, to open.
            out = Reply(f"🔗 {rest}", [Button(short_label(rest), "link", url=rest),
                                      menu_button(content)])
        elif head == "i":
            return await self._intent(msg, state, ctx, rest, None, "")
        elif payload == "del:?":
            return self._out(state, [self._delete_confirm(ctx)], log_text="[del:?]")
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

    def _faq(self, ctx: Context, state: State, faq_id: str, *, more: bool = False
             ) -> Reply | None:
        """A FAQ answer; its topic's disclaimer only the first time in a conversation run."""
        found = ctx.content.faq(faq_id)
        if found is None:
            return None
        state.data[_FAQ] = faq_id
        if more:
            state.data[_FAQ_MORE] = faq_id
        disclaimer = not more and self._once(state, f"disclaimer:{found[0].topic}")
        return faq.faq_answer(ctx.content, faq_id, ctx.today, disclaimer=disclaimer, more=more)

    def _with_voice(self, ctx: Context, reply: Reply, ref: str) -> Reply:
        """Add the "🔊 Nghe" button to answers on channels that can play audio."""
        payload = f"v:{ref}"
        speakable = ctx.channel.audio and ctx.speech and reply.speakable
        if not speakable or len(payload.encode()) > 64:
            return reply
        buttons = list(reply.buttons)
        buttons.insert(max(len(buttons) - 1, 0), button(ctx.content.text("btn.listen"), payload))
        return replace(reply, buttons=buttons)

    def _service_payload(self, ctx: Context, state: State, head: str, rest: str) -> Reply | None:
        content, today = ctx.content, ctx.today
        sid, _, arg = rest.partition(":")
        svc = content.services.get(sid)
        if svc is None:
            return None
        state.service = sid
        state.flow = "service"
        _seen(state, sid)
        state.data.pop(_FAQ, None)
        if head == "s":
            return services.service_intro(content, svc, today)
        if head == "st":
            try:
                i = int(arg)
            except ValueError:
                i = 0
            return services.step_reply(content, svc, i, today)
        if head in ("sum", "sm"):
            return services.summary_reply(content, svc, today, more=head == "sm")
        return self._aspect(ctx, state, svc.id, arg, more=head == "am")

    def _aspect(self, ctx: Context, state: State, sid: str, aspect: str, *,
                more: bool = False) -> Reply:
        """One aspect of a service; "where" also names the citizen's ward office (or offers
        to pick the ward, once)."""
        svc = ctx.content.services[sid]
        if aspect != "where":
            return services.aspect_reply(ctx.content, svc, aspect, ctx.today, more=more)
        local, buttons, numbers = self._local_office(ctx, state, f"a:{sid}:where")
        reply = services.aspect_reply(ctx.content, svc, aspect, ctx.today, local=local,
                                      local_buttons=buttons, more=more)
        return replace(reply, numbers=tuple(numbers))

    def _local_office(self, ctx: Context, state: State, then: str
                      ) -> tuple[str, list[Button], list[str]]:
        """The citizen's ward one-stop office for "where" answers; or, while the ward is not
        known, a line and buttons to pick it."""
        areas = ctx.settings.areas
        code = state.ward or (areas[0][0] if len(areas) == 1 else None)
        area = find_area(ctx.content, code)
        if area is not None and area.one_stop is not None:
            header = ctx.content.text("where.in_person", ward=area.name)
            block, numbers = contact_block(ctx.content, area, police=False, header=header)
            return block, [], numbers
        if code is None and len(areas) > 1:
            return ctx.content.text("where.pick_ward"), ward_buttons(ctx, then), []
        return "", [], []

    # ------------------------------------------------------------------ a person, the ward

    async def _human(self, msg: Incoming, state: State, ctx: Context, note: str = "") -> Outcome:
        """"Gặp cán bộ": the ward's one-stop office and police first, then the hotlines.

        The ward is asked once (pre-filled from the notice subscription when it names one
        area) and kept in the conversation state.
        """
        content = ctx.content
        codes = [c for c, _ in ctx.settings.areas]
        if state.ward is None and codes:
            subscribed = [c for c in await ctx.store.subscription_areas(msg.channel, msg.user_id)
                          if c in codes]
            if len(codes) == 1 or len(subscribed) == 1:
                state.ward = codes[0] if len(codes) == 1 else subscribed[0]
                if len(codes) > 1:
                    note = content.text("ward.prefilled", ward=area_name(ctx, state.ward))
            elif self._once(state, "ask:ward"):
                state.flow = "ward"
                state.data["ward_then"] = "hu"
                return self._out(state, [ask_ward(ctx, "hu", subscribed)], log_text="[hu]")
        reply = human_reply(content, find_area(content, state.ward), note)
        if state.ward is None and len(codes) > 1:
            reply = replace(reply, buttons=[button(content.text("btn.pick_ward"), "w:?:hu"),
                                            *reply.buttons])
        return self._out(state, [self._with_voice(ctx, reply, "hu")], log_text="[hu]")

    async def _ward_chosen(self, msg: Incoming, state: State, ctx: Context,
                           rest: str) -> Outcome:
        """``w:<code>:<then>``: remember the ward ("-": not saying; "?": ask again), then
        show what was asked for."""
        code, _, then = rest.partition(":")
        then = then or "hu"
        if code == "?":
            state.flow = "ward"
            state.data["ward_then"] = then
            return self._out(state, [ask_ward(ctx, then)], log_text="[w:?]")
        if state.flow == "ward":
            state.flow = None
        state.data.pop("ward_then", None)
        if code in dict(ctx.settings.areas):
            state.ward = code
        elif code != SKIP:
            return self._out(state, [Reply(ctx.content.text("button.stale"),
                                           main_menu(ctx.content), kind="menu")])
        if then == "hu" or then.partition(":")[0] in ("w", "f", "del", "v"):
            return await self._human(msg, state, ctx)
        return await self._payload(msg, state, ctx, then)

    async def _typed_ward(self, msg: Incoming, state: State, ctx: Context,
                          text: str) -> Outcome | None:
        """The ward typed as an answer ("Trần Lãm", "p vu phuc"); anything else is a new
        question."""
        code = match_ward(ctx, text)
        then = str(state.data.get("ward_then") or "hu")
        if code is None:
            state.flow = None
            state.data.pop("ward_then", None)
            return None
        return await self._ward_chosen(msg, state, ctx, f"{code}:{then}")

    async def _feedback(self, msg: Incoming, state: State, ctx: Context, rest: str) -> Outcome:
        sign, _, ref = rest.partition(":")
        value = 1 if sign == "+" else -1
        # The question this answer was given to (masked as logged) and the label the
        # understanding chose, when the answer is about what was asked.
        asked = state.data.get(_ASKED)
        question = label = None
        if isinstance(asked, dict) and (ref == asked.get("ref")
                                        or _about(ref, str(asked.get("label") or ""))):
            question, label = asked.get("q"), asked.get("label")
        await ctx.store.add_feedback(msg.channel, msg.user_id, ref[:96], value,
                                     question=question, label=label)
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
        # A copy of the state, so the spoken answer names the same ward; nothing is kept.
        copy = State.from_json(state.to_json())
        original = await self._payload(Incoming("internal", "-"), copy, ctx, ref)
        spoken = "\n\n".join(r.text for r in original.replies)
        try:
            path = await ctx.speech.voice(spoken)
        except Exception:  # speech is a convenience: never lose the conversation over it
            log.exception("voice synthesis failed")
            return self._out(state, [Reply(ctx.content.text("voice.unavailable"),
                                           [menu_button(ctx.content)])])
        return self._out(state, [Reply(ctx.content.text("voice.caption"), [], audio_path=path)],
                         log_text=f"[v:{ref}]")

    def _delete_confirm(self, ctx: Context) -> Reply:
        content = ctx.content
        return Reply(content.text("privacy.confirm"), [
            button(content.text("btn.delete_yes"), "del:y"),
            button(content.text("btn.delete_no"), "del:n")])

    async def _my_data(self, msg: Incoming, state: State, ctx: Context) -> Reply:
        """/dulieucuatoi: what is stored about the citizen, in plain words, and how to delete
        it (the personal data law's right to know)."""
        t = ctx.content.text
        counts = await ctx.store.user_data(msg.channel, msg.user_id)
        items: list[str] = []
        for table, key in _MY_DATA_COUNTS:
            if counts.get(table):
                items.append(t(key, n=counts[table]))
        areas = await ctx.store.subscription_areas(msg.channel, msg.user_id)
        if areas:
            names = ", ".join(name for code, name in ctx.settings.areas if code in areas)
            items.append(t("privacy.mine.subscription", areas=names or ", ".join(areas)))
        if state.ward:
            ward = next((name for code, name in ctx.settings.areas if code == state.ward),
                        state.ward)
            items.append(t("privacy.mine.ward", ward=ward))
        if counts.get("team_members") or counts.get("console_links"):
            items.append(t("privacy.mine.team"))
        if not items and not counts.get("users") and not counts.get("conversations"):
            return Reply(t("privacy.mine_none"), [menu_button(ctx.content)])
        recent = await ctx.store.recent_questions(msg.channel, msg.user_id)
        text = t("privacy.mine", items="\n".join([t("privacy.mine.account"), *items]),
                 days=ctx.settings.retention_days)
        if recent:
            text += "\n\n" + t("privacy.mine.recent", lines="\n".join(
                "• " + short_label(q, 80) for q in recent))
        return Reply(text, [button(t("btn.delete_ask"), "del:?"), menu_button(ctx.content)])

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

    async def _free_text(self, msg: Incoming, state: State, ctx: Context, text: str,
                         danger: Danger = _NO_DANGER) -> Outcome:
        # The service being discussed lets a short follow-up ("mất bao lâu", "ở đâu") be
        # read as a question about it; not once a question-and-answer came after it (a
        # VNeID password answer, then "mất bao lâu", is not about the passport seen before).
        current = None if state.data.get(_FAQ) else state.service
        parse = await ctx.nlu.aparse(text, current_service=current)
        masked = scrub(text)
        before = state.data.get(_ASKED)
        # Kept until the next question, so a 👎 on its answer can say what was asked.
        state.data[_ASKED] = {"q": masked, "label": parse.label or parse.intent}
        if parse.intent == "emergency":
            # Danger now: the numbers come first, before anything else is said.
            state.flow = None
            numbers = parse.numbers or danger.numbers
            answer = await self._asked_too(msg, state, ctx, parse, masked)
            if answer is not None:
                answer.replies = [emergency_reply(ctx.content, numbers, alone=False),
                                  *answer.replies]
                remember(state, answer.replies)
                return answer
            return self._out(state, [emergency_reply(ctx.content, numbers)], parse, masked)
        back = back_to(ctx.content, text, list(state.data.get(_SEEN) or []), state.service,
                       parse.service)
        if back is None and danger.level == "none" and parse.danger != "now" \
                and (parse.aspect or aspect_of(core_norm(text))):
            # "làm sang tên hết mấy tiền" after the answer on the transfer's deadline: the
            # service that answer is linked to, named by the message.
            faq_now = str(state.data.get(_FAQ) or "") or None
            back = linked_service(ctx.content, faq_now, text, parse.service)
            if back is None:
                # "hết bao nhiêu tiền" after an answer linked to one service only, which
                # does not state it: that aspect of that service.
                asked = parse.aspect or aspect_of(core_norm(text))
                back = only_linked_service(ctx.content, faq_now, text, parse.service, asked)
                if back is not None and faq_now is not None:
                    parse = replace(parse, aspect=asked)
                    # The answer stays in mind under the service's answers, as one offered
                    # under its card ("bé không có căn cước thì sao" in its own words next).
                    state.data[_OFFERED] = [back, faq_now]
        if back is not None and danger.level == "none":
            # "quay lại căn cước": the service seen before that the message names.
            parse = replace(parse, intent="service_howto", service=back, label=f"svc_{back}",
                            faq=None, decision="answer", confidence=max(parse.confidence, 0.9))
            state.data.pop(_FAQ, None)
        asked_before = str(before.get("q") or "") if isinstance(before, dict) else ""
        thread = None if back is not None else (
            self._card_follow_up(ctx, state, text, parse, danger)
            or self._thread_follow_up(ctx, state, text, parse, danger, asked_before))
        if thread is None and back is None and parse.decision == "answer":
            thread = civil_lawyer(ctx.content, parse.faq, text)
        if thread is None and back is None and self._unsure_way_out(ctx, state, text, parse,
                                                                   danger):
            parse = replace(parse, decision="suggest")
        gap = None if thread is not None or back is not None or danger.level != "none" \
            else self._not_in_answer(ctx, state, text, parse)
        if gap is not None:
            out = self._out(state, [gap], parse, masked)
        elif thread is not None:
            out = self._follow_up(ctx, state, thread, parse, masked)
        else:
            out = await self._understood(msg, state, ctx, parse, masked)
        if parse.danger == "soft" and danger.level == "none" and not danger.calmed \
                and not out.fallback:
            # The model smells danger the rules did not see: say where help is, briefly. Not
            # when the rules saw the danger words and found them calm ("cháy hàng", a drill,
            # a past fire's paperwork): the model's hunch comes from those same words.
            out.replies = [*out.replies, soft_danger_reply(ctx.content, parse.numbers
                                                           or danger.numbers)]
        return out

    @staticmethod
    def _card_follow_up(ctx: Context, state: State, text: str, parse: Parse,
                        danger: Danger) -> FollowUp | None:
        """A question whose answer is a question-and-answer entry next to a service: another
        paper after the merger answer, a passport for a young child, a fine asked on a
        service's card (or in the question that opens it), or a short follow-up in the words
        of the entry offered under the card. None with danger in the message, or when it
        names another service than the card's."""
        if danger.level != "none" or parse.danger == "now":
            return None
        content = ctx.content
        current = str(state.data.get(_FAQ) or "") or None
        found = other_paper_merged(current, text)
        if found is not None:
            return found
        found = child_passport(content, parse.service,
                               [a.service for a in parse.alternatives if a.service], text)
        if found is not None:
            return found
        card = None if current else state.service
        if current is not None:
            return fine_on_card(content, None, [], text, current)
        if card is None:
            if parse.intent == "service_howto" and parse.decision == "answer":
                return (fine_on_card(content, parse.service, [], text)
                        or owner_refuses(content, parse.service, text))
            return None
        if parse.service not in (None, card) and parse.decision == "answer" \
                and names_service(content, parse.service, text):
            return None  # "còn đăng ký xe máy thì sao": another service, named
        kept = state.data.get(_OFFERED) or []
        shown = list(kept[1:]) if kept and kept[0] == card else []
        found = fine_on_card(content, card, shown, text)
        if found is None and (parse.service != card or parse.decision != "answer"):
            # Read as another service, or not sure: the answer offered under the card, when
            # the message is in its words.
            found = offered_entry(content, card, shown, text)
        return found

    @staticmethod
    def _thread_follow_up(ctx: Context, state: State, text: str, parse: Parse,
                          danger: Danger, before: str) -> FollowUp | None:
        """A short follow-up in a question-and-answer thread that the engine, reading it
        alone, cannot place ("tôi lỡ bấm vào rồi" after a scam warning); not when the message
        clearly asks about a service, nor with danger in it."""
        if danger.level != "none" or parse.danger == "now":
            return None
        content = ctx.content
        current = str(state.data.get(_FAQ) or "") or None
        topic = thread_topic(content, current, state.options)
        if (parse.intent == "service_howto" and parse.decision == "answer"
                and parse.confidence >= _SURE_OF_SERVICE
                and not (topic == "scam" and scam_thread_words(text))):
            # A clear service question changes the subject; "tôi kết bạn rồi" or "thế báo ở
            # đâu" after a scam warning does not, however sure the engine is of a service.
            return None
        found = follow_up(content, text, topic=topic, current=current,
                          understood_faq=parse.faq, understood_intent=parse.intent,
                          before=before, service=state.service)
        guess = content.faq(parse.faq) if parse.faq else None
        if (found is None and current is None and state.service and guess is not None
                and parse.decision == "suggest" and len(text.split()) <= _FOLLOW_UP_WORDS
                and state.service in guess[1].services):
            # Only a guess alone, at an answer about the service card being seen ("công an
            # có đến nhà làm không" on the ID card: the card made at home for the bedridden).
            return FollowUp(guess[1].id, "a guess about the service being seen")
        if found is not None or topic is None or len(text.split()) > _FOLLOW_UP_WORDS:
            return found
        if (parse.decision == "suggest" and guess is not None and guess[0].topic == topic
                and same_words(content, guess[1].id, text)):
            # Only a guess alone, but in the topic being discussed and in the entry's own
            # words: the thread makes it sure ("ai được nuôi con" after the divorce answer).
            return FollowUp(guess[1].id, "a guess in the thread's topic")
        if parse.decision != "answer":
            # Not sure of anything, but in the words of one entry of the topic discussed
            # ("mua máy mới thì đăng nhập lại thế nào" after the lost phone; read alone, the
            # engine half thinks of a new motorbike).
            best = best_in_topic(content, topic, text, current)
            if best is not None:
                return FollowUp(best, "the thread's topic, in an entry's own words")
            if (current is not None and same_words(content, current, text)
                    and aspect_of(core_norm(text)) != "steps"):
                # In the words of the answer just given ("có bị lộ tên không" after the
                # answer on reporting anonymously): that answer, its rest when it has one;
                # not a how-to ("làm trên vneid thế nào" is no question about anonymity).
                entry = content.faq(current)
                more = entry is not None and bool(entry[1].more.strip() or entry[1].steps)
                return FollowUp(current, "the current answer's own words", more=more)
        # Read as another topic (a guess at one of its entries, or its intent alone: "gọi có
        # mất tiền không" after the VNeID hotline, read as a scam call).
        other_topic = (guess[0].topic != topic if guess is not None else
                       parse.service is None and any(
                           t.intent == parse.intent and t.topic != topic
                           for t in content.faqs.values()))
        elsewhere = other_topic and len(text.split()) <= 6
        if current is not None and parse.service is None and (
                parse.decision != "answer" or elsewhere):
            # "có mất tiền không", "mang gì đi" right after an answer that says so (also when
            # the engine, reading "gọi có mất tiền không" alone, thinks of a scam call).
            return aspect_of_answer(content, current, parse.aspect or aspect_of(core_norm(text)))
        return None

    @staticmethod
    def _not_in_answer(ctx: Context, state: State, text: str, parse: Parse) -> Reply | None:
        """A short question about the fee, the time or the papers right after a FAQ answer
        that says nothing of it ("bao lâu thì mở" after the locked-account answer, "lệ phí
        bao nhiêu" after the VNeID sign-up): said honestly, with that answer and a person one
        tap away, instead of the topic's menu or "chưa hiểu"."""
        current = str(state.data.get(_FAQ) or "") or None
        found = ctx.content.faq(current) if current else None
        if found is None or len(text.split()) > 6:
            return None
        if parse.decision == "answer" and (parse.faq is not None or parse.service is not None):
            return None  # the engine knows an entry or a service that answers it
        if (parse.service is not None and parse.decision != "handover"
                and names_service(ctx.content, parse.service, text)):
            return None  # a guess at a service the message names (not a guess too weak to
            # offer: "lệ phí bao nhiêu" shares "lệ phí" with the university admission's aliases)
        aspect = aspect_of(core_norm(text))
        if aspect not in ("fee", "duration", "documents"):
            return None
        if aspect_of_answer(ctx.content, found[1].id, aspect) is not None:
            return None  # the answer does speak of it: the thread rules give it again
        content = ctx.content
        return Reply(content.text("thread.not_covered",
                                  aspect=content.text(f"aspect.{aspect}").lower(),
                                  question=short_label(found[1].question, 80)),
                     [button(short_label(found[1].question, 48), f"q:{found[1].id}"),
                      button(content.text("menu.human"), "hu"), menu_button(content)])

    @staticmethod
    def _unsure_way_out(ctx: Context, state: State, text: str, parse: Parse,
                        danger: Danger) -> bool:
        """A short message in a question-and-answer thread that the engine, not sure, reads
        as a service the message does not name ("con tôi 5 tuổi thì sao" after the divorce
        answers: the card for children under 6 at 0.62): offered as a guess, not answered as
        a change of subject."""
        current = str(state.data.get(_FAQ) or "") or None
        if not (danger.level == "none" and current is not None
                and thread_topic(ctx.content, current, state.options) is not None
                and parse.decision == "answer" and parse.confidence < _SURE_OF_SERVICE
                and len(text.split()) <= _FOLLOW_UP_WORDS):
            return False
        if parse.intent == "service_howto" and parse.service is not None:
            return not names_service(ctx.content, parse.service, text)
        # Likewise another entry whose questions the message shares no words with ("con tôi 5
        # tuổi thì sao" after the custody answer, read as the marriage-age entry).
        return (parse.service is None and parse.faq is not None and parse.faq != current
                and not same_words(ctx.content, parse.faq, text))

    def _follow_up(self, ctx: Context, state: State, thread: FollowUp, parse: Parse,
                   masked: str) -> Outcome:
        """The thread's answer: the entry the follow-up asks about (the rest of it when that
        is the answer just given and it has more to say)."""
        found = ctx.content.faq(thread.faq)
        assert found is not None  # follow_up() only names entries of the content
        entry = found[1]
        has_more = bool(split_more(entry.answer)[1] or entry.more.strip() or entry.steps)
        more = (has_more and thread.more if thread.more is not None
                else state.data.get(_FAQ) == entry.id and has_more
                and state.data.get(_FAQ_MORE) != entry.id)
        reply = self._faq(ctx, state, entry.id, more=more)
        assert reply is not None
        ref = f"{'qm' if more else 'q'}:{entry.id}"
        log.debug("thread follow-up (%s): %s", thread.rule, ref)
        reply = self._flaggable(ctx, state, reply, ref)
        # What was answered, for the message log and the "missed twice" count.
        answered = replace(parse, intent=found[0].intent, label=entry.id, faq=entry.id,
                           service=None, aspect=None, decision="answer")
        return self._out(state, [self._with_voice(ctx, reply, ref)], answered, masked)

    async def _asked_too(self, msg: Incoming, state: State, ctx: Context, parse: Parse,
                         masked: str) -> Outcome | None:
        """A story with danger in it that ends with a question ("... chân chảy máu nhiều.
        Xin hỏi tích hợp thẻ BHYT vào VNeID thế nào?"): the answer to that question, which
        follows the emergency numbers; None when the question is the danger itself."""
        question = parse.question
        if not question or question.strip() == parse.text.strip():
            # "chồng tôi đang đánh tôi, tôi muốn ly hôn thì nộp đơn ở đâu": one sentence, its
            # last clause a question of its own, without the danger.
            question = _asked_clause(parse.text)
            if question is None:
                return None
        sub = await ctx.nlu.aparse(question, current_service=state.service)
        if sub.intent == "emergency" or sub.danger == "now" or sub.decision != "answer" \
                or sub.intent == "out_of_scope":
            return None
        out = await self._understood(msg, state, ctx, sub, masked)
        return None if out.fallback else out

    async def _understood(self, msg: Incoming, state: State, ctx: Context, parse: Parse,
                          masked: str) -> Outcome:
        """The answer to what the engine understood (or its best guesses)."""
        replies: list[Reply] = []

        paper = self._which_paper(ctx, parse)
        if paper is not None:
            # "làm lại giấy tờ bị mất": which paper? Never one picked for the citizen.
            await ctx.store.log_unanswered(masked, _guesses(parse), "suggest",
                                           channel=msg.channel, user_id=msg.user_id)
            out = self._out(state, [paper], parse, masked)
            out.fallback = True
            return out

        if parse.follow_up and any(a.label == OTHER_PROCEDURE and a.confidence >= _SURE_OUTSIDE
                                   for a in parse.alternatives):
            # "còn đăng ký bảo hộ nhãn hiệu thì sao" on the passport card: the form of a
            # follow-up, but its own words name a procedure outside the 53 (read alone).
            parse = replace(parse, intent="out_of_scope", service=None, label=OTHER_PROCEDURE,
                            aspect=None, follow_up=False)
        if (parse.intent == "out_of_scope" and parse.label in (None, "out_of_scope")
                and parse.decision == "answer" and _PROCEDURE.search(words(parse.text))):
            # "thủ tục xin học bổng cho con học đại học ở đâu": the engine finds nothing of
            # ours, but the message names a procedure: it is outside the 53, said so with the
            # portal's search and the ward's office, not the generic "not what I do" menu.
            parse = replace(parse, label=OTHER_PROCEDURE, service=None, aspect=None,
                            follow_up=False)
        if (_foreign_paper(ctx.content, parse) or _for_foreigner(ctx.content, parse)
                or _outside_paper(parse)):
            # "đổi bằng lái Hàn Quốc sang bằng Việt Nam": the service is for papers Vietnam
            # issued; one issued abroad is another procedure, outside the 53. Likewise the
            # citizens' temporary residence asked "cho người nước ngoài", and a paper none of
            # the 53 issues (a diploma, a disability certificate).
            await ctx.store.log_unanswered(masked, _guesses(parse), "out_of_scope",
                                           channel=msg.channel, user_id=msg.user_id)
            return self._out(state, [self._outside(ctx, state, parse)], parse, masked)

        card = None if state.data.get(_FAQ) else state.service
        # An unsure engine's guess of another service (a follow-up read alone) does not hide
        # the card's own answer about a foreign party.
        covers = (_covers_foreigner(ctx.content, card, parse.text)
                  if card and (parse.service in (None, card) or parse.decision != "answer")
                  else None)
        if covers is False and (parse.decision != "answer" or parse.label == OTHER_PROCEDURE):
            # "nếu người thuê là người nước ngoài thì sao" on the citizens' temporary residence
            # card, the engine unsure: a foreigner's case is another procedure, outside the 53.
            await ctx.store.log_unanswered(masked, _guesses(parse), "out_of_scope",
                                           channel=msg.channel, user_id=msg.user_id)
            return self._out(state, [self._outside(ctx, state, parse)], parse, masked)
        if covers and card:
            # "nếu chồng là người nước ngoài thì sao" on the marriage card: the card again,
            # whose audience and notes say so (since 01/07/2025 at the commune level), not
            # "outside the 53".
            ref = f"a:{card}:{parse.aspect}" if parse.aspect else f"s:{card}"
            reply = (self._aspect(ctx, state, card, parse.aspect) if parse.aspect
                     else self._service_payload(ctx, state, "s", card))
            assert reply is not None
            answered = replace(parse, intent="service_howto", service=card,
                               label=f"svc_{card}", decision="answer")
            return self._out(state, [self._with_voice(ctx, reply, ref)], answered, masked)

        own = self._own_reply(ctx, state, parse)
        if own is not None and parse.label == BOT_IDENTITY:
            parse = replace(parse, decision="answer")  # likely enough to say who we are
        if own is not None:
            if parse.label == OTHER_PROCEDURE or parse.decision != "answer":
                # A procedure outside the 53, or a guess: the content team sees it in its inbox.
                await ctx.store.log_unanswered(masked, _guesses(parse), (
                    "out_of_scope" if parse.decision == "answer" else parse.decision),
                    channel=msg.channel, user_id=msg.user_id)
            return self._out(state, [own], parse, masked)

        # A question about one aspect of the service the citizen is already looking at.
        current = None if state.data.get(_FAQ) else ctx.content.services.get(state.service or "")
        aspect = parse.aspect
        if (aspect is None and current and parse.intent == "subscribe"
                and len(parse.text.split()) <= _FOLLOW_UP_WORDS
                and not _NOTICE_WORDS.search(words(parse.text))):
            # "khi nào đăng ký" on the school-enrolment card: its time, not the notices.
            aspect = aspect_of(core_norm(parse.text))
        if aspect and current and (parse.service in (None, current.id)
                                   or parse.decision != "answer"):
            state.data.pop(_FAQ, None)
            aspect = _asked_aspect(current, aspect, parse.text)
            reply = self._aspect(ctx, state, current.id, aspect)
            ref = f"a:{current.id}:{aspect}"
            return self._out(state, [self._with_voice(ctx, reply, ref)], parse, masked)

        offered = [p[2:] for p in state.options
                   if p.startswith("s:") and p[2:] in ctx.content.services]
        if offered and parse.intent in _CHATTER and len(parse.text.split()) <= 6:
            # Guesses were shown and "cần những gì" was typed (read alone as "what can you
            # do"): that aspect of each guessed service.
            asked = aspect_of(core_norm(parse.text))
            if asked is not None and asked != "steps":
                return self._out(state, [self._which_service(ctx, offered[:3], asked)], parse,
                                 masked)

        if parse.decision == "answer":
            if parse.intent == "out_of_scope":
                # Outside what the assistant covers: the content team sees it in its inbox.
                await ctx.store.log_unanswered(masked, _guesses(parse), "out_of_scope",
                                               channel=msg.channel, user_id=msg.user_id)
            out = await self._intent(msg, state, ctx, parse.intent, parse, masked)
            offer = self._second_topic(ctx, parse)
            if offer is not None:
                out.replies = [*out.replies, offer]
                remember(state, out.replies)
            return out

        await ctx.store.log_unanswered(masked, _guesses(parse), parse.decision,
                                       channel=msg.channel, user_id=msg.user_id)
        if parse.aspect and f"{_LINK}:{_PORTAL}" in state.options and \
                len(parse.text.split()) <= 6:
            # "mất phí không" right after the "outside the 53" reply: about that procedure,
            # which only the portal and the ward's office can tell; never a neighbour's fee.
            replies.append(self._outside_reply(ctx, state, offered[:3]))
        elif parse.aspect and (guessed := _guessed_services(ctx.content, state.options)):
            # Guesses were shown and the citizen typed "còn giấy tờ gì" instead of tapping:
            # that aspect of each guessed service, one tap away.
            replies.append(self._which_service(ctx, guessed[:3], parse.aspect))
        elif parse.decision == "suggest":
            replies.append(self._suggest(ctx, parse))
        else:
            replies.append(Reply(ctx.content.text("fallback.handover"),
                                 [button(ctx.content.text("menu.human"), "hu"),
                                  *main_menu(ctx.content)[:1], menu_button(ctx.content)]))
        replies = [self._with_topic(ctx, state, r) for r in replies]
        out = self._out(state, replies, parse, masked)
        out.fallback = True
        return out

    @staticmethod
    def _which_paper(ctx: Context, parse: Parse) -> Reply | None:
        """A paper asked for without saying which ("xin giấy xác nhận", "làm lại giấy tờ bị
        mất"): the services of that kind as buttons (the engine's likeliest first), to pick
        from; None when the message says which, or follows up on the service being seen."""
        if parse.follow_up or parse.intent not in ("service_howto", "out_of_scope"):
            return None
        kind = vague_paper(core_norm(parse.text))
        if kind is None:
            return None
        pattern, content = VAGUE_KINDS[kind][1], ctx.content
        paper_noun = re.compile(r"\b(?:giay|the|bang|so|ho chieu)\b")

        def of_kind(sid: str) -> bool:
            svc = content.services[sid]
            return bool(pattern.search(words(svc.name))) or any(
                pattern.search(w) and paper_noun.search(w) for w in map(words, svc.aliases))

        likely = [a.service for a in parse.alternatives if a.service in content.services]
        sids = [sid for sid in dict.fromkeys([*likely, *content.services]) if of_kind(sid)]
        if len(sids) < 2:
            return None  # one paper of that kind: the engine's answer stands
        buttons = [button(short_label(content.services[sid].name), f"s:{sid}")
                   for sid in sids[:5]]
        return Reply(content.text("fallback.which_paper"),
                     [*buttons, button(content.text("menu.human"), "hu"), menu_button(content)])

    @staticmethod
    def _which_service(ctx: Context, sids: list[str], aspect: str) -> Reply:
        """"Which service do you mean?" with the asked aspect of each one as a button."""
        content = ctx.content
        buttons = [button(short_label(content.services[sid].name), f"a:{sid}:{aspect}")
                   for sid in sids]
        return Reply(content.text("fallback.which_service",
                                  aspect=content.text(f"aspect.{aspect}").lower()),
                     [*buttons, button(content.text("menu.human"), "hu"), menu_button(content)])

    @staticmethod
    def _with_topic(ctx: Context, state: State, reply: Reply) -> Reply:
        """A question not understood right after a question-and-answer: that topic's other
        questions come first among the guesses ("tôi lỡ bấm vào rồi" after a scam answer)."""
        found = ctx.content.faq(str(state.data.get(_FAQ) or ""))
        if found is None:
            return reply
        topic = found[0]
        payload = f"t:{topic.topic}"
        if any(b.payload == payload for b in reply.buttons):
            return reply
        label = f"{ctx.content.text('btn.more_questions')}: {short_label(topic.title, 36)}"
        return replace(reply, buttons=[button(label, payload), *reply.buttons])

    def _second_topic(self, ctx: Context, parse: Parse) -> Reply | None:
        """A long message about two things: the second one offered as a button."""
        second = parse.second
        if second is None:
            return None
        offer = self._guess_button(ctx, second.intent, second.service, second.label)
        first = (parse.service, parse.faq or parse.label)
        if offer is None or (second.service or second.label) in first:
            return None
        return Reply(ctx.content.text("topic.second"), [offer])

    def _own_reply(self, ctx: Context, state: State, parse: Parse) -> Reply | None:
        """Short, honest replies about what the assistant is and is not: a procedure outside
        the 53 services, "who are you", an insult."""
        content = ctx.content
        if parse.label == OTHER_PROCEDURE:
            return self._outside(ctx, state, parse)
        if parse.decision != "answer" and not (
                parse.label == BOT_IDENTITY and parse.confidence >= _IDENTITY_LIKELY):
            return None  # a guess of "who are you" or an insult is no reason to say so
        if parse.label == BOT_IDENTITY:
            return Reply(content.text("identity"), [button(content.text("menu.human"), "hu"),
                                                    menu_button(content)])
        if parse.label == INSULT:
            return Reply(content.text("insult"), [button(content.text("menu.human"), "hu"),
                                                  menu_button(content)])
        return None

    def _outside(self, ctx: Context, state: State, parse: Parse) -> Reply:
        """A procedure that is not among the 53: say so, point to the national portal's search
        and the ward's one-stop office; the nearest services only as buttons."""
        # The service being discussed ("nếu chồng là người nước ngoài thì sao" on the marriage
        # card) is the nearest, then the engine's next readings.
        near = [sid for sid in (state.service, *(a.service for a in parse.alternatives))
                if sid and sid in ctx.content.services]
        # The thread is now that procedure: "mất bao lâu" next is not about a service seen
        # before (nor read by the engine as a follow-up to it).
        state.service = None
        return self._outside_reply(ctx, state, list(dict.fromkeys(near))[:3])

    def _outside_reply(self, ctx: Context, state: State, sids: list[str]) -> Reply:
        content = ctx.content
        parts = [content.text("outside.procedure")]
        local, ward_btns, numbers = self._local_office(ctx, state, "hu")
        if local and not ward_btns:
            parts.append(local)
        near = [button("🔎 " + short_label(content.services[sid].name, 44), f"s:{sid}")
                for sid in sids]
        if near:
            parts.append(content.text("outside.nearest"))
        portal = Button(content.text("btn.portal_search"), "link", url=_PORTAL)
        return Reply("\n\n".join(parts), [portal, *near, button(content.text("menu.human"), "hu"),
                                           menu_button(content)], numbers=tuple(numbers))

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
        # A question and answer linked to a guessed service whose own words the message uses
        # ("con mang họ cha khi chưa đăng ký kết hôn": the unmarried parents' birth
        # registration) is the most precise guess: it goes first.
        for _, service, _ in candidates:
            svc = content.services.get(service or "")
            found = related_entry(content, svc, parse.text) if svc is not None else None
            if found is not None:
                if f"q:{found.id}" not in seen:
                    buttons.insert(0, button("❓ " + short_label(found.question, 48),
                                             f"q:{found.id}"))
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
        svc: Service | None = None
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
                _seen(state, svc.id)
                state.data.pop(_FAQ, None)
                if parse and parse.aspect:
                    aspect = _asked_aspect(svc, parse.aspect, parse.text)
                    reply = self._aspect(ctx, state, svc.id, aspect)
                    ref = f"a:{svc.id}:{aspect}"
                else:
                    reply = services.service_intro(content, svc, today)
                    ref = f"s:{svc.id}"
        elif intent == "emergency":
            reply = emergency_reply(content)
        elif intent == "human":
            out = await self._human(msg, state, ctx)
            out.parse, out.log_text = parse, masked
            return out
        elif intent in faq.TOPIC_OF_INTENT:
            answer = None
            if parse and parse.faq:
                answer = self._faq(ctx, state, parse.faq)
                ref = f"q:{parse.faq}"
            reply = answer or faq.topic_menu(content, faq.TOPIC_OF_INTENT[intent][0], today)
            if answer is None:
                ref = f"t:{faq.TOPIC_OF_INTENT[intent][0]}"
        else:  # out_of_scope, or an intent whose feature is not configured
            reply = Reply(content.text("out_of_scope"), main_menu(content), kind="menu")
        if parse is not None:
            reply = self._flaggable(ctx, state, reply, ref)
        replies = [self._with_voice(ctx, reply, ref)]
        related = (self._related_answer(ctx, svc, parse)
                   if svc is not None and parse is not None else None)
        if related is not None:
            replies.append(related)
        return self._out(state, replies, parse, masked)

    @staticmethod
    def _related_answer(ctx: Context, svc: Service, parse: Parse) -> Reply | None:
        """A question and answer linked to the service whose own words the message uses,
        beyond the service's name ("ông nằm liệt giường, thẻ căn cước hết hạn": the card made
        at home), offered one tap away under the service's answer."""
        found = related_entry(ctx.content, svc, parse.text)
        if found is None:
            return None
        return Reply(ctx.content.text("service.related"),
                     [button("❓ " + short_label(found.question, 48), f"q:{found.id}")])

    def _flaggable(self, ctx: Context, state: State, reply: Reply, ref: str) -> Reply:
        """A typed question answered with a service's introduction or a topic's menu: a 👎
        lets the citizen say it is not what they asked, so the question reaches the content
        team's inbox (answers already carry 👍/👎)."""
        asked = state.data.get(_ASKED)
        if isinstance(asked, dict):
            asked["ref"] = ref
        if ref.partition(":")[0] not in ("s", "t") or any(
                b.payload.startswith("f:") for b in reply.buttons if b.payload):
            return reply
        buttons = list(reply.buttons)
        flag = button(ctx.content.text("btn.not_what_i_asked"), f"f:-:{ref}"[:MAX_PAYLOAD_BYTES])
        buttons.insert(max(len(buttons) - 1, 0), flag)
        return Reply(reply.text, buttons, reply.audio_path, reply.audio_url, reply.speakable,
                     reply.kind)
