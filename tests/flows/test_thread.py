"""Follow-ups in a question-and-answer thread (flows/thread.py): which entry answers them.

The rules are checked on what citizens type after an answer, and on the look-alikes that must
stay with the understanding engine; every entry a rule answers with exists in the content.
"""

from __future__ import annotations

import datetime as dt

import pytest

from flows.content import Content, load_content
from flows.services import aspect_text
from flows.thread import (
    ANSWERS,
    aspect_of_answer,
    back_to,
    child_passport,
    civil_lawyer,
    fine_on_card,
    follow_up,
    linked_service,
    offered_entry,
    only_linked_service,
    other_paper_merged,
    owner_refuses,
    same_words,
    thread_topic,
)


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content()


def _topic_of(content: Content, faq_id: str) -> str:
    found = content.faq(faq_id)
    assert found is not None, faq_id
    return found[0].topic


def test_every_answer_is_in_the_content(content: Content) -> None:
    for faq_id in ANSWERS:
        assert content.faq(faq_id) is not None, faq_id


@pytest.mark.parametrize(("current", "text", "expected"), [
    # Caught by a scam, told right after the warning: an app installed or a link clicked,
    # nothing paid, is what to do now (disconnect, lock the bank); money or a code given is
    # the lost-money answer.
    ("scam-gia-cong-an-cai-app", "tôi lỡ bấm vào rồi", "scam-lo-cai-app"),
    ("scam-gia-can-bo-thue", "tôi cài rồi", "scam-lo-cai-app"),
    ("scam-gia-cong-an-cai-app", "toi chuyen tien roi thi sao", "scam-da-mat-tien"),
    ("scam-lo-cai-app", "tôi đã chuyển tiền rồi", "scam-da-mat-tien"),
    ("scam-lo-cai-app", "tôi bị rút hết tiền rồi", "scam-da-mat-tien"),
    ("scam-goi-video-dieu-tra", "tôi chuyển rồi", "scam-da-mat-tien"),
    ("scam-phat-nguoi", "tôi lỡ bấm vào link rồi", "scam-lo-cai-app"),
    ("scam-link-vneid-gia", "lỡ cài app đó rồi thì sao", "scam-lo-cai-app"),
    ("scam-link-vneid-gia", "tôi cài app rồi còn đọc mã otp nữa", "scam-da-mat-tien"),
    ("crime-khong-bao-gio-hoi", "tôi lỡ đọc mã otp cho nó rồi", "scam-da-mat-tien"),
    ("vneid-khong-nhan-otp", "tôi lỡ đưa mã otp cho người lạ rồi", "scam-da-mat-tien"),
    ("scam-da-mat-tien", "có mất tiền ko", "scam-da-mat-tien"),
    ("scam-cccd-bi-loi", "tôi kết bạn rồi", "scam-da-mat-tien"),
    ("scam-cccd-bi-loi", "tôi đọc cho nó rồi", "scam-da-mat-tien"),
    # Where to report: a scam call, nothing lost, to 156 and VNeID; once caught, where to
    # report to the police (not what to prepare); after the reporting answers and the
    # bullying answer, the same.
    ("scam-goi-video-dieu-tra", "giờ báo ở đâu", "scam-bao-cao-lua-dao"),
    ("scam-da-mat-tien", "báo công an ở đâu", "crime-cach-khac"),
    ("scam-lo-cai-app", "giờ báo ở đâu", "crime-cach-khac"),
    ("crime-chuan-bi", "giờ báo ở đâu", "crime-cach-khac"),
    ("legal-bat-nat-hoc-duong", "báo công an được không", "crime-cach-khac"),
    # An app installed, then the bank: its rest (lock the bank, clean the phone).
    ("scam-lo-cai-app", "khóa tài khoản ngân hàng ở đâu", "scam-lo-cai-app"),
    # To lock (not the unlock answer); the bank's account after the lost-money answer.
    ("vneid-mat-dien-thoai", "thế khóa tài khoản ở đâu", "vneid-mat-dien-thoai"),
    ("scam-da-mat-tien", "khóa tài khoản ở đâu", "scam-da-mat-tien"),
    ("scam-da-mat-tien", "khoa tai khoan vneid o dau", "vneid-mat-dien-thoai"),
    # The VNeID hotline, someone else doing level 2.
    ("vneid-khong-nhan-otp", "tổng đài số mấy", "vneid-hotline"),
    ("vneid-mat-dien-thoai", "goi so nao", "vneid-hotline"),
    ("vneid-khong-co-smartphone", "thế nhờ con cháu làm hộ được không", "vneid-dang-ky-muc-2"),
    # Not caught by the scam just described: nothing lost, where to report it.
    ("scam-dau-hieu-chung", "tôi chưa bấm", "scam-bao-cao-lua-dao"),
    ("scam-phat-nguoi", "may ma chua chuyen tien", "scam-bao-cao-lua-dao"),
    # Filing for divorce named in the message: the divorce court, whatever the legal thread.
    ("legal-bao-luc-bao-tin", "tôi muốn ly hôn thì nộp đơn ở đâu", "legal-ly-hon-nop-don-o-dau"),
    # "What now" after an answer with steps: its steps.
    ("scam-da-mat-tien", "giờ phải làm gì", "scam-da-mat-tien"),
    # A lawyer after a civil answer: who gets free legal aid (issue 11, trial a7).
    ("legal-tranh-chap-dat-hoa-giai", "có mất tiền thuê luật sư không",
     "legal-ai-duoc-tro-giup-phap-ly"),
    ("legal-vay-tien-khong-tra", "thue luat su kien thi het bao nhieu",
     "legal-ai-duoc-tro-giup-phap-ly"),
    ("legal-thua-ke-dat", "nhà nghèo có được luật sư giúp không",
     "legal-ai-duoc-tro-giup-phap-ly"),
    # The paper of a loan after the unpaid-loan answer (trial i1), not the land purchase.
    ("legal-vay-tien-khong-tra", "giấy viết tay có giá trị không", "legal-giay-vay-viet-tay"),
    ("legal-lai-suat-toi-da", "giay no co can cong chung khong", "legal-giay-vay-viet-tay"),
    # The owner's consent after the temporary-residence answer (trial a6).
    ("legal-dang-ky-tam-tru", "chủ nhà không chịu ký thì sao", "legal-tam-tru-chu-nha-khong-ky"),
])
def test_follow_up_in_a_thread(content: Content, current: str, text: str,
                               expected: str) -> None:
    found = follow_up(content, text, topic=_topic_of(content, current), current=current,
                      understood_faq=None, understood_intent=None)
    assert found is not None and found.faq == expected, (text, found)


