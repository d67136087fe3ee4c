"""Rules on normalized (folded) text: the aspect a question asks about, the question inside a
long story, a second topic, and whether a short message follows up on the current service.

Danger detection lives in ``nlu.danger`` (it reads the raw text, diacritics included).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from nlu.fastre import AnyMatch
from nlu.normalize import normalize

__all__ = [
    "ASPECTS",
    "ASPECT_PATTERNS",
    "VAGUE_KINDS",
    "Sentence",
    "aspect_of",
    "content_words",
    "core_norm",
    "is_follow_up",
    "is_question_word",
    "only_vague",
    "question_part",
    "register_free",
    "sentences",
    "topic_clauses",
    "vague_paper",
    "without_formulas",
]

ASPECTS = ("steps", "where", "documents", "fee", "duration", "eligibility")

# "đâu" typed without diacritics is "dau", like "dấu" (a stamp), "đầu" and "dầu": after a verb
# of going or filing, and before a question particle, it is "đâu".
_DAU = r"\b(?:o|den|di|tai|nop|xin|ra|len|lam|dang ky|cho|toi|ve|gui|hoi) dau\b"

#: Aspect patterns in priority order (the most specific first).
ASPECT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("fee", re.compile(
        r"bao nhieu tien|(het|ton|mat|la|phi|gia|dong|tra) bao nhieu|bao nhieu (mot|1) (thang|nam)"
        r"|le phi|\bphi\b|chi phi|mien phi|(mat|ton|het|dong|tra) tien|bao nhieu dong"
        r"|(duoc|nhan|lanh|linh) bao nhieu|muc (dong|huong)|giam (tru|phi|gia|bao nhieu)"
        r"|huong (duoc )?bao nhieu|(duoc|nhan) (ve|lai) bao nhieu"
        r"|\btien\b.{0,30}bao nhieu|mat phi|ton phi|co phi|thi (duoc )?giam|duoc giam"
        r"|bao nhieu (phan tram|%)|(mat|ton) (bao nhieu|nhieu) (khong|ko)"
        # "hết nhiu tiền", "tốn nhiều tiền không": "nhiu" is typed for "nhiêu" and "nhiều"
        r"|(het|ton|mat|dong|tra) nhieu tien|^nhieu tien\b"
        # "hết mấy tiền", "tốn mấy trăm": "mấy" for "bao nhiêu"
        r"|(het|ton|mat|dong|tra|nop) may (tien|tram|trieu|chuc|nghin|ngan)\b|\bmay tien\b"
        # "phải nộp những khoản tiền gì", "đóng những khoản phí nào"
        r"|(nop|dong|tra|mat|ton|het) (nhung )?(khoan )?(tien|phi|thue) (gi|nao)"
        r"|khoan (tien|phi|thu) (gi|nao)")),
    ("documents", re.compile(
        r"giay to (gi|nao|can|chi)|can (nhung )?(gi|giay|ho so|mang)|mang (theo )?(gi|nhung)"
        r"|ho so (gom|can|co)|can chuan bi|chuan bi (gi|nhung)"
        # "nộp những gì", "nộp giấy gì"; not "nộp giấy tờ ở đâu" (where)
        r"|nop (nhung )?(gi\b|giay(?! (to )?(o|tai|den) (dau|cho nao)\b))"
        r"|thanh phan ho so|giay gi|giay to can|can nhung thu|can co gi|(can|phai) co (giay|anh)"
        r"|kham suc khoe|(co phai|can) chup anh|xet nghiem adn|(giay to|ho so|giay) .{0,12}nua"
        r"|(con|them) (giay|ho so|gi) (nua|khac)|ban (sao|chinh) (gi|nao)"
        r"|mau (don|to khai) (gi|nao)|to khai (gi|nao|mau)")),
    ("where", re.compile(
        _DAU + r"|\bo mo\b|\bdau (lam|nop|xin|de|ha|vay|the)\b|\b(cho|noi|co quan|ben|phong"
        r"|bo phan|don vi|cap) nao\b|\bo cho nao|dia chi (nop|lam|o dau|nao|cua|lien he|phong)"
        r"|(trang|web|website|link|duong link|cong) (nao|gi|o dau)"
        r"|\b(o|tai) (phuong|xa|huyen|tinh|cong an|uy ban) (hay|hoac|nao)"
        r"|(ra|den|len|xuong|toi|ve) (phuong|xa|huyen|quan|tinh|cong an|uy ban|bo phan mot cua)"
        r" (lam|nop|xin|de|khong|ko|hay)|truc tiep hay|hay (la )?(online|truc tuyen|qua mang)"
        r"|(online|truc tuyen|qua mang|tren mang|tren vneid|tren app|tai nha|(tren|qua|bang)"
        r" dien thoai) (duoc )?"
        r"(khong|ko|hong|chua|duoc khong|dc khong|ha|a)\b"
        r"|co (the )?(lam|nop|xin|dang ky|lam thu tuc)? ?(online|truc tuyen|qua mang|tren mang"
        r"|tai nha) (duoc )?(khong|ko|hong)"
        # "trên mạng có làm được không", "qua vneid có nộp được ko": online, a verb between.
        r"|(online|truc tuyen|qua mang|tren mang|(tren|qua) (vneid|app|ung dung|dien thoai))"
        r" (co )?(the )?(lam|nop|xin|dang ky|khai)( \w+)? (duoc|dc) (khong|ko|hong|chua|k)\b"
        # ("đi làm ở Bình Dương" is working there, not where to file.)
        r"|(?<!di )\b(nop|lam|xin) o\b"
        r"|\b(o|tai) (phuong|xa|huyen|tinh|quan) (\w+ ){0,2}(duoc|dc) (khong|ko|hong)\b"
        r"|phai (den|ra|len|di) (tan|truc tiep)|co phai (den|ra|len|di) "
        r"(phuong|xa|cong an|uy ban|tan noi)"
        r"|nop (truc tiep|qua buu dien|online|truc tuyen) (o|tai)"
        r"|(o|tai) dau$")),
    ("eligibility", re.compile(
        r"ai (duoc|phai|co the|thi duoc|lam duoc|dung ten)|dieu kien|thi duoc (huong|nhan|lam|lanh"
        r"|rut|cap)|(co|thi) \w+ duoc (khong|ko|hong|chu|ha)$|co \w+ \w+ duoc (khong|ko)$"
        r"|ai (duoc|co the) (lam|dang ky|nop|xin|nhan)")),
    ("duration", re.compile(
        r"bao lau|may ngay|bao nhieu ngay|may thang|may tuan|mat may|khi nao"
        r"|(?<!chua )(?<!khong )(?<!ko )bao gio"  # "chưa bao giờ có sổ đỏ": never, not when
        r"|han (chot|nop|cuoi)|thoi han|thoi gian|lau (khong|ko|qua|vay)|nhanh (khong|nhat)"
        r"|den (khi|luc) nao|may hom|bao nhieu lau|\blau\b|tre han|qua han|bao nhieu hom"
        # "quá 3 tháng rồi còn nộp được không": a deadline
        r"|\bqua (\d+|mot|hai|ba|bon|nam|sau|may|vai) (ngay|tuan|thang|nam)\b")),
    ("eligibility", re.compile(
        r"(co|thi) duoc (khong|ko|hong|chu|ha)|duoc khong|co phai .{0,40}khong|bao nhieu tuoi"
        r"|may tuoi|du tuoi|doi tuong|truong hop nao|co can .{0,40}khong|co bi phat|bat buoc"
        r"|co duoc|ai lam")),
    ("steps", re.compile(
        r"the nao|ntn|lam sao|cach (lam|nop|dang|xin)|ra sao|cac buoc|huong dan"
        r"|quy trinh|thu tuc|lam gi|bat dau|o cho nao|nop o|lam o|online|truc tuyen"
        r"|qua mang|tren mang|vneid|tren app|lam tiep|buoc tiep|sau do")),
)


#: Money the citizen receives ("được bao nhiêu", "bao nhiêu một tháng", "mức hưởng"), read by the
#: fee pattern too: on a service that pays out (a benefit), it asks the amount, which the
#: service's eligibility states, not the fee.
_RECEIVED_RE = re.compile(
    r"(duoc|nhan|lanh|linh|huong) (duoc )?(bao nhieu|may (tram|trieu))|muc (huong|tro cap)"
    r"|bao nhieu (tien )?(mot|1|moi|hang) (thang|nam)|(mot|moi|hang) thang (duoc|nhan|lanh)"
    r"|tien (tro cap|ho tro|mai tang|thai san|bao hiem) .{0,20}bao nhieu")


def asks_amount_received(norm: str) -> bool:
    """Whether a folded question asks how much money the citizen gets (not pays)."""
    return bool(_RECEIVED_RE.search(norm))


#: ``ASPECT_PATTERNS`` as tests of whether each matches, quick on long texts (nlu/fastre.py).
_ASPECT_TESTS = tuple((name, AnyMatch(pattern)) for name, pattern in ASPECT_PATTERNS)


def aspect_of(norm: str) -> str | None:
    """Which aspect of a service the normalized question asks about, if any."""
    for name, matches in _ASPECT_TESTS:
        if matches(norm):
            return name
    return None


# ---------------------------------------------------------------------- follow-ups

_FOLLOW_UP_RE = re.compile(
    r"^(con|the con|vay con|roi|xong roi|the|vay|con nua|them)\b|\bnua (khong|ko|hong|a|vay)?\s*$"
    r"|\bnua\b|^(vay |the )?(thi )?(sao|the nao|ntn)\b|\b(cai do|cai nay|thu tuc nay|viec nay"
    r"|cai nay thi|no)\b|^(lam|nop|xin) (o dau|the nao|online)|^(mat|het|ton) |^(o dau|ai|bao lau)"
    r"|^(co|can) (mat|phai|can|lam)\b")


_FOLLOWS_UP = AnyMatch(_FOLLOW_UP_RE)


def is_follow_up(norm: str) -> bool:
    """Whether a message reads like a follow-up question ("còn giấy tờ gì nữa", "mất bao lâu")."""
    return _FOLLOWS_UP(norm) or aspect_of(norm) is not None


#: Words of questions about an aspect and of everyday chatter (folded): what is left of a
#: message without them is what it is about.
_QUESTION_WORDS = frozenset("""
con giay to gi nua khong ko hong chua mat bao lau het nhieu tien phi le o dau ai duoc lam co
the online truc tuyen tiep nop xin can nhung phai den di ra len sao nao vay thi roi a ha nhe
nha oi em anh chi ban toi minh tui chau bac cho hoi may ngay thang tuan ton ho so mang theo
chuan bi buoc tiep theo cach nhu nhanh cham qua mang tren app vneid la va voi hay hoac ma
mot cai viec thu tuc nay do kia day gio bay uh uhm vang da ok xem biet muon can dieu kien
doi tuong cho nao noi co quan phuong xa uy ban cong an truc tiep tai nha dau tien sau nua
duoc khong tra dong mien giam cam on chao cau thank tks nhe nha nghen
""".split())


def is_question_word(word: str) -> bool:
    """Whether a folded word is a question word or everyday chatter (not what a message is
    about)."""
    return word in _QUESTION_WORDS


def content_words(norm: str) -> int:
    """How many words of the message say what it is about (beyond question words)."""
    words = norm.split()
    return len(words) - sum(map(_QUESTION_WORDS.__contains__, words))


#: A paper named without saying which one ("giấy tờ", "giấy xác nhận", "giấy chứng nhận").
_GENERIC_PAPER_RE = re.compile(r"\bgiay(?: to| xac nhan| chung nhan)?\b")
#: Words that ask for a paper or a procedure without saying which one ("làm lại giấy tờ bị
#: mất", "xin giấy xác nhận", "đăng ký cấp mới"): many services are made of them. One list for
#: the engine (a message of only these names no service: its lean to one is halved) and for
#: :func:`vague_paper` (the "which paper?" reply).
_VAGUE_WORDS = frozenset("""
giay to xac nhan chung lai bi mat hong rach cap lam xin muon cac loai het nha cua ho
gium giup voi minh nao gi nhu vay cu moi thu tuc so dang ky doi sua thay ban thuc dieu chinh
bo sung gia han huy nop khai bao chuyen di lay nhan gui them
""".split())


def only_vague(norm: str) -> bool:
    """Whether a message (folded) is made only of words that ask for a paper or a procedure
    without saying which, and question words."""
    words = norm.split()
    return bool(words) and all(w in _VAGUE_WORDS or w in _QUESTION_WORDS for w in words)
#: The kinds of paper a vague request is about: a confirmation, or one to make again (lost,
#: damaged). Each: how the message says it, and how a service's name or alias does (to offer
#: the services of that kind).
VAGUE_KINDS: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "confirm": (re.compile(r"\bxac nhan\b"), re.compile(r"\bxac nhan\b")),
    "again": (re.compile(r"\b(?:cap lai|lam lai|mat|hong|rach)\b"),
              re.compile(r"\b(?:cap lai|lam lai)\b|\bmat (?:giay|the|bang|so|ho chieu)\b")),
}


def vague_paper(norm: str) -> str | None:
    """"làm lại giấy tờ bị mất", "xin giấy xác nhận": a paper asked for without saying which
    one; its kind (a key of :data:`VAGUE_KINDS`), or None when the message names what."""
    if not _GENERIC_PAPER_RE.search(norm) or not only_vague(norm):
        return None
    for kind, (said, _) in VAGUE_KINDS.items():
        if said.search(norm):
            return kind
    return None


# ---------------------------------------------------------------------- long messages

#: Where a sentence ends: after . ! ? ; or a line break, and after : or … followed by a space
#: (one character class first, so the regex engine skips to the candidates quickly). A dot
#: between digits is a thousands separator ("270.000 đ/tháng", "3.595.000 đồng"), not an end.
_SENTENCE_END_RE = re.compile(r"[.!?;\n:…](?!(?<=\d\.)\d)(?:(?<=[.!?;\n])\s*|\s+)")
_MANY_SENTENCES_RE = re.compile(r"[.!?;:\n…]\s*\S")


class Sentence(NamedTuple):
    """One sentence of a message (a named tuple: quicker to make than a frozen dataclass)."""

    raw: str
    norm: str
    question: bool  # reads as a question
    cue: bool  # introduced by "xin hỏi", "cho tôi hỏi", "vậy thì"...


_QUESTION_RE = re.compile(
    r"\b(khong|ko|hong|chua|chang)\s*$|\b(gi|nao|sao|dau|bao nhieu|bao lau|the nao|ra sao|ntn"
    r"|hay khong|duoc khong|phai khong|co dung khong|khong a|khong vay|ha|hong|chu|mo|rang)\b"
    r"|\bkhong (a|ha|vay|nhi|nhe|em|chi|anh|ban)\s*$|\bnhu the nao\b|\bai\b")
_CUE_RE = re.compile(
    r"\b(xin hoi|cho (toi |em |chau |con |minh |tui |tao |bac |co |chu |ong |ba )?hoi"
    r"|(toi|em|chau|minh|tui) (muon|can|xin) hoi|muon hoi|hoi (la|giup|xem|thu)|vay thi"
    r"|vay (cho|xin) hoi|nho (ban |anh |chi |em |ad |admin )?(chi|huong dan|tu van|giai dap|"
    r"giup)|mong (duoc |nhan duoc )?(giai dap|huong dan|tu van|tra loi|chi)|xin (duoc )?tu van"
    r"|tu van (giup|cho)|giup (toi|em|chau|minh|tui) voi|thac mac|cau hoi (la|cua toi)"
    r"|cho (toi|em|chau|minh) biet|(toi|em|chau|minh|tui) (phai|nen|can) (lam|di|den)"
    r"|bay gio (toi|em|chau|minh|tui|nha toi|gia dinh toi) (muon|can|phai)"
    r"|gio (toi|em|chau|minh|tui) (muon|can|phai)|nay (toi|em|chau|minh|tui|gia dinh toi)"
    r" (muon|can|co nhu cau))\b")


#: Words of the letter's register, not of its topic: a question about a service may be put to
#: a lawyer "theo quy định của pháp luật hiện hành" just like a legal question.
_REGISTER_RE = re.compile(
    r"\b(?:theo (?:quy dinh|luat|phap luat)(?: cua (?:phap luat|luat|nha nuoc))?(?: (?:ve|ve viec)"
    r" \w+(?: \w+)?)?(?: (?:hien hanh|hien nay|moi|nam \d+))?|(?:duoc )?quy dinh (?:nhu the nao"
    r"|ra sao|the nao)|(?:chao|thua|kinh gui|gui) (?:luat su|quy bao|ban bien tap|cong ty luat"
    r"(?: \w+){0,3})|(?:nho|mong|xin|de nghi) (?:duoc )?(?:luat su|quy bao|quy co quan|co quan"
    r" chuc nang|bo cong an|bao|chuyen gia)(?: (?:tu van|giai dap|huong dan|cho biet|tra loi))?"
    r"(?: giup)?(?: (?:toi|em|chau))?(?: nhu sau)?|(?:toi|em) co (?:cau hoi|thac mac|van de)"
    r"(?: \w+){0,6} (?:nhu sau|can tu van|can giai dap))\b")


#: Whom a letter is addressed to, at the start of a sentence: "Luật sư cho tôi hỏi:", "Tôi xin
#: hỏi luật sư,", "Luật sư ơi", "Kính gửi quý báo", "Xin chào tổng đài tư vấn". Read as the
#: topic, "luật sư" would turn any service question into a legal one. Only the forms that
#: address someone are dropped: "hỏi luật sư miễn phí ở đâu" keeps its words.
_WHO = r"(?:luat su|tong dai(?: tu van| vien)?|ban bien tap|quy bao|toa soan)"
_ME = r"(?:toi|em|chau|minh|tui|con)"
_POLITE = (rf"(?: (?:oi|a|nhe|(?:tu van|giai dap|huong dan)(?: giup| cho)(?: {_ME})?"
           rf"|(?:tu van|giai dap|huong dan) {_ME}))")
_ADDRESS_RE = re.compile(
    # "Kính gửi quý báo", "Em chào tổng đài tư vấn ạ", "Thưa quý công ty luật"
    rf"^(?:{_ME} )?(?:kinh |xin )?(?:chao|thua|gui|kinh gui)\s+(?:(?:quy )?{_WHO}"
    rf"|quy cong ty(?: luat)?|cong ty luat|van phong luat){_POLITE}*\b"
    # "Luật sư ơi", "Luật sư tư vấn giúp tôi"
    rf"|^(?:luat su|ban bien tap|quy bao|toa soan){_POLITE}+\b"
    # "Luật sư cho tôi hỏi", "Tổng đài cho em hỏi" (the cue stays)
    rf"|^{_WHO}(?= cho {_ME} (?:hoi|biet|xin hoi)\b)")
#: "Tôi xin hỏi luật sư", "Xin hỏi tổng đài": the cue stays, the addressee goes.
_ASK_WHO_RE = re.compile(rf"^((?:(?:toi|em|chau|minh|tui|con) )?xin (?:duoc )?hoi) {_WHO}\b")
#: Cheap look-up before the regular expressions: a letter's register has one of these.
_REGISTER_HINTS = ("luat", "quy dinh", "nho", "tong dai", "quy bao", "bien tap", "toa soan",
                   "kinh gui", "cong ty")


def register_free(norm: str) -> str:
    """A normalized text without the words of the letter's register."""
    if not any(map(norm.__contains__, _REGISTER_HINTS)):
        return norm
    norm = _ADDRESS_RE.sub(" ", _ASK_WHO_RE.sub(r"\1", norm))
    return " ".join(_REGISTER_RE.sub(" ", norm).split())


