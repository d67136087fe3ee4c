"""Danger detection: is someone's life in danger now, and which numbers matter most.

``assess(text)`` reads the WHOLE message (any length; linear time, no backtracking blow-up),
so the conversation can call it before any "message too long" check. It returns one of three
levels:

- ``now``: danger to life now (fire, violence in progress, someone unconscious, drowning...):
  the emergency numbers are the first reply;
- ``soft``: a danger word in a calmer setting (a past event, an accident being asked about,
  domestic violence in general): answer the question, then one short line with the numbers;
- ``none``: nothing (look-alikes: "sáp nhập", "chạy nhanh bị phạt", "thẻ BHYT đi cấp cứu",
  "diễn tập phòng cháy chữa cháy", "cháy túi", "đâm đơn"...).

How it reads. Every word is kept in two forms: typed with its diacritics, it must match a
phrase exactly ("chạy" is not "cháy", "sáp" is not "sập"); typed without diacritics, it matches
any phrase word that folds to it ("chay" may be "cháy"). Phrases match whole words only.
Look-alike idioms are blanked out first ("sáp nhập", "phòng cháy chữa cháy", "chạy nhanh").
Each danger phrase then looks at its sentence: a past time ("năm ngoái", "hôm qua"), a
procedure ("thẻ BHYT", "bảo hiểm", "hồ sơ", "nộp phạt"), a hypothesis ("nếu", "giả sử") or a
drill ("diễn tập", "tập huấn") calms it down, unless a present signal sits next to it
("đang", "bây giờ", "cứu với"): "hôm qua bị đánh, giờ nó lại đang đập cửa" is danger now.
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from nlu.normalize import _norm_token, fold, is_syllable

__all__ = ["NUMBERS", "Danger", "Level", "assess"]

# The regex parser gives the words a pattern can start with (see ``_table``); it is private
# to ``re`` (stable since Python 3.11), hence the indirect import.
_p: Any = importlib.import_module("re._parser")
_c: Any = importlib.import_module("re._constants")

Level = Literal["now", "soft", "none"]

#: Emergency numbers in Vietnam (content/hotlines.yaml has their names).
NUMBERS = ("113", "114", "115", "112")

#: Which numbers come first for each kind of danger.
_FIRST: dict[str, tuple[str, ...]] = {
    "fire": ("114",), "gas": ("114",), "collapse": ("114", "115"), "water": ("114", "115"),
    "disaster": ("112", "114"), "violence": ("113", "115"), "crime": ("113",),
    "medical": ("115",), "self_harm": ("115", "113"), "accident": ("115", "113"),
    "generic": (),
}


@dataclass(frozen=True)
class Danger:
    """The danger level of a message, the kinds of danger seen and the numbers in order."""

    level: Level
    kinds: tuple[str, ...] = ()
    numbers: tuple[str, ...] = NUMBERS
    cue: str | None = None  # the phrase that decided (for logs and tests)

    @property
    def now(self) -> bool:
        return self.level == "now"


_NONE = Danger("none")

# ---------------------------------------------------------------------- pattern language
#
# Patterns are regular expressions over the message's words joined by single spaces, with a
# space before the first and after the last word. Sentence ends are the word "|". A pattern
# word written with diacritics also matches the same word typed without them, unless it is
# marked ``@`` (``@hóc`` is not "hoc", which is mostly "học"); a word written without
# diacritics matches only itself. ``_`` stands for "any one or two words".

_GAP = r"(?:[^ |]+ ){0,2}"
_WORD_RE = re.compile(r"\\.|[^\W\d_]+|.", re.S)


def _expand(pattern: str) -> str:
    out = []
    exact = False
    for m in _WORD_RE.finditer(pattern):
        piece = m.group(0)
        if piece == "@":
            exact = True  # the next word matches only as typed with its diacritics
            continue
        if exact:
            exact = False
        elif len(piece) > 1 and not piece.startswith("\\") and not piece.isascii():
            folded = fold(piece)
            piece = f"(?:{piece}|{folded})" if folded != piece else piece
        elif piece == "_":
            piece = _GAP
        out.append(piece)
    return "".join(out)


def _first_words(pattern: str, limit: int = 4000) -> set[str]:
    """Every word an (expanded) pattern can start with."""
    words: set[str] = set()

    def walk(items: list[Any], acc: str) -> None:
        if len(words) > limit:
            raise ValueError(f"pattern too open: {pattern[:60]}")
        if acc and acc[-1] == " " and acc.strip():
            words.add(acc.strip())
            return
        if not items:
            if acc.strip():
                words.add(acc.strip())
            return
        (op, av), rest = items[0], items[1:]
        if op is _c.LITERAL:
            walk(rest, acc + chr(av))
        elif op is _c.SUBPATTERN:
            walk(list(av[-1]) + rest, acc)
        elif op is _c.BRANCH:
            for branch in av[1]:
                walk(list(branch) + rest, acc)
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
            lo, hi, sub = av
            for k in {lo, min(hi, lo + 1)}:
                walk(list(sub) * k + rest, acc)
        elif op in (_c.ASSERT, _c.ASSERT_NOT, _c.AT):
            walk(rest, acc)
        elif op is _c.IN and all(o is _c.LITERAL for o, _ in av):
            for _, ch in av:  # the parser folds "có|co" into "c[óo]"
                walk(rest, acc + chr(ch))
        else:
            raise ValueError(f"a pattern must start with a word: {pattern[:60]}")

    walk(list(_p.parse(pattern)), "")
    return words


_Table = dict[str, list[tuple[str, re.Pattern[str]]]]


def _table(patterns: dict[str, list[str]]) -> _Table:
    """Patterns indexed by the words they can start with: at each word of a message only the
    few patterns that can start there are tried (a 64 KiB message is read in milliseconds)."""
    table: _Table = {}
    for family, items in patterns.items():
        for p in items:
            expanded = _expand(p)
            rx = re.compile(f"(?:{expanded})(?= )")
            for w in _first_words(expanded):
                table.setdefault(w, []).append((family, rx))
    return table


def _alt(patterns: list[str]) -> re.Pattern[str]:
    return re.compile(r"(?<= )(?:" + "|".join(_expand(p) for p in patterns) + r")(?= )")


_KIN = (r"(?:con|cháu|bà|ông|bố|ba|mẹ|má|vợ|chồng|anh|chị|em|bé|nội|ngoại|cụ|bác|chú|"
        r"thằng|đứa|cô|dì|cậu|bạn|hàng xóm|người nhà|người|thằng bé|con bé)")

# --- strong phrases: danger now unless the sentence clearly says otherwise -------------
_STRONG: dict[str, list[str]] = {
    "generic": [
        r"cứu (?:với|tôi|tui|em|con|cháu|mẹ|má|bố|ba|bà|ông|mạng|người|gấp|nhanh|dới|zới|"
        r"zoi|tao|bọn tôi|chúng tôi|chúng em|mình|mấy|nhà|cứu|dùm|giùm|mau)",
        r"(?:(?<=^ )|(?<=\| ))cứu(?= \| | ?$)", r"ai (?:đó )?cứu", r"có ai (?:không )?cứu",
        r"sos", r"help me", r"nguy (?:hiểm )?(?:đến )?tính mạng", r"(?:đang )?nguy kịch",
        r"(?:gọi|kêu|cho) (?:giúp |giùm |dùm )?(?:xe )?(?:cấp cứu|cứu thương|cứu hỏa|công an|"
        r"cảnh sát|113|114|115|112) (?:gấp|ngay|nhanh|với|giùm|dùm|đi|tới|đến|mau)",
        r"(?:đang|sắp) chết", r"chết mất (?:thôi |rồi )?(?:cứu|ơi|giúp)",
        r"(?:xe cấp cứu|cấp cứu) (?:gấp|ngay|nhanh|với|mau)", r"cần (?:xe )?cấp cứu",
        r"cấp cứu (?:cấp cứu|ơi)",
    ],
    "fire": [
        r"cháy nhà", r"(?:nhà|phòng|bếp|xưởng|kho|chợ|quán|tiệm|xe|tầng|chung cư|công ty|"
        r"cửa hàng|ki ốt|kiot|dãy trọ|phòng trọ|nhà trọ|trường|rừng|rẫy|mái|tủ điện|"
        r"ổ điện|công tơ|dây điện|đồng hồ điện|cột điện|bình ga|quạt|tivi|máy|nồi cơm) "
        r"(?:[^ |]+ )?(?:đang |bị |bốc )?cháy",
        r"(?:đang|bị|bốc|bắt|lửa) cháy", r"cháy (?:lớn|to|dữ|rồi|quá|lan|bùng|rụi|ngùn|đùng|"
        r"sạch|hết|trụi|nữa)", r"bốc cháy", r"hỏa hoạn", r"cháy rừng",
        r"đám cháy", r"cháy (?:chợ|xưởng|kho|xe|bếp|quán|phòng|tầng|chung cư|cây xăng|"
        r"cửa hàng|nhà xưởng|dãy|quần áo|tóc|người)", r"@lửa (?:bốc|lớn|to|cháy|bén|lan|bùng|"
        r"trùm|ngùn|đỏ|táp)", r"@khói (?:mù|đen|bốc|dày|đặc|nghi ngút|bao trùm|um|mịt|nhiều|"
        r"cuồn cuộn|khét|tràn)", r"khói bốc", r"mùi khét", r"chập điện (?:cháy|bốc|tóe|nổ)",
        r"(?:cháy|chập) (?:đường dây|dây) điện", r"(?:phát|tiếng) nổ", r"(?:đang|bị|vừa) @nổ",
        r"@nổ (?:tung|to|lớn|bình|ga|gas|trạm|máy biến áp|pin|xe|nồi)", r"nổ tung",
        r"cháy cháy",
    ],
    "gas": [
        r"(?:rò|rò rỉ|xì|hở|bị xì|bị rò) (?:khí )?(?:ga|gas|gaz)", r"mùi (?:ga|gas|khí ga)",
        r"(?:bình|bếp|ống|van) (?:ga|gas) (?:bị )?(?:xì|rò|hở|nổ|cháy)",
    ],
    "violence": [
        r"đang (?:bị )?(?:đánh|đâm|chém|đập|cướp|bắt cóc|hành hung|bóp cổ|siết cổ|hiếp|"
        r"cưỡng hiếp|đe dọa giết|dọa giết|truy sát|đuổi đánh|đuổi chém|bạo hành|đánh đập|"
        r"hành hạ|nhốt|trói|khống chế|tấn công|xông vào|phá cửa|đập cửa|đạp cửa|đốt nhà)",
        r"bị (?:đâm|chém|bắn|bóp cổ|siết cổ|bắt cóc|trói|truy sát|cưỡng hiếp|hiếp dâm)",
        r"(?:cầm|vung|rút|cầm theo|lăm lăm|thủ) (?:[^ |]+ )?(?:dao|súng|mã tấu|"
        r"kiếm|hung khí|rựa|búa|dao phay|dao găm|mác|xà beng|gậy gộc|tuýp sắt|ống tuýp)",
        r"(?:đâm|chém|bắn) (?:nhau|người|chết|tôi|tui|em|con|vợ|chồng|mẹ|bố|ba)",
        r"giết (?:người|tôi|tui|em|con|chết|vợ|chồng|mẹ|bố|ba|cả nhà)", r"(?:dọa|đòi|định|"
        r"muốn|sẽ) giết", r"bắt cóc", r"đột nhập", r"(?:xông|lao|phá cửa|đạp cửa) vào nhà",
        r"(?:đập|phá|đạp) cửa (?:xông|vào|đòi)", r"(?:đánh|đập) (?:tôi|tui|em|con|vợ|mẹ|má|"
        r"bố|ba|chồng|bà|ông|cháu) (?:chết|dã man|tới tấp|túi bụi|liên tục|gãy|chảy máu|"
        r"bất tỉnh|ngất)", r"nổ súng", r"tiếng súng", r"bắn nhau", r"hỗn chiến",
        r"đánh hội đồng", r"(?:đang|đòi) (?:đánh|đập|chém|giết)", r"cưỡng hiếp",
        r"(?:trộm|cướp|kẻ gian|ăn trộm) (?:đang|vẫn|còn) (?:ở|trong|vào|phá|cạy|leo)",
        r"(?:có|thấy) (?:trộm|kẻ trộm|kẻ gian|ăn trộm) (?:đang|vào|leo|trong|cạy|trèo)",
        r"(?:đánh|đập|chém) (?:nhau )?(?:ngay )?(?:trước|ngoài|trong) (?:nhà|cửa|ngõ|hẻm)",
    ],
    "medical": [
        r"ngất xỉu", r"bất tỉnh", r"(?:bị|đã|vừa|đột nhiên|tự nhiên|lăn ra|ngã ra|đang) "
        r"(?:@ngất|@xỉu)", r"(?:ngất|@xỉu) (?:rồi|luôn|mất|lịm|ngang|giữa)", r"hôn mê",
        r"(?:không|chẳng|hết) (?:còn )?thở (?:được|nổi|nữa|rồi)", r"(?:không|chẳng) (?:còn )?"
        r"thở(?= \| | ?$)", r"khó thở", r"tắt thở", r"ngừng thở", r"ngưng thở",
        r"thở (?:dốc|hổn hển|không nổi|không được)", r"co giật", r"đột quỵ",
        r"tai biến (?:rồi|đột ngột)", r"lên cơn (?:đau tim|co giật|hen|suyễn|động kinh|tim)",
        r"(?:nhồi máu|đau) (?:cơ )?tim", r"ngừng tim", r"tim ngừng", r"đau ngực", r"méo miệng",
        r"liệt nửa người", r"@hóc (?:xương|hạt|kẹo|đồ|dị vật|thức ăn)", r"mắc nghẹn",
        r"@nghẹn (?:thở|thức ăn|cơm|bột|kẹo)", r"@sặc (?:nước|sữa|bột|thức ăn)",
        r"chảy (?:rất )?(?:nhiều )?máu", r"mất (?:nhiều|rất nhiều) máu",
        r"(?:máu|máu me) (?:chảy|nhiều|lênh láng|be bét|đầy|không cầm|ra nhiều|tùm lum)",
        r"(?:bê bết|đầy|toàn) máu", r"ngộ độc", r"trúng độc", r"uống (?:nhầm|phải|thuốc sâu|"
        r"thuốc chuột|thuốc diệt cỏ|thuốc trừ sâu|axit|thuốc tẩy)",
        r"(?:rắn|rắn độc) cắn", r"(?:chó dại|ong|ong vò vẽ) (?:cắn|đốt)",
        r"(?:bị )?(?:điện giật|giật điện)", r"(?:bỏng|phỏng) (?:nặng|nước sôi|xăng|khắp|"
        r"toàn thân)", r"tím tái", r"sùi bọt mép", r"trợn (?:mắt|trắng)",
        r"(?:gọi|lay) (?:mãi )?(?:không|chẳng|hông) (?:tỉnh|dậy|trả lời)",
        r"nằm (?:im|bất động|gục)", r"bất động", r"(?:không|chẳng) (?:cử động|"
        r"nhúc nhích|cựa quậy|động đậy|tỉnh)", r"lịm (?:đi|dần)", r"vỡ ối", r"chuyển dạ",
        r"đẻ rơi", r"băng huyết", r"sốt cao co giật", r"(?:ngã|té|rơi|rớt) (?:[^ |]+ )?"
        r"(?:từ|xuống|khỏi) (?:[^ |]+ )?(?:cầu thang|mái|tầng|lầu|cây|giàn giáo|vực)",
        r"gãy (?:cổ|xương sống|cột sống)", r"(?:@vỡ|chấn thương) (?:đầu|sọ)", r"đập đầu",
        r"tim (?:đập )?(?:yếu dần|loạn nhịp|ngừng)",
    ],
    "water": [
        r"đuối nước", r"chết đuối", r"(?:bị |đang )?(?:nước|lũ|sóng) cuốn", r"cuốn trôi",
        r"(?:rơi|rớt|té|ngã|lọt|trượt|lao) (?:xuống )?(?:sông|hồ(?! sơ)|ao|giếng|kênh|mương|"
        r"biển|cống|hố|suối|đập)", r"(?:chìm|lật) (?:xuồng|ghe|thuyền|tàu|đò|phà)",
        r"(?:xuồng|ghe|thuyền|tàu|đò) (?:bị )?(?:chìm|lật)", r"đang (?:chìm|đuối|ngụp)",
        r"(?:@chìm|@đuối) (?:rồi|dần|xuống)",
    ],
    "collapse": [
        r"sập (?:nhà|cầu|tường|mái|hầm|giàn giáo|công trình|trần|cột|lò|mỏ|chung cư)",
        r"(?:nhà|cầu|tường|mái|trần|hầm|giàn giáo|công trình|lò|mỏ) (?:bị|đã|vừa|đang) "
        r"(?:sập|đổ sập|đổ ập)", r"(?:nhà|cầu|tường|mái|trần|hầm|giàn giáo) (?:@sập|đổ sập)",
        r"(?:đè|vùi) (?:lên |trúng )?(?:người|chết|bẹp)", r"vùi lấp", r"mắc kẹt",
        r"(?:bị )?=kẹt (?:trong|lại trong|dưới|ở trong)", r"(?:kẹt|mắc) thang máy",
        r"thang máy (?:bị )?(?:kẹt|rơi|mắc)", r"(?:cây|cột điện|biển quảng cáo) (?:đổ|ngã) "
        r"(?:đè|trúng|vào)",
    ],
    "disaster": [
        r"lũ (?:quét|ống|về|dâng|tràn|lên)", r"nước (?:lên|dâng) (?:nhanh|cao|tới|đến|ngập)",
        r"ngập (?:tới|đến|qua|ngang|gần) (?:mái|nóc|cổ|ngực|đầu|cửa sổ)",
        r"sạt lở (?:đất )?(?:vùi|đè|lấp|sát|ngay|đang|rồi|sau)", r"(?:đất|núi|đồi) (?:đang )?"
        r"(?:sạt|lở|sụt)", r"lốc xoáy", r"tốc mái", r"động đất", r"sóng thần",
        r"bão (?:đang|giật|to|lớn|đổ bộ)", r"kẹt (?:giữa|trên) (?:dòng|lũ|nóc|mái)",
    ],
    "self_harm": [
        r"@tự @tử", r"(?:muốn|định|đòi|dọa|sẽ|đang|vừa|đã) tự tử", r"tự sát",
        r"(?:muốn|định|sẽ|đòi|tính) (?:chết|tự vẫn|kết liễu|quyên sinh)", r"tự vẫn",
        r"quyên sinh", r"(?:không|chẳng|hết) (?:muốn|thiết) sống", r"chết cho (?:xong|rồi|nhẹ)",
        r"nhảy (?:cầu|sông|lầu|xuống sông|từ tầng|từ trên)", r"treo cổ",
        r"(?:cắt|rạch) (?:cổ )?tay", r"uống (?:cả|hết|nhiều) (?:vỉ|lọ|hộp|nắm) thuốc",
        r"uống thuốc (?:sâu|chuột|ngủ|độc|trừ sâu|diệt cỏ)", r"kết liễu",
        r"(?:không|chẳng) còn (?:muốn )?sống",
    ],
    "accident": [
        r"(?:vừa|mới|đang|bị) (?:bị )?tai nạn", r"tai nạn (?:nặng|nghiêm trọng|liên hoàn|"
        r"thảm khốc|chết người|giao thông (?:ngay|trước|tại|ở|rồi|nặng))",
        r"(?:xe|ô tô|xe tải|container|xe khách|xe buýt|xe máy) (?:[^ |]+ )?(?:đâm|tông|cán|"
        r"húc|lao|lật|cuốn) (?:vào |phải |trúng |qua )?(?:người|tôi|em|con|bé|cháu|nhau|"
        r"ông|bà|nhà|xuống)", r"bị xe (?:đâm|tông|cán|húc|quệt)", r"lật xe", r"@tông xe",
        r"đâm xe", r"văng (?:ra )?(?:đường|xa)", r"nằm (?:bất động |im )?giữa đường",
        r"(?:đang|vừa) (?:va chạm|@đụng xe)",
    ],
}

# --- weak phrases: alone they mean "maybe": soft; next to a present signal, danger now ----
_WEAK: dict[str, list[str]] = {
    "generic": [r"cấp cứu", r"khẩn cấp", r"cứu (?:giúp|giùm|dùm)", r"nguy hiểm",
                r"cứu hộ", r"cứu nạn", r"cứu thương", r"cứu hỏa"],
    "fire": [r"@cháy", r"@lửa", r"@khói", r"chập điện", r"@nổ"],
    "violence": [r"đánh (?:nhau|người|tôi|tui|em|vợ|con|mẹ|chồng)", r"bị (?:đánh|đập|hành hung|"
                 r"đe dọa|dọa|bạo hành|hiếp|sàm sỡ|xâm hại)", r"bị (?:chồng|vợ|bố|cha|mẹ|"
                 r"bạn|người|nó|hắn|thằng|bọn|đám|nhóm|anh|chị) (?:[^ |]+ )?(?:đánh|đập|"
                 r"hành hung|bạo hành|hành hạ|đe dọa|dọa giết)", r"hành hung", r"bạo hành",
                 r"bạo lực", r"ẩu đả", r"đe dọa", r"xâm hại", r"hiếp dâm", r"@dao", r"@súng"],
    "crime": [r"(?:bị|có|đang) (?:trộm|cướp|ăn trộm|giật)", r"cướp giật", r"cướp", r"trộm",
              r"@giật (?:túi|điện thoại|dây chuyền|ví|giỏ|xe)"],
    "medical": [r"@ngất", r"@xỉu", r"ngã (?:xuống|quỵ|vật)", r"té (?:xuống|quỵ)",
                r"đau (?:bụng|đầu) (?:dữ dội|quằn quại|lăn lộn)", r"sốt cao", r"tai biến",
                r"nôn ra máu", r"thổ huyết", r"gãy (?:chân|tay|xương)", r"chó cắn"],
    "water": [r"(?:@ngập|lụt) (?:nước|lụt|úng|sâu|nhà)", r"lũ lụt", r"mưa lũ", r"nước lũ"],
    "disaster": [r"sạt lở", r"@bão", r"thiên tai"],
    "accident": [r"tai nạn", r"va chạm", r"@đụng xe", r"@tông", r"đâm vào"],
    "self_harm": [r"(?:muốn|thà) chết", r"chán sống"],
    "collapse": [r"@sập", r"@kẹt"],
}

# --- look-alikes, blanked out before anything else ------------------------------------
_LOOKALIKES = [
    r"sáp nhập", r"sát nhập", r"sáp (?:ong|nến|thơm|vuốt)",
    r"phòng (?:cháy|chống cháy|chống cháy nổ)(?: (?:và )?chữa cháy)?(?: và cứu nạn,? cứu hộ)?",
    r"(?:chữa|phòng|chống) cháy(?: nổ)?", r"cứu nạn,? cứu hộ", r"pccc", r"pc cc",
    r"(?:bình|thiết bị|hệ thống|vòi|xe|lính|đội|cảnh sát|trụ|họng nước|bể) (?:chữa cháy|"
    r"cứu hỏa|pccc)", r"@cháy (?:túi|hàng|vé|nắng|phim|da|sém|máy|chỗ|deadline|team)",
    r"(?:chạy|chay) (?:nhanh|quá tốc độ|xe|ẩu|vượt|ngược|lấn|tàu|việc|bàn|thận|chọt|án|thử|"
    r"chương trình|quảng cáo|bộ|deadline|theo|grab|ôm|bo|lòng vòng|vạy|chữa|mất|trốn)",
    r"@chạy", r"ăn @chay", r"(?:ăn|đồ|món|cơm|quán|nhà hàng|rằm) chay",
    r"(?:mệt|đói|buồn|nóng|lạnh|ngại|sợ|vui|ngon|đẹp|khát|chán|cười|mắc cười|thèm|nhớ|"
    r"ham|lo|tức|bực|mừng|sướng|đau đầu|nhức đầu|ngứa|ghét|giận|xấu hổ|quê) (?:muốn |gần |"
    r"sắp |đến |tới |phát )?(?:chết|xỉu|ngất)(?: (?:đi|được|luôn|mất|rồi))?",
    r"chết (?:máy|điện|cười|mệt|đói|tiệt|thật|dở|chìm|giấc|lặng|đứng|trân|sững|danh|tên)",
    r"(?:(?<=^ )|(?<=\| ))chết (?:rồi|thôi|cha|mẹ|bà|ông|thật)",
    r"(?:xe|máy|điện thoại|tivi|máy tính|pin|app|"
    r"ứng dụng|sim|thẻ) (?:bị )?chết(?: (?:máy|nguồn|điện))?", r"ngất ngây", r"cao ngất",
    r"ngất ngưởng", r"@xíu", r"(?:chờ|đợi|hỏi|một|tí|chút|nhỏ) xiu",
    r"sập (?:nguồn|web|mạng|hệ thống|app|ứng dụng|bẫy|sàn|giá|tiệm|cổng|trang|server|máy)",
    r"(?:web|mạng|hệ thống|app|ứng dụng|trang|cổng|server|sàn|giá) (?:bị )?sập",
    r"cứu (?:cánh|trợ|tế|vãn|rỗi|độ|đói|nguy|quốc|vớt|xét)", r"@cựu",
    r"chém (?:gió|giá|tiền)", r"đâm (?:đơn|đầu|ra|chồi|lá|bông|sầm)", r"giết (?:thời gian|"
    r"thì giờ|thời giờ)", r"bắn (?:tin|pháo hoa|pháo|tiếng|bi)", r"@nổ (?:máy|lốp|ra|vía|"
    r"banh|đồng hồ)", r"(?:bùng|nói|chém) @nổ", r"đánh (?:rơi|mất|giá|máy|chữ|số|dấu|răng|"
    r"thuế|bạc|cầu lông|bóng|đàn|trống|thức|lừa|tráo|vần|đố|cờ|cá|bắt|giày|liều|"
    r"đồng|tiếng|bật|trượt|rớt|lạc|phấn|son|vecni|bóng bàn|golf|tennis|điện|lưới|thắng)",
    r"(?:bánh|con|cái) (?:xỉu|ngất)",
    r"xe (?:cứu thương|cấp cứu) (?:có|bao nhiêu|mất|tính|thu|miễn)",
    r"khói (?:thuốc|bụi|xe|nhà máy|hương|nhang)", r"(?:hút|hít) khói",
    r"lửa (?:tình|lòng|giận)", r"(?:bỏng|phỏng) (?:ngô|gạo)", r"giật (?:mình|lùi|tít|gân)",
    r"súng (?:bắn keo|bắn đinh|nước|đồ chơi|nhựa)", r"hồi hộp", r"bất động sản",
    r"dao (?:kéo|cạo|thớt|ăn|gọt)", r"@kẹt (?:xe|tiền|lương|số|thẻ|hồ sơ|lịch)",
    r"con (?:chó|mèo|gà|heo|lợn|bò|vịt|trâu) (?:bị )?(?:cắn|xỉu|ngất|chết|co giật|ngộ độc)",
    r"hóc búa", r"nghẹn (?:ngào|lời)", r"ngắt (?:điện|kết nối|mạng|sóng|cuộc gọi|máy|lời|"
    r"quãng)", r"muốn đập đầu", r"(?:lũ|đám) (?:trẻ|nhỏ|con nít|bạn|nó|học sinh)",
    r"bão (?:giá|mạng|like|hòa|lòng)", r"bắt cóc (?:online|trực tuyến|qua mạng)",
    r"tổng đài", r"ngập (?:nợ|đầu|tràn)", r"máy giặt", r"điện thoại", r"lửa trại",
    r"(?:hàng|vé|tour|suất|khẩu trang|sân) (?:đã |bị )?@cháy",
]

# --- what calms a danger phrase down ----------------------------------------------------
_PAST = _alt([
    r"năm (?:ngoái|trước|rồi|kia|20\d\d|19\d\d)", r"hôm (?:qua|kia|trước|bữa)",
    r"tuần (?:trước|rồi|qua)", r"tháng (?:trước|rồi|qua)", r"hồi (?:trước|xưa|nhỏ|đó|năm|"
    r"tháng|còn|ấy|ở)", r"(?:lúc|dạo|bữa|đợt|lần|thời) (?:trước|đó|ấy)", r"trước (?:đây|kia)",
    r"(?:mấy|vài|hai|ba|\d+) (?:năm|tháng|tuần|bữa|hôm|ngày) (?:trước|nay|rồi|qua)",
    r"đã lâu", r"từ lâu", r"đã (?:được|xong|khỏi|bình phục|ra viện|xuất viện|mất|qua đời|"
    r"chết|bồi thường|giải quyết|xử lý|xét xử|điều trị)", r"(?:ra|xuất) viện", r"khỏi bệnh",
    r"đã (?:từng|có lần)", r"(?:ngày|đêm|tối|sáng|chiều) (?:\d+|hôm qua|hôm trước)",
    r"(?:năm|vào năm) \d{4}", r"\d+/\d+(?:/\d+)?", r"hôm \d+", r"hồi đó", r"khi đó",
    r"lúc đó", r"hôm đó", r"bữa đó", r"năm đó",
])
_PROC = _alt([
    r"bảo hiểm", r"bhyt", r"bhxh", r"thẻ (?:bảo hiểm|bh|y tế|bhyt)", r"chế độ", r"trợ cấp",
    r"bồi thường", r"hồ sơ", r"thủ tục", r"giấy", r"(?:làm|viết|gửi|nộp) đơn", r"chi trả",
    r"thanh toán", r"viện phí", r"quyền lợi", r"hưởng", r"giám định", r"thương tật",
    r"(?:nộp|xử|bị|mức|tiền|nộp chậm|đóng) phạt", r"phạt nguội", r"phạt", r"nộp chậm",
    r"khởi kiện", r"kiện", r"tố cáo", r"tố giác", r"luật", r"pháp luật", r"quy định",
    r"điều \d+", r"nghị định", r"có (?:được|phải|bị) (?:[^ |]+ ){0,4}(?:không|hông|chưa)",
    r"ly hôn", r"tòa", r"công chứng", r"đăng ký", r"khai báo", r"xin (?:cấp|hỗ trợ|trợ cấp)",
    r"hỗ trợ", r"tiền (?:mai táng|tuất|viện phí|thuốc)", r"phụ cấp", r"lương", r"vneid",
    r"căn cước", r"tài khoản", r"ứng dụng", r"mức (?:phạt|hưởng|đóng)", r"kinh phí",
    r"chi phí", r"miễn phí", r"mất (?:tiền|phí)", r"tốn (?:tiền|phí)", r"khám chữa bệnh",
    r"tuyến", r"trái tuyến", r"đúng tuyến", r"chuyển tuyến", r"làm lại", r"cấp lại",
    r"cấp đổi", r"xin lại", r"sổ đỏ", r"sổ hồng", r"hộ chiếu", r"bằng lái", r"khai sinh",
    r"khai tử", r"hộ khẩu", r"lừa đảo", r"lừa", r"chuyển (?:tiền|khoản)", r"giả danh",
    r"mạo danh", r"tự xưng", r"thông báo", r"tin nhắn", r"cmnd", r"mật khẩu",
])
_HYPO = _alt([
    r"nếu", r"giả sử", r"giả định", r"lỡ (?:như|mà|khi)", r"phòng khi", r"trường hợp",
    r"khi (?:có|gặp|bị|xảy ra|thấy|nhà)", r"(?:gặp|thấy) (?:người|ai) bị", r"tình huống",
    r"(?:cách|làm sao để|làm thế nào để) (?:phòng|tránh|xử lý|sơ cứu|thoát|nhận biết)",
    r"phải làm (?:gì|sao) khi", r"nên làm gì", r"làm gì khi", r"kỹ năng",
    r"bài học", r"kinh nghiệm", r"mẹo", r"hướng dẫn (?:cách|kỹ năng)",
    r"số (?:điện thoại|máy|nào|mấy|gì)", r"gọi số", r"(?:đầu|số) (?:113|114|115|112)",
    r"(?:113|114|115|112) (?:là|có|thì|để|dùng|miễn phí|mất)", r"thì sao", r"có sao không",
    r"dễ bị", r"hay bị", r"thường bị", r"nguy cơ", r"phòng tránh", r"phòng ngừa",
    r"đề phòng", r"cảnh giác", r"cảnh báo",
])
_DRILL = _alt([
    r"diễn tập", r"tập huấn", r"huấn luyện", r"(?:lớp|khóa) (?:học|tập huấn|huấn luyện|"
    r"sơ cứu|kỹ năng)", r"sơ (?:cấp )?cứu", r"thực hành", r"tuyên truyền", r"phổ biến",
    r"hội thi", r"cuộc thi", r"mô phỏng", r"giả định", r"tình huống giả", r"phim",
    r"truyện", r"bài (?:hát|văn|thơ|học|báo|giảng)", r"tin tức", r"báo (?:đăng|đưa|chí)",
    r"trên (?:báo|tivi|tv|mạng|facebook|youtube|tiktok)", r"xem (?:tin|phim|clip|video)",
    r"clip", r"video", r"game", r"trò chơi", r"đóng phim", r"kịch", r"mơ thấy",
    r"nằm mơ", r"giấc mơ", r"(?:học|dạy) (?:cách|kỹ năng|bơi)", r"ngoại khóa",
])
# Present signals. Strong ones outweigh a calming context next to the danger phrase.
_NOW = _alt([
    r"đang", r"bây giờ", r"bây chừ", r"ngay (?:bây giờ|lúc này|bây chừ|lập tức)", r"lúc này",
    r"hiện (?:giờ|đang)", r"vẫn (?:đang|còn)", r"cứu (?:với|tôi|tui|em|con|cháu|mẹ|bố|"
    r"ba|bà|ông|gấp|dới|mạng|cứu)", r"gấp (?:lắm|quá|gấp|lên)", r"nhanh (?:lên|giùm|giúp)",
    r"mau (?:lên|tới|đến)", r"trời ơi", r"sắp (?:chết|sập|cháy|nổ|chìm)", r"ơi ơi",
    r"không kịp", r"tới liền", r"đến ngay", r"sos", r"làm ơn", r"nữa rồi",
])
# Between a past time and the danger phrase, these turn the story back to now.
_TURN = _alt([r"giờ", r"bây giờ", r"nay", r"hiện", r"lại", r"nhưng", r"mà", r"còn",
              r"đang", r"vẫn", r"tiếp", r"nữa"])
_PERSONAL = _alt([
    rf"{_KIN} (?:tôi|tui|em|mình|con|cháu|tao|ta|nhà tôi|nhà em|nhà mình|nhà tui|của tôi)",
    r"(?:tôi|tui|em|mình|tao) (?:đang|vừa|bị)", r"nhà (?:tôi|tui|em|mình|bên cạnh|hàng xóm)",
    r"(?:ở|tại) (?:đây|nhà|chỗ tôi|chỗ em|xóm tôi|ngõ|hẻm|đầu ngõ|cuối ngõ)",
    r"hàng xóm", r"bên cạnh nhà", r"có (?:người|đứa|thằng|ông|bà|bé|em bé|trẻ)",
])
_EXCLAIM_RE = re.compile(r"!{2,}|!\s*$")

_STRONG_TABLE = _table(_STRONG)
_WEAK_TABLE = _table(_WEAK)
_LOOKALIKE_TABLE = _table({"lookalike": _LOOKALIKES})

# ---------------------------------------------------------------------- reading the text

_TOKEN_RE = re.compile(r"[^\W_]+|[.!?;\n]+|,")
_REPEAT_RE = re.compile(r"(.)\1{2,}")
_HAS_MARK_RE = re.compile(r"[^\x00-\x7f]")
#: Spellings of danger words seen in messages typed in haste or in dialect.
_SPELLINGS = {
    "cíu": "cứu", "kíu": "cứu", "kứu": "cứu", "cưú": "cứu", "cúu": "cứu", "cưu": "cứu",
    "dới": "với", "zới": "với", "zí": "với", "vs": "với", "chãy": "cháy", "cháyyy": "cháy",
    "sos": "sos", "hêlp": "help", "giùm": "giùm", "dùm": "dùm", "té": "té", "giựt": "giật",
    "mần": "làm", "tui": "tui", "hông": "không", "hổng": "không", "hem": "không",
    "hok": "không", "ko": "không", "k": "không", "kh": "không", "khg": "không",
    "khum": "không", "dg": "đang", "đg": "đang", "dag": "đang", "đag": "đang",
    "bjo": "bây giờ", "bgio": "bây giờ", "bg": "bây giờ", "jo": "giờ",
    "vô": "vào", "zô": "vào", "dô": "vào", "zo": "vào", "dzô": "vào", "bển": "bên đó",
    "chừ": "giờ", "răng": "sao", "rứa": "vậy", "mô": "đâu", "bt": "bình thường",
    "ng": "người", "ngta": "người ta", "nc": "nước", "bv": "bệnh viện", "r": "rồi",
    "rùi": "rồi", "ròi": "rồi", "gòi": "rồi", "j": "gì", "ji": "gì", "đt": "điện thoại",
    "dt": "điện thoại", "xỉuuu": "xỉu", "cứuuu": "cứu", "tnạn": "tai nạn",
    "bhyt": "bhyt", "bhxh": "bhxh", "cc": "cc", "cấpcứu": "cấp cứu", "capcuu": "cấp cứu",
    "cuuhoa": "cứu hỏa", "cuuvoi": "cứu với", "chaynha": "cháy nhà",
}


@lru_cache(maxsize=32768)
def _canonical(word: str) -> str:
    """One NFC lowercase word: kept with its diacritics if typed with them, else folded and
    repaired (telex leftovers, teencode)."""
    found = _SPELLINGS.get(word)
    if found is not None:
        return found
    if _HAS_MARK_RE.search(word):
        if not is_syllable(fold(word)):
            squeezed = _REPEAT_RE.sub(r"\1", word)
            if squeezed != word:
                return _SPELLINGS.get(squeezed, squeezed)
        return word
    if word.isdigit():
        return word
    return _norm_token(word)


def _words(text: str) -> tuple[str, list[int]]:
    """The canonical word string (" w1 w2 | w3 ... ") and the offsets of sentence ends."""
    text = unicodedata.normalize("NFC", text).lower()
    out: list[str] = [""]
    ends: list[int] = []
    pos = 1
    last = ""
    for m in _TOKEN_RE.finditer(text):
        tok = m.group(0)
        if tok[0] in ".!?;\n":
            if last == "|":
                continue
            tok = "|"
            ends.append(pos)
        elif tok != ",":
            tok = _canonical(tok)
        out.append(tok)
        pos += len(tok) + 1
        last = tok
    out.append("")
    return " ".join(out), ends


_WORD_AT = re.compile(r"[^ ]+")


def _matches(s: str, table: _Table) -> Iterator[tuple[str, re.Match[str]]]:
    """(family, match) of the table's patterns, word by word from the start."""
    for w in _WORD_AT.finditer(s):
        for family, rx in table.get(w.group(0), ()):
            m = rx.match(s, w.start())
            if m is not None:
                yield family, m