@pytest.mark.parametrize(("current", "text"), [
    ("vneid-bi-khoa", "tài khoản bị khóa rồi mở ở đâu"),  # locked: the engine's unlock answer
    ("vneid-bi-khoa", "mở khóa ở đâu"),
    ("vneid-dang-ky-muc-1", "tôi cài rồi mà không vào được"),  # not a scam in a VNeID thread
    ("vneid-khong-nhan-otp", "mất bao lâu"),
    ("vneid-khong-co-smartphone", "làm hộ chiếu ở đâu"),  # "hộ chiếu" is not "làm hộ"
    ("scam-phat-nguoi", "bao lâu thì có kết quả"),  # "bao lâu" is not "báo"
    ("scam-phat-nguoi", "nộp phạt giao thông hết bao nhiêu"),
    ("legal-vay-tien-khong-tra", "tôi chuyển tiền rồi mà nó không trả"),  # a legal thread
    ("scam-da-mat-tien", "tôi chưa chuyển tiền"),  # after losing money: not "nothing lost"
    ("scam-lo-cai-app", "tôi chưa chuyển tiền"),  # an app installed: not "nothing lost"
    ("legal-bat-nat-hoc-duong", "báo cáo nhà trường bao lâu thì có kết quả"),
    ("crime-cach-khac", "báo công an ở đâu"),  # that answer itself: the engine's reading
    ("scam-phat-nguoi", "giờ làm gì để nộp phạt thật"),  # a question of its own
    # The arrested relative's lawyer stays with the engine in a criminal-report thread.
    ("legal-bao-chua-mien-phi", "có mất tiền thuê luật sư không"),
    # Papers to file a claim are not the loan paper; a land paper is not a loan thread's.
    ("legal-vay-tien-khong-tra", "kiện thì cần giấy tờ gì"),
    ("legal-mua-dat-giay-tay", "giấy viết tay có giá trị không"),
    # An owner who agrees is no refusal.
    ("legal-dang-ky-tam-tru", "chủ nhà đồng ý rồi thì làm gì tiếp"),
])
def test_not_a_thread_follow_up(content: Content, current: str, text: str) -> None:
    assert follow_up(content, text, topic=_topic_of(content, current), current=current,
                     understood_faq=None, understood_intent=None) is None