def sentences(text: str) -> list[Sentence]:
    """The sentences of a message, normalized, with whether each is a question."""
    out: list[Sentence] = []
    pieces: list[str] = []
    start = 0
    for m in _SENTENCE_END_RE.finditer(text):
        pieces.append(text[start:m.start() + 1])  # the mark stays with its sentence
        start = m.end()
    pieces.append(text[start:])
    for raw in pieces:
        raw = raw.strip()
        if not raw:
            continue
        norm = register_free(normalize(raw))
        if not norm:
            continue
        question = raw.endswith("?") or bool(_QUESTION_RE.search(norm))
        out.append(Sentence(raw, norm, question, bool(_CUE_RE.search(norm))))
    return out


#: Closing formulas of a letter: polite, but not the question ("Rất mong được giải đáp").
_FORMULA_RE = re.compile(
    r"\b(mong|rat mong|xin|kinh mong|tran trong)\b.{0,40}\b(giai dap|tu van|huong dan|tra loi"
    r"|phan hoi|ho tro|giup do|cam on|chi giao|chi dan)\b( (giup|thac mac|som|cho toi|a|nhe"
    r"|luat su|quy bao|ban doc))*|^(xin )?(chan thanh )?cam on\b"
    r"|^(xin )?chao\b")


def _content(part: Sentence) -> int:
    """Words of a sentence that say what it is about (not a closing formula)."""
    return _formula_of(part.norm)[0]