def _sentence(s: str, ends: list[int], start: int, end: int, limit: int = 240) -> tuple[int, int]:
    """The span of the sentence around s[start:end], at most ``limit`` characters each side."""
    i = bisect_right(ends, start)
    lo = ends[i - 1] + 1 if i > 0 else 0
    j = bisect_left(ends, end)
    hi = ends[j] if j < len(ends) else len(s)
    return max(lo, start - limit), min(hi, end + limit)


def _past(s: str, lo: int, hi: int, m: re.Match[str]) -> bool:
    """A past time in the sentence, not turned back to now before the danger phrase."""
    for p in _PAST.finditer(s, lo, hi):
        if p.start() >= m.end():
            return True  # "cháy nhà năm ngoái"
        if not _TURN.search(s, p.end() - 1, m.start() + 1):
            return True  # "năm ngoái nhà tôi bị cháy", but not "hôm qua bị đánh, giờ lại..."
    return False


def _level_of(s: str, ends: list[int], family: str, m: re.Match[str], strong: bool,
              message_drill: bool) -> Level:
    lo, hi = _sentence(s, ends, m.start(), m.end())
    a, b = max(lo, m.start() - 32), min(hi, m.end() + 28)
    if family == "generic":  # "cứu với" is the danger itself, not a sign of it
        near = s[a:m.start()] + " " * (m.end() - m.start()) + s[m.end():b]
    else:
        near = s[a:b]
    near = f" {near.strip()} "
    now = bool(_NOW.search(near))
    personal = bool(_PERSONAL.search(s, max(lo, m.start() - 60), min(hi, m.end() + 40)))
    past = _past(s, lo, hi, m)
    proc = bool(_PROC.search(s, lo, hi))
    hypo = bool(_HYPO.search(s, lo, hi))
    drill = message_drill or bool(_DRILL.search(s, lo, hi))
    if strong:
        if drill and not (personal or now):
            return "none"
        if past:
            return "soft"
        if proc:
            return "now" if now else "soft"
        if hypo:
            return "now" if (now or personal) else "soft"
        if drill:
            return "now" if now or personal else "none"
        return "now"
    if drill and not personal:
        return "none"
    if past or proc or hypo:
        if not past and (now or family in ("violence", "self_harm")):
            return "soft"  # answer the question, and say where help is
        return "none"
    return "now" if now else "soft"