def test_lock_without_a_thread_only_corrects_the_unlock_answer(content: Content) -> None:
    text = "khóa tài khoản vneid ở đâu"
    found = follow_up(content, text, topic=None, current=None,
                      understood_faq="vneid-bi-khoa", understood_intent="vneid_account")
    assert found is not None and found.faq == "vneid-mat-dien-thoai"
    assert follow_up(content, text, topic=None, current=None, understood_faq=None,
                     understood_intent="vneid_account") is None


def test_a_long_message_is_a_question_of_its_own(content: Content) -> None:
    text = ("tôi lỡ bấm vào rồi nhưng mà tôi muốn hỏi thêm là làm hộ chiếu cho con tôi "
            "năm nay mười bốn tuổi thì cần những giấy tờ gì và nộp ở đâu")
    assert follow_up(content, text, topic="scam", current="scam-phat-nguoi",
                     understood_faq=None, understood_intent=None) is None


def test_the_thread_topic(content: Content) -> None:
    assert thread_topic(content, "vneid-bi-khoa", []) == "vneid"
    assert thread_topic(content, None, ["c:scam:xu-ly", "m"]) == "scam"
    assert thread_topic(content, None, ["q:crime-goi-113"]) == "crime"
    # The main menu's topic doors are not a thread.
    assert thread_topic(content, None, ["svc", "t:crime", "t:legal", "t:scam"]) is None
    # A FAQ answer offered under a service's answer: the service is the thread.
    assert thread_topic(content, None, ["st:nop-phat-giao-thong:0", "a:nop-phat-giao-thong:fee",
                                        "m", "q:scam-phat-nguoi"]) is None


@pytest.mark.parametrize(("faq", "text", "expected"), [
    # A free lawyer in a civil matter: who gets legal aid; with an arrest: the defence answer.
    ("legal-bao-chua-mien-phi", "chủ trọ giữ tiền cọc, tôi nghèo, có luật sư miễn phí không",
     "legal-ai-duoc-tro-giup-phap-ly"),
    ("legal-bao-chua-mien-phi", "con tôi bị công an bắt, có luật sư miễn phí không", None),
    ("legal-no-luong", "công ty nợ lương, có luật sư miễn phí không", None),
])
def test_a_free_lawyer_in_a_civil_matter(content: Content, faq: str, text: str,
                                         expected: str | None) -> None:
    found = civil_lawyer(content, faq, text)
    assert (found.faq if found else None) == expected


def test_the_eligibility_answer_says_who_may_do_it(content: Content) -> None:
    svc = content.services["dang-ky-khai-sinh"]
    body = aspect_text(content, svc, "eligibility", dt.date(2026, 12, 4))
    assert svc.eligibility[0].text.split("\n")[0] in body
    assert f"{content.text('services.audience')} {svc.audience}" in body


@pytest.mark.parametrize(("current", "aspect", "more"), [
    ("vneid-dang-ky-muc-2", "documents", False),  # "Mang thẻ căn cước gắn chip"
    ("vneid-hotline", "fee", False),  # a 1900 number: the call may cost
])
def test_an_aspect_the_answer_speaks_of(content: Content, current: str, aspect: str,
                                        more: bool) -> None:
    found = aspect_of_answer(content, current, aspect)
    assert found is not None and found.faq == current and found.more is more


def test_an_aspect_the_answer_is_silent_on(content: Content) -> None:
    assert aspect_of_answer(content, "vneid-muc-1-muc-2", "fee") is None
    assert aspect_of_answer(content, "vneid-bi-khoa", None) is None


def test_a_guess_in_the_entrys_own_words(content: Content) -> None:
    assert same_words(content, "legal-quyen-nuoi-con", "ai được nuôi con")
    assert same_words(content, "vneid-doi-dien-thoai-moi",
                      "mua máy mới thì đăng nhập lại thế nào")
    # "tuổi thì" is no reason to answer the marriage-age question.
    assert not same_words(content, "legal-ket-hon-tuoi", "con tôi 5 tuổi thì sao")


def test_back_to_a_service_seen_before(content: Content) -> None:
    seen = ["can-cuoc-tre-duoi-6", "cap-ho-chieu"]
    # The engine names the adult card; the child's, seen before, is the one meant.
    assert back_to(content, "quay lại căn cước, mất bao lâu", seen, "cap-ho-chieu",
                   "cap-doi-the-can-cuoc") == "can-cuoc-tre-duoi-6"
    # Without a word of going back, or when the engine names a service seen before: its reading.
    assert back_to(content, "căn cước mất bao lâu", seen, "cap-ho-chieu",
                   "cap-doi-the-can-cuoc") is None
    assert back_to(content, "quay lại hộ chiếu", seen, "can-cuoc-tre-duoi-6",
                   "cap-ho-chieu") is None
    assert back_to(content, "quay lại", seen, "cap-ho-chieu", None) is None