@lru_cache(maxsize=1024)  # a message's sentences are weighed twice (formulas, question)
def _formula_of(norm: str) -> tuple[int, tuple[int, int] | None]:
    """Words of a sentence that say what it is about, and where its closing formula is."""
    m = _FORMULA_RE.search(norm)
    if m:
        rest = norm[:m.start()] + " " + norm[m.end():]
        words = content_words(rest)
        # "làm hộ chiếu hết bao nhiêu tiền rất mong được giải đáp": a short question glued to
        # the closing formula is still the question.
        if words <= 2 and not (words and _QUESTION_RE.search(rest.strip())):
            return 0, m.span()
        return content_words(norm), m.span()
    return content_words(norm), None


def question_part(parts: list[Sentence]) -> list[int]:
    """Indices of the sentences that carry the question of a long message.

    The last sentence with a cue ("xin hỏi", "cho tôi hỏi", "vậy thì") and the questions after
    it; else the last question sentences. Closing formulas ("Mong được giải đáp") are not
    questions; a short follow-up question ("Nếu được thì cần thủ tục gì?") brings the question
    before it. Nothing (the whole message is the question) when there is no question.
    """
    if len(parts) < 2:
        return []
    content = [_content(p) for p in parts]
    cues = [i for i, p in enumerate(parts) if p.cue and content[i] >= 2]
    if cues:
        first = cues[-1]
        keep = [first] + [i for i in range(first + 1, len(parts))
                          if parts[i].question and content[i] >= 1]
    else:
        questions = [i for i, p in enumerate(parts) if p.question and content[i] >= 1]
        if not questions:
            return []
        keep = questions[-2:] if len(questions) >= 2 and questions[-1] - questions[-2] == 1 \
            else questions[-1:]
    # A question with few words of its own leans on the sentence before it.
    if sum(content[i] for i in keep) <= 1 and keep[0] > 0:
        keep = [keep[0] - 1, *keep]
    return keep


