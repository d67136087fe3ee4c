"""Short follow-ups in a question-and-answer thread, read with that thread in mind.

After a scam warning, "tôi lỡ bấm vào rồi" or "toi chuyen tien roi thi sao" means "I was caught,
what now"; after the lost-phone answer, "thế khóa tài khoản ở đâu" asks where to *lock* the
account (not how to unlock a locked one); in a VNeID thread "tổng đài số mấy" asks for the
VNeID hotline and "nhờ con cháu làm hộ được không" whether level 2 can be done for someone.
The understanding engine reads such a message alone, without the answer it follows, and gets
them wrong or not at all. Each rule here names the FAQ topics in whose thread it applies and the
FAQ entry that answers it (every id is checked against the content by the tests).

Matching is on the folded text (no diacritics, lowercase), on whole words, and only for short
messages: a long message is a question of its own.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from flows.content import Content, Faq, Service
from nlu.normalize import fold
from nlu.rules import is_question_word

__all__ = ["ANSWERS", "MAX_WORDS", "FollowUp", "aspect_of_answer", "back_to", "child_passport",
           "civil_lawyer", "fine_on_card", "follow_up", "linked_service", "offered",
           "offered_entry", "only_linked_service", "other_paper_merged", "owner_refuses",
           "related_entry", "same_words", "thread_topic", "words"]

#: Longer messages are questions of their own, for the understanding engine.
MAX_WORDS = 16
_WORD = re.compile(r"[a-z0-9]+")

#: The FAQ entries the rules answer with (checked against the content by the tests).
LOST_MONEY = "scam-da-mat-tien"
#: Caught by an app or a link, no money said to be gone: what to do now (disconnect, lock).
INSTALLED = "scam-lo-cai-app"
REPORT_SCAM = "scam-bao-cao-lua-dao"
#: Where to report to the police (the ward's police, by phone or in writing, VNeID, 113).
REPORT_WHERE = "crime-cach-khac"
LOCK_ACCOUNT = "vneid-mat-dien-thoai"
UNLOCK_ACCOUNT = "vneid-bi-khoa"
HOTLINE = "vneid-hotline"
LEVEL_2 = "vneid-dang-ky-muc-2"
DIVORCE_COURT = "legal-ly-hon-nop-don-o-dau"
COURT = "legal-toa-an-khu-vuc"
LEGAL_AID_WHO = "legal-ai-duoc-tro-giup-phap-ly"
LOAN_PAPER = "legal-giay-vay-viet-tay"
OWNER_REFUSES = "legal-tam-tru-chu-nha-khong-ky"
#: Permanent residence when the owner of the home will not agree.
OWNER_REFUSES_PERMANENT = "legal-thuong-tru-chu-nha-khong-dong-y"
#: Old papers after the merger of provinces and communes.
MERGER = "daily-sap-nhap"
#: A passport for a child under 14.
CHILD_PASSPORT = "daily-ho-chieu-tre-em"
#: Every entry a rule may answer with.
ANSWERS = (LOST_MONEY, INSTALLED, REPORT_SCAM, REPORT_WHERE, LOCK_ACCOUNT,
           UNLOCK_ACCOUNT, HOTLINE, LEVEL_2, DIVORCE_COURT, COURT, LEGAL_AID_WHO, LOAN_PAPER,
           OWNER_REFUSES, OWNER_REFUSES_PERMANENT, MERGER, CHILD_PASSPORT)
#: Legal categories where a lawyer is the defence one (the arrested relative's entry), or
#: legal aid is already the subject: not the civil-matter rule.
_CRIMINAL = frozenset({"trinh-bao", "tro-giup-phap-ly"})
#: The services and answers in whose thread "chủ nhà không chịu ký" is about the owner's consent.
_RESIDENCE_SERVICES = frozenset({"dang-ky-tam-tru"})
_RESIDENCE_ANSWERS = frozenset({"legal-dang-ky-tam-tru"})

_NO = r"(khong|ko|k|hong|hok|ha|a)"
# Things a scam makes people do.
_ACT = (r"(bam|bam vao|bam link|nhan|nhan vao|click|an vao|mo link|cai|cai app|cai dat|tai|"
        r"tai ve|chuyen|chuyen tien|chuyen khoan|ck|doc|doc ma|doc otp|doc so|dua|dua ma|"
        r"dua otp|gui|gui ma|gui otp|cho ma|cung cap|lam theo|nghe theo|nap tien|quet ma|"
        r"quet mat|ket ban|ket ban zalo|goi lai|dang nhap)")
# The same, only the ones that mean money or a code given away (a VNeID thread also has
# "tôi cài rồi mà không vào được", which is not a scam).
_ACT_STRONG = (r"(bam link|bam vao link|chuyen tien|chuyen khoan|ck|doc ma|doc otp|dua ma|"
               r"dua otp|gui ma|gui otp|cho ma|nap tien|cai app la|lam theo ho|nghe theo ho)")
_CAUGHT = (r"\b(bi|da bi) (mat|rut|lua|lay|chiem) (het |sach |mat )?(tien|tk|tai khoan)\b"
           r"|\bmat (het |sach )?tien (roi|that)\b|\bbi lua (roi|that|mat)\b"
           r"|\b(chiem|hack|lay mat) (mat )?(tai khoan|tk|vneid|nick)\b")


def _victim(strong: bool) -> re.Pattern[str]:
    act = _ACT_STRONG if strong else _ACT
    return re.compile(rf"\b(lo|lo tay|da|vua|trot|vua moi)\s+{act}\b"
                      rf"|\b{act}\b(\s+\w+){{0,4}}\s+(roi|xong)\b|{_CAUGHT}")


_VICTIM = _victim(strong=False)
_VICTIM_STRONG = _victim(strong=True)
# Money or a code given away, or money gone ("tôi đã chuyển tiền rồi", "lỡ đọc mã OTP"): the
# lost-money answer; an app installed or a link clicked (_INSTALL), nothing paid, is the
# installed-app one.
_INSTALL = re.compile(r"\b(bam|bam vao|bam link|nhan vao|click|an vao|mo link|cai|cai app|"
                      r"cai dat|tai|tai ve|quet ma|link|app|ung dung)\b")
_PAID = re.compile(r"\b(chuyen|chuyen tien|chuyen khoan|ck|doc ma|doc otp|doc so|dua ma|dua otp|"
                   r"gui ma|gui otp|cho ma|nap tien|otp|mat tien)\b|" + _CAUGHT)


# "có mất tiền không", "có sao không", "lấy lại được không" in a scam thread.
_AT_RISK = re.compile(rf"\b(co )?(bi )?(mat tien|sao|bi gi|nguy hiem|anh huong|lay lai)"
                      rf"\b(\s+\w+){{0,3}}\s+{_NO}\b|\blay lai (duoc|dc)\b")
_REPORT = re.compile(r"\b(bao(?! (nhieu|lau|gio|lam)\b)|trinh bao|to giac|to cao|phan anh"
                     r"|khai bao)\b"
                     r"(\s+\w+){0,3}\s+"
                     r"(o dau|cho ai|ai|dau|the nao|sao|cong an|o cho nao)\b"
                     r"|\bbao (cong an|cho cong an|cong an phuong|cong an xa)\b|\bden dau bao\b")
# To lock, not "bị khóa" / "mở khóa" / "khóa rồi" (locked, to unlock).
_LOCK = re.compile(r"\bkhoa\b")
_LOCKED = re.compile(r"\b(bi|da bi|dang bi|mo|go|duoc mo|mo lai)\s+khoa\b|\bkhoa roi\b"
                     r"|\bkhoa mat\b")
_VNEID = re.compile(r"\b(vneid|dinh danh|vnid|vn eid|can cuoc dien tu)\b")
_BANK = re.compile(r"\b(ngan hang|atm|the tin dung|stk|so tai khoan|bank)\b")
_HOTLINE = re.compile(r"\b(tong dai|hotline|duong day nong|sdt ho tro|so ho tro)\b"
                      r"|\b(so|so dien thoai|sdt|so dt)\s+(nao|may|gi|bao nhieu)\b"
                      r"|\bgoi\s+(so|sdt|so dien thoai)?\s*(nao|may|dau|ai)\b")
_DELEGATE = re.compile(r"\bnho\b(\s+\w+){0,4}\s+(lam|di|dang ky|lam giup|lam ho)\b"
                       r"|\b(lam|di|nop|dang ky|di lam)\s+(ho|thay|giup)"
                       r"(\s+(duoc|dc|cho|minh|toi|bo|me|ong|ba|nguoi)\b|\s+" + _NO + r"\b|$)")
_CANT_FIND = re.compile(r"\b(khong|ko|k|chua|van khong|van chua) (thay|tim thay|tim duoc|"
                        r"tim ra|thay dau)\b|\bkhong co (muc|nut|cho)\b")
_FILE = re.compile(r"\b(nop don|dam don|gui don|kien|khoi kien|ra toa|len toa)\b")
_WHERE_COURT = re.compile(r"\b(o dau|toa nao|cho nao|noi nao|dau|toa an nao)\b")
_SCAM_INTENTS = ("scam_report", "crime_report", "vneid_account")
_WHERE = re.compile(r"\b(o dau|cho nao|di dau|den dau|noi nao|o cho nao)\b")
# "tôi chưa bấm", "may mà chưa chuyển": not caught by the scam just described.
_NOT_CAUGHT = re.compile(rf"\b(chua|khong|ko|k|kip|may ma chua|van chua)\s+{_ACT}\b"
                         r"(?!\s+(roi|xong))")
# "giờ làm gì", "phải làm sao bây giờ": what now, after an answer that has steps.
_WHAT_NOW = re.compile(r"^(gio|bay gio|the|vay|the gio|vay gio|roi)?\s*(toi |minh |em )?"
                       r"(phai |can |nen )?(lam gi|lam sao|lam the nao|xu ly sao|xu ly the nao)"
                       r"(\s+(bay gio|gio|tiep|nua|day|tiep theo))?(\s+(a|ha|ban|chau|oi))?$")
_LEVEL_2 = re.compile(r"\bmuc (2|hai)\b")
# "có mất tiền thuê luật sư không", "nhờ luật sư được không": a lawyer, or free legal aid.
_LAWYER = re.compile(r"\b(luat su|tro giup phap ly|tro giup luat)\b")
# "giấy viết tay có giá trị không", "giấy nợ", "biên nhận": the paper of a loan.
_PAPER = re.compile(r"\b(viet tay|giay tay|giay vay|giay muon|giay no|bien nhan)\b"
                    r"|\bgiay\b.*\b(gia tri|hieu luc|hop phap|cong nhan|phap ly|cong chung"
                    r"|chung thuc)\b")
# "chủ nhà không chịu ký", "chủ trọ không cho", "chủ hộ không xác nhận".
_OWNER = re.compile(r"\bchu (nha|tro|ho|phong|can ho|so huu)\b")
# The owner named in a story: "nhà là của bà sui đứng tên", "chủ sở hữu", "người đứng tên".
_OWNER_NAMED = re.compile(r"\bchu (nha|tro|ho|phong|can ho|so huu)\b|\bdung ten\b")
_REFUSES = re.compile(r"\b(khong|ko|k|chang|hong|chua)\s+(chiu|cho|dong y|ky|xac nhan|muon)\b"
                      r"|\btu choi\b")
_RAISE = re.compile(r"\bnang\b")


#: What an answer says when it speaks of an aspect (the content's own words, with their
#: diacritics: folded, "tiện ích" would be "tiền"): "có mất tiền không" after the level-2
#: answer is answered by it, since it says what that costs.
_SPEAKS_OF = {
    "fee": re.compile(r"\b(tiền|phí|lệ phí|miễn phí|mất cước|cước phí|\d+\.000 đồng)",
                      re.IGNORECASE),
    "documents": re.compile(r"\b(mang theo|mang thẻ|mang giấy|giấy tờ|hồ sơ|thẻ căn cước)",
                            re.IGNORECASE),
    "where": re.compile(r"\b(công an xã|công an phường|ủy ban nhân dân|một cửa|tòa án|"
                        r"trung tâm|ngân hàng|bưu điện|trụ sở|đến)\b", re.IGNORECASE),
    "duration": re.compile(r"\b(\d+ (ngày|giờ|tháng|phút|tuần)|ngay lập tức|ngay khi)\b",
                           re.IGNORECASE),
}


@dataclass(frozen=True)
class FollowUp:
    """Which FAQ entry answers a follow-up, and why (the rule's name, for the logs).

    ``more``: show the rest of the entry ("Xem thêm") rather than its key point; None: the
    rest when the entry is the answer just given and its rest was not shown yet.
    """

    faq: str
    rule: str
    more: bool | None = None


def words(text: str) -> str:
    """The text folded to its words ("Tôi lỡ bấm!" → "toi lo bam")."""
    return " ".join(_WORD.findall(fold(text)))


_words = words


@functools.lru_cache(maxsize=1024)
def _content_words(text: str) -> str:
    """``words`` of the content's own texts (questions, service names), looked at again and
    again: kept. Never a citizen's message (nothing of theirs stays in the process)."""
    return words(text)


def aspect_of_answer(content: Content, faq_id: str, aspect: str | None) -> FollowUp | None:
    """An aspect asked about right after an answer ("có mất tiền không", "mang gì đi"): that
    answer again when its key point speaks of the aspect, its rest when only the rest does;
    None when it says nothing of it (the engine's reading stands)."""
    found = content.faq(faq_id)
    pattern = _SPEAKS_OF.get(aspect or "")
    if found is None or pattern is None:
        return None
    entry = found[1]
    if pattern.search(f"{entry.question} {entry.answer}"):
        return FollowUp(entry.id, f"{aspect} in the answer", more=False)
    rest = " ".join([entry.more, *entry.steps])
    if rest.strip() and pattern.search(rest):
        return FollowUp(entry.id, f"{aspect} in the rest of the answer", more=True)
    return None


def thread_topic(content: Content, faq_id: str | None, options: list[str]) -> str | None:
    """The FAQ topic being discussed: the current answer's, else the topic whose questions
    were shown last (a topic or category menu); not a FAQ answer merely offered under a
    service's answer (the fine-by-camera answer and the scam one offered under it: "quá hạn
    nộp thì có bị sao không" is about the fine, not a scam's risk)."""
    if faq_id:
        found = content.faq(faq_id)
        if found is not None:
            return found[0].topic
    if any(p.startswith("st:") for p in options):
        return None  # a service's card or answer is on screen: its thread
    for p in options:
        head, _, rest = p.partition(":")
        if head == "c":
            return rest.partition(":")[0]
        if head in ("q", "qm"):
            found = content.faq(rest)
            if found is not None:
                return found[0].topic
    return None


def scam_thread_words(text: str) -> bool:
    """Whether ``text`` is one of a scam thread's own follow-ups: the citizen caught by it,
    at risk from it, or asking where to report it ("thế báo ở đâu")."""
    folded = _words(text)
    return bool(_VICTIM.search(folded) or _AT_RISK.search(folded) or _REPORT.search(folded))


def follow_up(content: Content, text: str, *, topic: str | None, current: str | None,
              understood_faq: str | None, understood_intent: str | None,
              before: str = "", service: str | None = None) -> FollowUp | None:
    """The FAQ entry that answers ``text`` as a follow-up in the thread of ``topic`` (the
    current answer being ``current``), or None when no rule applies.

    ``understood_faq`` / ``understood_intent``: what the engine made of the message alone
    (the lock rule also corrects "khóa tài khoản ở đâu" read as the unlock answer with no
    thread at all); ``before``: the citizen's previous question, which may name the account;
    ``service``: the service whose card or answer was shown last, when no FAQ answer was.
    """
    residence = (service in _RESIDENCE_SERVICES and current is None) \
        or current in _RESIDENCE_ANSWERS
    if topic is None and current is None and understood_faq != UNLOCK_ACCOUNT \
            and understood_intent not in _SCAM_INTENTS and not residence:
        return None  # no thread, and nothing the rules correct without one
    folded = _words(text)
    if not folded or len(folded.split()) > MAX_WORDS:
        return None
    if residence and _OWNER.search(folded) and _REFUSES.search(folded):
        # "chủ nhà không chịu ký thì sao" after the temporary-residence card: the owner's
        # consent, not the legal menu.
        return _known(content, OWNER_REFUSES, "the owner will not consent")
    scam_thread = topic == "scam"
    # A crime-report or VNeID thread has how-tos too ("tôi cài rồi", "đăng nhập rồi"): only
    # money or a code given away says a scam caught the citizen there.
    other_thread = topic in ("crime", "vneid")
    vneid_thread = topic == "vneid"
    lost = current == LOST_MONEY
    caught = lost or current == INSTALLED

    if _LOCK.search(folded) and not _LOCKED.search(folded) and (
            scam_thread or other_thread or understood_faq == UNLOCK_ACCOUNT):
        # Which account: the one named now or in the question before; after the lost-money
        # answer (which says to call the bank), the bank's.
        said = f"{folded} {_words(before)}"
        if not _VNEID.search(said) and (_BANK.search(folded) or caught):
            return _known(content, current if caught and current else LOST_MONEY,
                          "lock the bank account")
        return _known(content, LOCK_ACCOUNT, "lock the VNeID account")
    if (scam_thread and _VICTIM.search(folded)) or (
            (other_thread or understood_intent in _SCAM_INTENTS)
            and _VICTIM_STRONG.search(folded)):
        # Money or a code given: the lost-money answer; an app installed or a link clicked
        # ("tôi cài rồi", "tôi lỡ bấm vào rồi"): what to do now, before money goes.
        if _INSTALL.search(folded) and not _PAID.search(folded):
            return _known(content, INSTALLED, "an app installed or a link clicked")
        return _known(content, LOST_MONEY, "caught by the scam")
    if scam_thread and _NOT_CAUGHT.search(folded) and not caught:
        # "tôi chưa bấm" after a scam warning: nothing lost; where to report it.
        return _known(content, REPORT_SCAM, "not caught by the scam")
    if scam_thread and _AT_RISK.search(folded):
        return _known(content, INSTALLED if current == INSTALLED else LOST_MONEY,
                      "at risk after a scam")
    if scam_thread and _REPORT.search(folded):
        # Caught: where to report to the police; not caught: where to report the scam call.
        return _known(content, REPORT_WHERE if caught else REPORT_SCAM, "where to report")
    if topic in ("crime", "legal") and _REPORT.search(folded) and current != REPORT_WHERE:
        # "giờ báo ở đâu" after the reporting answers, "báo công an được không" after the
        # bullying answer: where (and how) to report, not what to prepare.
        return _known(content, REPORT_WHERE, "where to report to the police")
    if vneid_thread and _HOTLINE.search(folded):
        return _known(content, HOTLINE, "the VNeID hotline")
    if vneid_thread and _DELEGATE.search(folded):
        return _known(content, LEVEL_2, "someone else does it")
    if topic == "legal" and _FILE.search(folded) and _WHERE_COURT.search(folded):
        # "nộp đơn ở đâu" in a legal thread: which court; the divorce one after a divorce answer.
        about = content.faq(current) if current else None
        divorce = "ly hon" in folded or (about is not None
                                         and "ly hon" in _content_words(about[1].question))
        return _known(content, DIVORCE_COURT if divorce else COURT, "which court")
    about = content.faq(current) if current and topic == "legal" else None
    if about is not None and _LAWYER.search(folded) and about[1].category not in _CRIMINAL:
        # "có mất tiền thuê luật sư không" after a land, loan or family answer: who gets free
        # legal aid, not the lawyer for an arrested relative.
        return _known(content, LEGAL_AID_WHO, "a lawyer in a civil matter")
    if about is not None and about[1].category == "vay-no" and _PAPER.search(folded) \
            and current != LOAN_PAPER:
        # "giấy viết tay có giá trị không" after the unpaid-loan answer: the loan paper, not
        # the handwritten land purchase.
        return _known(content, LOAN_PAPER, "the paper of a loan")
    if current is not None and (_CANT_FIND.search(folded) or _WHAT_NOW.search(folded)):
        # "đăng nhập rồi mà không thấy mục đó": the steps of the answer just given.
        found = content.faq(current)
        if found is not None and (found[1].steps or found[1].more.strip()):
            return FollowUp(current, "cannot find it", more=True)
    if (understood_intent == "vneid_account" and _LEVEL_2.search(folded)
            and _WHERE.search(folded) and not _RAISE.search(folded)):
        return _known(content, LEVEL_2, "where level 2 is made")
    return None


#: The answer on a lawyer for an arrested relative, and what says a criminal case is meant.
DEFENCE = "legal-bao-chua-mien-phi"
_CRIMINAL_CASE = re.compile(r"\b(bi bat|bat giam|bat giu|tam giam|tam giu|bi can|bi cao|bao chua"
                            r"|vu an|hinh su|khoi to|truy to|xet xu|bi giam|bi tu|di tu"
                            r"|pham toi|cong an bat|bi cong an)\b")


def civil_lawyer(content: Content, faq_id: str | None, text: str) -> FollowUp | None:
    """A free lawyer asked for in a matter with no arrest nor criminal case in it ("công ty nợ
    lương, nhà hộ nghèo, có được luật sư giúp miễn phí không"), read as the arrested
    relative's lawyer: who gets free legal aid instead; None otherwise."""
    if faq_id != DEFENCE:
        return None
    folded = _words(text)
    if not _LAWYER.search(folded) or _CRIMINAL_CASE.search(folded):
        return None
    return _known(content, LEGAL_AID_WHO, "a lawyer in a civil matter")


def _known(content: Content, faq_id: str, rule: str) -> FollowUp | None:
    return FollowUp(faq_id, rule) if content.faq(faq_id) is not None else None


# Words that say nothing of what a question is about ("thì sao", "có ... không", "của tôi").
_FUNCTION = frozenset("""
a ai anh ba bac bi cai cac cho chu co cua da day de em gi ha hay hoi khi khong ko la ma minh mot
nao ne neu nha nhe nhu nhung nua o oi phai roi sao se the thi thoi toi tu va vay vi voi
""".split())


def same_words(content: Content, faq_id: str, text: str) -> bool:
    """Whether ``text`` shares two content words in a row with the entry's questions ("ai được
    nuôi con" and "Ly hôn thì ai được nuôi con?"), not only "tuổi thì" or "thì sao"."""
    found = content.faq(faq_id)
    if found is None:
        return False
    entry = found[1]
    asked = _pairs(_words(text))
    return _shared(asked, (entry.question, *entry.questions)) > 0


@functools.lru_cache(maxsize=8192)
def _pairs_of(text: str) -> frozenset[tuple[str, str]]:
    """Two content words in a row of a content text (a question, a name), remembered: the
    same questions are read for every message."""
    return frozenset(_pairs(_content_words(text)))


def _shared(asked: set[tuple[str, str]], texts: Iterable[str]) -> int:
    """The most pairs of content words ``asked`` shares with one of ``texts``."""
    return max((len(asked & _pairs_of(t)) for t in texts), default=0)


def related_entry(content: Content, svc: Service, text: str) -> Faq | None:
    """The FAQ entry linked to the service whose questions share the most pairs of content
    words (at least two) with ``text``, beyond the service's own name and aliases; else None."""
    asked = _pairs(_words(text))
    for n in (svc.name, *svc.aliases):
        asked -= _pairs_of(n)
    if len(asked) < 2:
        return None
    best: tuple[int, Faq] | None = None
    for topic in content.faqs.values():
        for e in topic.entries:
            if svc.id not in e.services:
                continue
            shared = _shared(asked, (e.question, *e.questions))
            if shared >= 2 and (best is None or shared > best[0]):
                best = (shared, e)
    return best[1] if best else None


def _pairs(folded: str) -> set[tuple[str, str]]:
    """Two content words in a row (folded text)."""
    w = folded.split()
    return {(a, b) for a, b in itertools.pairwise(w)
            if a not in _FUNCTION and b not in _FUNCTION}


def best_in_topic(content: Content, topic: str, text: str,
                  current: str | None = None) -> str | None:
    """The entry of the topic, other than the one just answered, whose questions share the
    most pairs of content words with ``text`` ("mua máy mới thì đăng nhập lại thế nào" and
    "máy … thì đăng nhập VNeID máy mới kiểu gì"), when it shares at least two and no other
    entry as many; else None."""
    asked = _pairs(_words(text))
    if len(asked) < 2:
        return None
    scores: list[tuple[int, str]] = []
    for t in content.faqs.values():
        if t.topic != topic:
            continue
        for e in t.entries:
            if e.id == current:
                continue
            scores.append((_shared(asked, (e.question, *e.questions)), e.id))
    scores.sort(reverse=True)
    if not scores or scores[0][0] < 2 or (len(scores) > 1 and scores[1][0] == scores[0][0]):
        return None
    return scores[0][1]


def names_service(content: Content, sid: str, text: str) -> bool:
    """Whether ``text`` uses two words in a row of the service's name or one of its aliases
    ("căn cước cho con"), not only words any question uses ("con tôi 5 tuổi thì sao")."""
    svc = content.services.get(sid)
    if svc is None:
        return False
    asked = _pairs(_words(text))
    return _shared(asked, (svc.name, *svc.aliases)) > 0


_BACK = re.compile(r"\b(quay lai|tro lai|quay ve|hoi lai|luc nay|hoi nay|ban nay|vua nay|"
                   r"cai truoc|cai luc nay|nhu luc nay)\b")


def back_to(content: Content, text: str, seen: list[str], current: str | None,
            understood: str | None) -> str | None:
    """"quay lại căn cước, mất bao lâu" after the child's ID card and then the passport: the
    service seen before whose name the message uses (the engine, reading the words alone,
    names the adult card); None without such words or when the engine names a seen one."""
    if understood in seen or not any(sid != current for sid in seen):
        return None
    folded = _words(text)
    if not _BACK.search(folded):
        return None
    asked = _pairs(folded)
    for sid in reversed(seen):
        svc = content.services.get(sid)
        if sid != current and svc is not None and asked & _pairs(_content_words(svc.name)):
            return sid
    return None


# "có bị phạt không", "phạt bao nhiêu", "mức phạt": a fine (not "nộp phạt", paying one).
_FINE = re.compile(r"\b(bi phat|phat bao nhieu|muc phat|phat (khong|ko|k|hong|the nao|sao|tien"
                   r"|gi|nang|nhieu)|tien phat|xu phat)\b")
_SPEAKS_OF_FINE = re.compile(r"\bphạt\b", re.IGNORECASE)


def offered(options: list[str]) -> list[str]:
    """The FAQ entries offered one tap away under a service's answer ("Có thể bạn cũng cần
    câu trả lời này"), when a service's answer is what is on screen."""
    if not any(p.startswith("st:") for p in options):
        return []
    return [p[2:] for p in options if p.startswith("q:")]


def fine_on_card(content: Content, service: str | None, shown: list[str],
                 text: str, current: str | None = None) -> FollowUp | None:
    """A fine asked about on a service's card or answer ("không sang tên thì có bị phạt
    không", "không đăng ký thì có bị phạt không"): the question and answer linked to that
    service that speaks of the fine, the one offered under the answer first, else the one
    whose question asks about a fine; None when none or several do (the engine's reading
    stands: a fine on the camera-fine card is that service's own subject)."""
    svc = content.services.get(service or "") if current is None else None
    # A long story: its last clause asks ("..., giờ đi sang tên có bị phạt không").
    folded = _words(re.split(r"[,.;?!]", text.strip(" ?!."))[-1])
    if (svc is None and current is None) or not folded or len(folded.split()) > MAX_WORDS \
            or not _FINE.search(folded):
        return None
    if current is not None:
        # "phạt bao nhiêu" right after an answer that states the fine: that answer again;
        # after one that does not, the fine answer of the one service it is linked to.
        found = content.faq(current)
        if found is None:
            return None
        if _SPEAKS_OF_FINE.search(f"{found[1].question} {found[1].answer}"):
            return FollowUp(current, "a fine asked after the answer stating it", more=False)
        if len(found[1].services) != 1:
            return None
        svc = content.services.get(found[1].services[0])
    if svc is None:
        return None
    linked = [e for t in content.faqs.values() if t.topic != "scam" for e in t.entries
              if svc.id in e.services and _SPEAKS_OF_FINE.search(f"{e.question} {e.answer}")]
    for e in linked:
        if e.id in shown:
            return FollowUp(e.id, "a fine asked about the service, the answer offered")
    asks = [e for e in linked if _SPEAKS_OF_FINE.search(e.question) and e.id != current]
    if len(asks) == 1:
        return FollowUp(asks[0].id, "a fine asked about the service")
    return None


def offered_entry(content: Content, service: str, shown: list[str],
                  text: str) -> FollowUp | None:
    """A short follow-up in the own words of the answer offered under a service's answer
    ("tôi có được lĩnh hằng tháng không" under the death card, with the survivors' benefits
    offered): that answer; None otherwise. Words of the service's name and pairs of question
    words ("bao lâu", "được không") do not count: they ask about the card itself."""
    folded = _words(text)
    svc = content.services.get(service)
    if not folded or len(folded.split()) > MAX_WORDS or svc is None:
        return None
    asked = {pair for pair in _pairs(folded)
             if not (is_question_word(pair[0]) and is_question_word(pair[1]))}
    for n in (svc.name, *svc.aliases):
        asked -= _pairs_of(n)
    for faq_id in shown:
        found = content.faq(faq_id)
        if found is not None and _shared(asked, (found[1].question, *found[1].questions)) > 0:
            return FollowUp(faq_id, "the offered answer's own words")
    return None


# "còn bằng lái thì sao", "thế sổ đỏ thì sao", "giấy khai sinh có phải đổi không": another paper.
_ANOTHER = re.compile(r"^(con|the con|vay con|the|vay|con nhu)\b|\b(thi sao|the nao|sao)$"
                      r"|\b(phai|can|bat buoc) (doi|lam lai|sua|cap lai)\b")
_A_PAPER = re.compile(r"\b(bang lai|giay phep lai xe|gplx|so do|so hong|so dat|giay khai sinh|"
                      r"khai sinh|can cuoc|cccd|cmnd|chung minh|ho chieu|passport|the bhyt|"
                      r"the bao hiem|bao hiem y te|dang ky xe|cavet|ca vet|giay to|giay ket hon|"
                      r"bang tot nghiep|so ho khau)\b")


def other_paper_merged(current: str | None, text: str) -> FollowUp | None:
    """"còn bằng lái xe thì sao" right after the answer on old papers after the merger: the
    same answer (it is about every paper issued before), not the entry on the driving test."""
    if current != MERGER:
        return None
    folded = _words(text)
    if not folded or len(folded.split()) > MAX_WORDS:
        return None
    if _A_PAPER.search(folded) and _ANOTHER.search(folded):
        return FollowUp(MERGER, "another paper after the merger", more=False)
    return None


_PASSPORT = re.compile(r"\b(ho chieu|passport|pasport|ho chiu)\b")
# A young child: "bé", "em bé", "trẻ em", "sơ sinh", "dưới 14 tuổi", or a son or grandchild of
# an age under 14 ("con 3 tuổi", "bé 7t").
_YOUNG = re.compile(r"\b(be|em be|tre em|tre nho|so sinh|con nho|duoi (14|muoi bon) tuoi)\b")
_AGED = re.compile(r"\b(con|chau|be|tre)( \w+){0,3} (\d{1,2}) ?(tuoi|t|thang)\b")


def child_passport(content: Content, service: str | None, alternatives: Iterable[str],
                   text: str) -> FollowUp | None:
    """A passport asked for a young child ("bé nhà em 7t, làm hộ chiếu cho bé thế nào"):
    the answer on a child's passport (who declares, which papers without an ID card), not the
    adults' passport card, which asks for an ID card and a VNeID account; None otherwise."""
    folded = _words(text)
    if not _PASSPORT.search(folded):
        return None
    if service != "cap-ho-chieu" and "cap-ho-chieu" not in alternatives:
        return None
    aged = _AGED.search(folded)
    if aged is not None:
        months = aged.group(4) == "thang"
        if not months and int(aged.group(3)) >= 14:
            return None
    elif not _YOUNG.search(folded):
        return None
    return _known(content, CHILD_PASSPORT, "a passport for a young child")


def linked_service(content: Content, current: str | None, text: str,
                   understood: str | None) -> str | None:
    """"làm sang tên hết mấy tiền" right after the answer on a used motorbike's transfer
    deadline: a question about the service that answer is linked to and whose name the
    message uses (the engine, reading it alone, names the land register's transfer); None
    when the engine names a linked service itself or the message names none or several."""
    found = content.faq(current) if current else None
    if found is None or understood in found[1].services:
        return None
    folded = _words(text)
    if not folded or len(folded.split()) > MAX_WORDS or _FINE.search(folded):
        return None  # a fine is the answer's own subject (fine_on_card)
    asked = {pair for pair in _pairs(folded) if not set(pair) <= _GENERIC}
    named = [sid for sid in found[1].services
             if (svc := content.services.get(sid)) is not None
             and _shared(asked, (svc.name, *svc.aliases)) > 0]
    return named[0] if len(named) == 1 else None



#: Aspects a short follow-up may ask of the one service an answer is linked to.
_LINKED_ASPECTS = ("fee", "documents", "duration", "where")


def only_linked_service(content: Content, current: str | None, text: str,
                        understood: str | None, aspect: str | None) -> str | None:
    """"hết bao nhiêu tiền" right after the child's passport answer, which is linked to the
    passport service alone and does not state a fee: that aspect of that service, not
    "which procedure's fee?". None when the answer (or its rest) speaks of the aspect (the
    thread rules give it again), when the entry is linked to none or several services, when
    the message is long, asks about a fine, or names another service, or when the entry's
    question does not name that service (it is then only next to it)."""
    found = content.faq(current) if current else None
    if found is None or aspect not in _LINKED_ASPECTS or len(found[1].services) != 1:
        return None
    sid = found[1].services[0]
    folded = _words(text)
    if sid not in content.services or not folded or len(folded.split()) > 6 \
            or _FINE.search(folded):
        return None
    if not names_service(content, sid, found[1].question):
        return None  # an answer only loosely linked (VNeID's level 2, next to the ID card)
    if understood not in (None, sid) and names_service(content, understood,
                                                       _ASPECT_WORDS.sub(" ", folded)):
        return None  # "còn làm căn cước thì mấy tiền": another service, named (not "lệ
        # phí", which the university admission's aliases use too)
    entry = found[1]
    pattern = _SPEAKS_OF[aspect] if aspect in _SPEAKS_OF else None
    if pattern is None:
        return sid
    # A sentence that sends the reader to the service for it ("Lệ phí và thời gian giải
    # quyết xem ở thủ tục cấp hộ chiếu") says the answer is the service's, not the entry's.
    said = [part for text in (entry.question, entry.answer, entry.more, *entry.steps)
            for part in _SENTENCE.split(text) if not _REFERS.search(part)]
    return None if pattern.search(" ".join(said)) else sid


_ASPECT_WORDS = re.compile(r"\b(le phi|phi|bao nhieu|may|tien|giay to|ho so|bao lau|o dau|"
                           r"nop|lam)\b")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_REFERS = re.compile(r"\bxem (ở|tại) (mục )?thủ tục\b", re.IGNORECASE)

#: Words of every procedure's name: "đăng ký" alone names no service.
_GENERIC = frozenset("dang ky cap lai lam doi xin giay to thu tuc moi".split())


#: The owner-consent answer of each residence service.
_OWNER_ANSWERS = {"dang-ky-tam-tru": OWNER_REFUSES, "dang-ky-thuong-tru": OWNER_REFUSES_PERMANENT}


def owner_refuses(content: Content, service: str | None, text: str) -> FollowUp | None:
    """A residence registration asked when the home's owner will not agree ("chủ trọ không
    chịu đăng ký tạm trú cho cháu thì làm sao", "nhà bà sui đứng tên, bà không chịu cho nhập"):
    the answer on the owner's consent for that service, not its steps; None otherwise."""
    faq_id = _OWNER_ANSWERS.get(service or "")
    folded = _words(text)
    if faq_id is None or not _OWNER_NAMED.search(folded) or not _REFUSES.search(folded):
        return None
    return _known(content, faq_id, "the owner will not consent")