def test_cannot_find_it_shows_the_steps(content: Content) -> None:
    found = follow_up(content, "tôi đăng nhập rồi mà không thấy mục đó", topic="crime",
                      current="crime-to-giac-vneid", understood_faq=None,
                      understood_intent=None)
    # (not the lost-money answer: logging in is no scam in a how-to thread)
    assert found is not None and found.faq == "crime-to-giac-vneid" and found.more is True


def test_what_now_gives_the_steps_of_the_answer(content: Content) -> None:
    found = follow_up(content, "gio lam gi", topic="scam", current="scam-da-mat-tien",
                      understood_faq=None, understood_intent="menu_help")
    assert found is not None and found.faq == "scam-da-mat-tien" and found.more is True


def test_the_owner_refuses_after_the_residence_card(content: Content) -> None:
    """After the temporary-residence service card (no FAQ answer shown), "chủ nhà không chịu
    ký thì sao" is about the owner's consent; after another service's card it is not."""
    text = "chủ nhà không chịu ký thì sao"
    found = follow_up(content, text, topic=None, current=None, understood_faq=None,
                      understood_intent="legal_help", service="dang-ky-tam-tru")
    assert found is not None and found.faq == "legal-tam-tru-chu-nha-khong-ky"
    assert follow_up(content, text, topic=None, current=None, understood_faq=None,
                     understood_intent="legal_help", service="cap-ho-chieu") is None
    assert follow_up(content, "chủ trọ đồng ý rồi", topic=None, current=None,
                     understood_faq=None, understood_intent=None,
                     service="dang-ky-tam-tru") is None


def _faq_of(found: object) -> str | None:
    return getattr(found, "faq", None)


@pytest.mark.parametrize(("service", "shown", "text", "current", "expected"), [
    # on the card: the answer offered under it first, else the one asking about a fine
    ("sang-ten-xe", ["legal-ban-xe-thu-hoi-dang-ky"], "thế tôi không làm thì có bị phạt không",
     None, "legal-ban-xe-thu-hoi-dang-ky"),
    ("sang-ten-xe", [], "de lau khong sang ten co bi phat khong", None,
     "legal-sang-ten-xe-han-phat"),
    ("dang-ky-tam-tru", [], "ở trọ mà không đăng ký thì phạt bao nhiêu", None,
     "legal-phat-cu-tru"),
    # the opening question of a long story: its last clause asks
    ("sang-ten-xe", [], "Tôi mua xe của ông chú từ năm kia, chưa làm giấy tờ gì, giờ sang tên "
     "có bị phạt không", None, "legal-sang-ten-xe-han-phat"),
    # after the answer stating the fine: that answer; after one linked to a single service
    # that does not: that service's fine answer
    (None, [], "mức phạt bao nhiêu", "legal-sang-ten-xe-han-phat", "legal-sang-ten-xe-han-phat"),
    (None, [], "không làm thì có bị phạt không", "legal-tam-tru-chu-nha-khong-ky",
     "legal-phat-cu-tru"),
    # no fine asked, or paying one (the camera-fine card's own subject)
    ("sang-ten-xe", [], "sang tên mất bao lâu", None, None),
    ("nop-phat-giao-thong", [], "nộp phạt ở đâu", None, None),
])
def test_a_fine_asked_about_a_service(content: Content, service: str | None, shown: list[str],
                                      text: str, current: str | None,
                                      expected: str | None) -> None:
    assert _faq_of(fine_on_card(content, service, shown, text, current)) == expected


@pytest.mark.parametrize(("service", "alternatives", "text", "expected"), [
    ("cap-ho-chieu", [], "làm hộ chiếu cho bé nhà tôi đi du lịch", "daily-ho-chieu-tre-em"),
    (None, ["cap-ho-chieu"], "chau ngoai 6 tuoi lam ho chieu o dau", "daily-ho-chieu-tre-em"),
    ("cap-ho-chieu", [], "làm hộ chiếu cho con mới 8 tháng tuổi", "daily-ho-chieu-tre-em"),
    # a grown child, no child named, or no passport at all
    ("cap-ho-chieu", [], "con tôi 19 tuổi làm hộ chiếu đi du học", None),
    ("cap-ho-chieu", [], "làm hộ chiếu mất bao lâu", None),
    ("can-cuoc-tre-duoi-6", [], "làm căn cước cho bé 3 tuổi", None),
])
def test_a_passport_for_a_young_child(content: Content, service: str | None,
                                      alternatives: list[str], text: str,
                                      expected: str | None) -> None:
    assert _faq_of(child_passport(content, service, alternatives, text)) == expected