def without_formulas(parts: list[Sentence]) -> list[Sentence]:
    """The sentences that say something: greetings and closing formulas ("Chào luật sư",
    "Rất mong được giải đáp") are left out, unless nothing else is left."""
    kept = [_unformulaic(p) for p in parts if _content(p) > 0]
    return kept or parts


def _unformulaic(part: Sentence) -> Sentence:
    """A sentence without the closing formula glued to it ("... xin cảm ơn luật sư")."""
    span = _formula_of(part.norm)[1]
    if span is None or (span[0] == 0 and span[1] == len(part.norm)):
        return part
    rest = " ".join((part.norm[:span[0]] + " " + part.norm[span[1]:]).split())
    return Sentence(part.raw, rest, part.question, part.cue) if content_words(rest) else part


def core_norm(text: str) -> str:
    """The normalized text a model reads: the message without its greeting and closing
    formulas (training examples and messages alike)."""
    if not _MANY_SENTENCES_RE.search(text.strip()):
        return register_free(normalize(text)) or normalize(text)
    return " ".join(p.norm for p in without_formulas(sentences(text))) or normalize(text)


# "và", "còn", "với lại", "ngoài ra", "nhân tiện": a second question in the same sentence.
_TOPIC_SPLIT_RE = re.compile(
    r"\s(?:va|con|voi lai|ngoai ra|them nua|nhan tien|tien the|tien day|mot viec nua"
    r"|mot cau nua|cau nua|them mot viec|mat khac|dong thoi|sau do|rieng)\s(?=\S+\s\S+\s\S+)")


def topic_clauses(norm: str) -> list[str]:
    """A normalized question cut where a second topic may start."""
    return [c for c in _TOPIC_SPLIT_RE.split(norm) if c.strip()]