def _blank_lookalikes(s: str) -> str:
    """The word string with look-alike phrases ("sáp nhập", "chạy nhanh") blanked out."""
    chars: list[str] | None = None
    done = 0
    for _, m in _matches(s, _LOOKALIKE_TABLE):
        if m.start() < done:
            continue
        if chars is None:
            chars = list(s)
        chars[m.start():m.end()] = "~" * (m.end() - m.start())
        done = m.end()
    return s if chars is None else "".join(chars)


_RANK = {"none": 0, "soft": 1, "now": 2}


def assess(text: str) -> Danger:
    """The danger level of a whole message (any length), its kinds and the numbers to show."""
    if not text:
        return _NONE
    s, ends = _words(text)
    blanked = _blank_lookalikes(s)
    message_drill = bool(_DRILL.search(s)) and not _EXCLAIM_RE.search(text)
    best: Level = "none"
    kinds: list[str] = []
    cue: str | None = None
    sentence_end = -1
    for table, strong in ((_STRONG_TABLE, True), (_WEAK_TABLE, False)):
        for family, m in _matches(blanked, table):
            if best == "now" and m.start() > sentence_end:
                break  # other kinds of danger are looked for in the same sentence only
            level = _level_of(s, ends, family, m, strong, message_drill)
            if _RANK[level] > _RANK[best]:
                best, kinds, cue = level, [], m.group(0)
                if level == "now":
                    sentence_end = _sentence(s, ends, m.start(), m.end(), limit=120)[1]
            if level == best != "none" and family not in kinds:
                kinds.append(family)
        if best == "now":
            break
    if best == "none":
        return _NONE
    first = [n for k in kinds for n in _FIRST.get(k, ())]
    numbers = tuple(dict.fromkeys([*first, *NUMBERS]))
    return Danger(best, tuple(kinds), numbers, cue)