def test_another_paper_after_the_merger_answer() -> None:
    assert _faq_of(other_paper_merged("daily-sap-nhap", "thế còn sổ hồng thì sao")) \
        == "daily-sap-nhap"
    assert _faq_of(other_paper_merged("daily-sap-nhap", "hộ chiếu có phải đổi không")) \
        == "daily-sap-nhap"
    assert other_paper_merged("daily-sap-nhap", "cảm ơn nhé") is None
    assert other_paper_merged("vneid-la-gi", "còn bằng lái thì sao") is None


def test_the_owner_refuses_in_the_opening_question(content: Content) -> None:
    assert _faq_of(owner_refuses(content, "dang-ky-thuong-tru",
                                 "nhà do bác tôi đứng tên, bác không đồng ý cho nhập khẩu")) \
        == "legal-thuong-tru-chu-nha-khong-dong-y"
    assert _faq_of(owner_refuses(content, "dang-ky-tam-tru",
                                 "chủ phòng không chịu khai tạm trú cho tôi")) \
        == "legal-tam-tru-chu-nha-khong-ky"
    assert owner_refuses(content, "dang-ky-tam-tru", "chủ nhà đồng ý rồi, làm thế nào") is None
    assert owner_refuses(content, "dang-ky-khai-sinh", "chủ nhà không chịu") is None


def test_the_offered_answer_in_its_own_words(content: Content) -> None:
    shown = ["legal-huu-tri-mat-gia-dinh-nhan-gi"]
    assert _faq_of(offered_entry(content, "lien-thong-khai-tu", shown,
                                 "vợ có được nhận tiền tuất hằng tháng không")) == shown[0]
    # question words and the service's own name are no words of the offered answer
    assert offered_entry(content, "lien-thong-khai-tu", shown, "mất bao lâu") is None
    assert offered_entry(content, "ly-lich-tu-phap", ["vneid-ly-lich-tu-phap"],
                         "xin lý lịch tư pháp hết bao nhiêu") is None


def test_the_service_an_answer_is_linked_to(content: Content) -> None:
    assert linked_service(content, "legal-sang-ten-xe-han-phat", "sang tên hết mấy tiền",
                          "dang-ky-bien-dong-dat-dai") == "sang-ten-xe"
    # "đăng ký" alone names no service; the engine's own linked reading stands
    assert linked_service(content, "legal-tam-tru-chu-nha-khong-ky", "đăng ký mất bao lâu",
                          None) is None
    assert linked_service(content, "legal-sang-ten-xe-han-phat", "sang tên hết mấy tiền",
                          "sang-ten-xe") is None


def test_only_linked_service(content: Content) -> None:
    """An aspect after an answer linked to one service, which does not state it: that
    service; not when the answer states it, the message names another service or is long."""
    kid = "daily-ho-chieu-tre-em"  # its rest sends the fee and the time to the service
    assert only_linked_service(content, kid, "hết bao nhiêu tiền", None, "fee") == "cap-ho-chieu"
    assert only_linked_service(content, kid, "lệ phí bao nhiêu vậy", "xet-tuyen-dai-hoc",
                               "fee") == "cap-ho-chieu"
    assert only_linked_service(content, kid, "mất bao lâu", None, "duration") == "cap-ho-chieu"
    assert only_linked_service(content, kid, "cần giấy tờ gì", None, "documents") is None
    assert only_linked_service(content, kid, "còn làm căn cước thì mấy tiền",
                               "cap-doi-the-can-cuoc", "fee") is None
    assert only_linked_service(content, kid, "hết bao nhiêu tiền", None, "steps") is None
    # an answer only next to the service: its question does not name it
    assert only_linked_service(content, "vneid-dang-ky-muc-2", "hết bao nhiêu tiền", None,
                               "fee") is None
    # linked to two services, or no answer being discussed
    assert only_linked_service(content, "daily-sap-nhap", "mấy tiền", None, "fee") is None
    assert only_linked_service(content, None, "mấy tiền", None, "fee") is None
