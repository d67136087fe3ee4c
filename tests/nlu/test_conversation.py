"""What issue 11 asks of the understanding: the thread, the where aspect, long letters, a
second topic, procedures outside the 53, questions about the assistant, and danger in a parse."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from nlu.builtin import BuiltinEngine, _faq_indexes
from nlu.data import training_examples

# ---------------------------------------------------------------------- follow-ups


@pytest.mark.parametrize(("service", "text", "aspect"), [
    ("cap-ho-chieu", "còn giấy tờ gì nữa", "documents"),
    ("cap-ho-chieu", "con giay to gi nua", "documents"),
    ("cap-ho-chieu", "mất bao lâu", "duration"),
    ("cap-ho-chieu", "hết bao nhiêu", "fee"),
    ("cap-ho-chieu", "hết nhiu tiền", "fee"),
    ("cap-ho-chieu", "het nhiu tien v", "fee"),
    ("cap-ho-chieu", "ở đâu", "where"),
    ("dang-ky-tam-tru", "con phai den dau lam", "where"),
    ("dang-ky-tam-tru", "có làm online được không", "where"),
    ("dang-ky-tam-tru", "nộp ở đâu", "where"),
    ("ly-lich-tu-phap", "thế còn trên vneid có làm được không", "where"),
    ("dang-ky-tam-tru", "qua mạng có nộp được ko", "where"),
    ("dang-ky-ket-hon", "ai được làm", "eligibility"),
    ("dang-ky-ket-hon", "cảm ơn, còn hết bao nhiêu tiền", "fee"),
    ("cap-doi-the-can-cuoc", "phải đến đâu làm", "where"),
    ("cap-doi-the-can-cuoc", "vậy làm sao", "steps"),
])
def test_a_short_follow_up_stays_on_the_current_service(engine: BuiltinEngine, service: str,
                                                        text: str, aspect: str) -> None:
    p = engine.parse(text, current_service=service)
    assert (p.intent, p.service, p.aspect, p.decision) == (
        "service_howto", service, aspect, "answer")
    assert p.follow_up


def test_without_a_current_service_the_same_words_are_read_alone(engine: BuiltinEngine) -> None:
    p = engine.parse("con phai den dau lam")
    assert not p.follow_up
    assert p.aspect == "where"


@pytest.mark.parametrize(("text", "service"), [
    ("vậy làm giấy khai sinh cho con thì sao", "dang-ky-khai-sinh"),
    ("còn đăng ký tạm trú thì nộp ở đâu", "dang-ky-tam-tru"),
    ("thế đổi bằng lái xe hết bao nhiêu", "doi-giay-phep-lai-xe"),
])
def test_a_message_that_names_another_service_switches(engine: BuiltinEngine, text: str,
                                                       service: str) -> None:
    p = engine.parse(text, current_service="cap-ho-chieu")
    assert (p.intent, p.service) == ("service_howto", service)
    assert not p.follow_up


@pytest.mark.parametrize(("text", "intent"), [
    ("ai được trợ giúp pháp lý miễn phí", "legal_help"),
    ("quên mật khẩu VNeID thì làm sao", "vneid_account"),
    ("đừng gửi tin cho tôi nữa", "unsubscribe"),
    ("thôi cảm ơn nhé", "thanks"),
    ("nhà tôi đang cháy, cứu với", "emergency"),
])
def test_other_requests_are_not_taken_for_follow_ups(engine: BuiltinEngine, text: str,
                                                     intent: str) -> None:
    assert engine.parse(text, current_service="cap-ho-chieu").intent == intent


# ---------------------------------------------------------------------- where


@pytest.mark.parametrize("text", [
    "làm hộ chiếu nộp ở đâu", "đổi căn cước làm ở đâu", "đăng ký kết hôn ở chỗ nào",
    "xin lý lịch tư pháp đến đâu làm", "đăng ký tạm trú ở cơ quan nào",
    "lam ho chieu o dau", "đăng ký xe máy có làm online được không", "khai sinh ở mô",
])
def test_where_to_file_is_the_where_aspect(engine: BuiltinEngine, text: str) -> None:
    assert engine.parse(text).aspect == "where"


@pytest.mark.parametrize(("text", "aspect"), [
    ("làm con dấu mới cần giấy tờ gì", "documents"),
    ("làm hộ chiếu online thế nào", "steps"),
])
def test_a_stamp_is_not_a_where_and_online_how_is_steps(engine: BuiltinEngine, text: str,
                                                        aspect: str) -> None:
    assert engine.parse(text).aspect == aspect


# ---------------------------------------------------------------------- long messages

LETTER = ("Tôi năm nay 65 tuổi, con trai tôi đi làm ở Hàn Quốc. Tháng trước vợ nó sinh cháu "
          "ở quê, nhà chỉ có hai bà cháu. Xin hỏi làm giấy khai sinh cho cháu cần những giấy "
          "tờ gì? Rất mong được giải đáp.")


def test_the_question_inside_a_letter_is_found_and_weighs_most(engine: BuiltinEngine) -> None:
    p = engine.parse(LETTER)
    assert p.question is not None and p.question.startswith("Xin hỏi")
    assert "giải đáp" not in p.question  # a closing formula is not the question
    assert (p.intent, p.service, p.aspect) == ("service_howto", "dang-ky-khai-sinh",
                                               "documents")


def test_the_story_does_not_outweigh_the_question(engine: BuiltinEngine) -> None:
    text = ("Vợ chồng tôi đăng ký kết hôn năm 2015 ở quê, sau đó vào Bình Dương làm công nhân "
            "và thuê trọ ở đây đã hai năm. Cho tôi hỏi bây giờ muốn đăng ký tạm trú ở nhà trọ "
            "thì phải làm thế nào?")
    p = engine.parse(text)
    assert (p.intent, p.service) == ("service_howto", "dang-ky-tam-tru")


def test_a_second_topic_is_offered(engine: BuiltinEngine) -> None:
    p = engine.parse(LETTER.replace(" Rất mong được giải đáp.",
                                    " Và đăng ký tạm trú cho con dâu ở đâu?"))
    assert p.service == "dang-ky-khai-sinh"
    assert p.second is not None and p.second.service == "dang-ky-tam-tru"


def test_a_follow_up_about_the_same_thing_is_not_a_second_topic(engine: BuiltinEngine) -> None:
    p = engine.parse("Bố tôi có lương hưu, vừa mất tuần trước. Gia đình cần làm hồ sơ gì để "
                     "được hưởng chế độ tử tuất? Sau bao lâu thì nhận được tiền?")
    assert p.service == "lien-thong-khai-tu"
    assert p.second is None


@pytest.mark.parametrize("text", [
    # Words of a story read alone as another topic: a blocked phone number (a person?), a
    # banking app (a legal question?). Neither is a second question to offer.
    "Năm 2018 tôi cho anh bạn vay 30 triệu, có giấy viết tay. Anh ấy hẹn mãi không trả, giờ "
    "còn chặn số điện thoại của tôi. Tôi muốn hỏi tôi còn kiện đòi được không, và kiện ở đâu?",
    "Tôi đánh rơi điện thoại, trong máy có VNeID và cả ứng dụng ngân hàng, giờ phải làm gì "
    "trước",
])
def test_story_words_read_as_another_topic_are_no_second_topic(engine: BuiltinEngine,
                                                                 text: str) -> None:
    assert engine.parse(text).second is None


def test_a_service_named_as_a_state_is_no_second_topic(engine: BuiltinEngine) -> None:
    # "chưa đăng ký kết hôn" is the parents' situation, not a wish to marry.
    p = engine.parse("Em với bạn gái chưa đăng ký kết hôn mà đã có con, giờ làm giấy khai sinh "
                     "cho bé có ghi tên bố được không ạ")
    assert p.second is None or p.second.service != "dang-ky-ket-hon"
    assert BuiltinEngine._named_as_wanted("chua tung co ho chieu") == set()
    assert BuiltinEngine._named_as_wanted("khong biet lam ho chieu o dau") == {"cap-ho-chieu"}


def test_one_short_question_has_no_second_topic(engine: BuiltinEngine) -> None:
    assert engine.parse("làm hộ chiếu hết bao nhiêu tiền").second is None


# ---------------------------------------------------------------------- outside the 53


@pytest.mark.parametrize("text", [
    "thủ tục nhận con nuôi",
    "Vợ chồng tôi muốn nhận nuôi một bé ở chùa, thủ tục nhận con nuôi thế nào?",
    "xin giấy phép lao động cho người nước ngoài làm ở công ty",
    "tách hộ khẩu cho vợ chồng con trai ở riêng thì làm sao",
    "xin gia hạn visa cho người nước ngoài",
])
def test_a_procedure_outside_the_53_is_said_to_be_outside(engine: BuiltinEngine,
                                                          text: str) -> None:
    p = engine.parse(text)
    assert (p.intent, p.label) == ("out_of_scope", "other_procedure")
    assert p.service is None


def test_adoption_is_never_the_parent_child_recognition_service(engine: BuiltinEngine) -> None:
    p = engine.parse("thủ tục nhận con nuôi")
    assert p.service != "dang-ky-nhan-cha-me-con"


def test_divorce_is_a_legal_question(engine: BuiltinEngine) -> None:
    assert engine.parse("ly hôn thuận tình thì nộp đơn ở đâu").intent == "legal_help"


@pytest.mark.parametrize("text", ["thủ tục ly hôn", "thu tuc ly hon nop o dau",
                                  "muốn ly hôn thì cần giấy tờ gì"])
def test_divorce_as_a_procedure_is_the_legal_faq_not_marriage_registration(
        engine: BuiltinEngine, text: str) -> None:
    # Filed at the court, never at the ward: the FAQ on the two ways to divorce says so.
    p = engine.parse(text)
    assert (p.intent, p.service, p.decision) == ("legal_help", None, "answer")
    assert p.faq == "legal-ly-hon-hai-cach"


# ---------------------------------------------------------------------- the assistant itself


@pytest.mark.parametrize(("text", "intent", "label"), [
    ("bạn là ai", "menu_help", "bot_identity"),
    ("bạn có phải người thật không", "menu_help", "bot_identity"),
    ("đây là máy hay người thật vậy", "menu_help", "bot_identity"),
    ("bot ngu", "human", "insult"),
    ("vô dụng", "human", "insult"),
    ("hỏi mãi không trả lời được, dở tệ", "human", "insult"),
])
def test_questions_about_the_assistant_and_insults(engine: BuiltinEngine, text: str,
                                                   intent: str, label: str) -> None:
    p = engine.parse(text)
    assert (p.intent, p.label) == (intent, label)


# ---------------------------------------------------------------------- FAQ routing

NEW_FAQS = {
    "vneid": ["vneid-khong-nhan-otp", "vneid-bi-khoa", "vneid-nang-muc-2",
              "vneid-khong-co-smartphone"],
    "legal": ["legal-vay-tien-khong-tra", "legal-bat-nat-hoc-duong"],
    "daily": ["daily-so-ho-khau", "daily-sap-nhap"],
}


@dataclass
class _Entry:
    id: str
    question: str
    questions: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def routed(engine: BuiltinEngine, content: Any) -> BuiltinEngine:
    """The trained engine with the FAQ entries issue 12 adds (the content helper writes their
    answers), each with only a title-like question: routing must come from our examples."""
    faqs = dict(content.faqs)
    for topic_id, ids in NEW_FAQS.items():
        topic = faqs[topic_id]
        have = {e.id for e in topic.entries}
        entries = [*topic.entries, *(_Entry(i, i.split("-", 1)[1].replace("-", " "))
                                     for i in ids if i not in have)]
        faqs[topic_id] = SimpleNamespace(entries=entries)
    fake = SimpleNamespace(faqs=faqs)
    out = copy.copy(engine)
    out.faq_index = _faq_indexes(engine.featurizer, fake,
                                 training_examples(content.nlu_files, content))
    return out


@pytest.mark.parametrize(("text", "intent", "faq"), [
    ("không nhận được OTP", "vneid_account", "vneid-khong-nhan-otp"),
    ("tài khoản VNeID bị khóa", "vneid_account", "vneid-bi-khoa"),
    ("nâng cấp mức 2", "vneid_account", "vneid-nang-muc-2"),
    ("vneid không có smartphone", "vneid_account", "vneid-khong-co-smartphone"),
    ("cho em vay tiền giờ không trả có kiện được không", "legal_help",
     "legal-vay-tien-khong-tra"),
    ("con tôi bị bạn bắt nạt ở trường", "legal_help", "legal-bat-nat-hoc-duong"),
    ("sổ hộ khẩu bị bỏ rồi thì dùng gì thay", "vneid_account", "daily-so-ho-khau"),
    ("sau sáp nhập tỉnh giấy tờ cũ có phải đổi không", "vneid_account", "daily-sap-nhap"),
])
def test_new_answers_are_reached(routed: BuiltinEngine, text: str, intent: str,
                                 faq: str) -> None:
    p = routed.parse(text)
    assert (p.intent, p.faq, p.label) == (intent, faq, faq)


# ---------------------------------------------------------------------- danger in a parse


def test_danger_now_comes_first_with_the_most_relevant_number(engine: BuiltinEngine) -> None:
    p = engine.parse("Chào em, chị đang hỏi làm căn cước mà nhà bên cạnh cháy rồi, khói đen lắm")
    assert (p.intent, p.danger, p.decision) == ("emergency", "now", "answer")
    assert p.numbers[0] == "114"


def test_a_calm_look_alike_is_answered_without_alarm(engine: BuiltinEngine) -> None:
    for text in ("sau sáp nhập xã thì làm căn cước ở đâu", "thẻ BHYT đi cấp cứu có được trả không",
                 "chạy nhanh bị phạt bao nhiêu"):
        p = engine.parse(text)
        assert p.intent != "emergency" and p.danger != "now", text


def test_a_calmer_danger_answers_and_adds_the_numbers(engine: BuiltinEngine) -> None:
    p = engine.parse("tôi bị chồng đánh thường xuyên, muốn được trợ giúp pháp lý")
    assert p.intent == "legal_help"
    assert p.danger == "soft" and "113" in p.numbers
