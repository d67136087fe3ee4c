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

How it reads. A message typed with diacritics is read word for word ("chạy" is not "cháy",
"sáp" is not "sập", "tư vấn" is not "tự vẫn"); one typed without them matches any phrase word
that folds to it ("chay" may be "cháy"), except for words whose folded form is mostly
something else ("hoc" is "học", not "hóc"; "tu tu" is "từ từ"). Phrases match whole words
only, and are looked up by their first two words, so a 64 KiB message takes milliseconds.
Look-alike phrases are blanked out first ("sáp nhập", "phòng cháy chữa cháy", "chạy nhanh",
"tra cứu", "bất động sản"). Each danger phrase then looks at its sentence: a past time ("năm
ngoái", "hôm qua"), a procedure or a right ("thẻ BHYT", "bồi thường", "nộp phạt"), a habit or
health question ("hay bị", "nên khám khoa gì"), hearsay and news ("nghe đài nói"), a general
how-to ("nếu", "cách sơ cứu"), a scam ("chuyển tiền", "xưng là") or a drill ("diễn tập")
calms it down, unless a present signal sits next to it ("đang", "bây giờ", "cứu với") or a
turn word stands between the calming word and the danger ("hôm qua bị đánh, giờ nó lại đang
đập cửa"; "đang làm căn cước thì nghe tiếng nổ"). A strong phrase ("cháy nhà", "bất tỉnh")
is danger now unless calmed; a weak one ("tai nạn", "cướp") is only with a present signal, a
cry ("!", "cứuuu"), a message of a few words or a second sign in the same sentence.

A calmed phrase keeps its closing line only when it may still matter: an ongoing harm to the
writer or their people, their own health worry, a question of whom to call; a past event's
paperwork, a death over, the news, a law or a general question gets none. Under the tables, a
second net (``nlu.danger_net``, a small statistical model of danger wordings) reads messages
the tables find calm: when it is very sure, ``hunch`` is set (the answer ends with the line of
numbers; the level stays ``none``, never ``now`` on the net's word).
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import accumulate, compress, count
from typing import Any, Literal

from nlu.danger_net import very_sure
from nlu.normalize import Chunks, _norm_token, fold, is_syllable

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
    "fire_loose": ("114",), "help": (),
    "generic": (),
}


@dataclass(frozen=True)
class Danger:
    """The danger level of a message, the kinds of danger seen and the numbers in order."""

    level: Level
    kinds: tuple[str, ...] = ()
    numbers: tuple[str, ...] = NUMBERS
    cue: str | None = None  # the phrase that decided (for logs and tests)
    #: ``none`` although danger words were seen (a look-alike, a drill, a past event's
    #: paperwork): the engine's own hunch of danger is not worth a line of numbers either.
    calmed: bool = False
    #: ``none`` for the conversation's routing, but the second net is very sure of danger the
    #: phrase tables did not see: the answer ends with the line of numbers (flows).
    hunch: bool = False

    @property
    def now(self) -> bool:
        return self.level == "now"


_NONE = Danger("none")
_CALMED = Danger("none", calmed=True)
_NET = Danger("none", cue="second net", hunch=True)
_NET_WORDS = 6  # the second net reads messages of at least this many words

# ---------------------------------------------------------------------- pattern language
#
# Patterns are regular expressions over the message's words joined by single spaces, with a
# space before the first and after the last word. Sentence ends are the word "|". A pattern
# word written with diacritics also matches the same word typed without them (in a message
# typed without diacritics), unless it is marked ``@`` (``@hóc`` is not "hoc", which is mostly
# "học"); a word written without diacritics matches only itself.

_WORD_RE = re.compile(r"\\.|[^\W\d_]+|.", re.S)


def _expand(pattern: str, loose: bool = True) -> str:
    """The regex of a pattern: ``loose`` for a message typed without diacritics (a word of the
    pattern also matches its folded form), exact for a message typed with them."""
    out = []
    exact = False
    for m in _WORD_RE.finditer(pattern):
        piece = m.group(0)
        if piece == "@":
            exact = True  # the next word matches only as typed with its diacritics
            continue
        if exact:
            exact = False
        elif loose and piece[0].isalpha() and not piece.isascii():
            folded = fold(piece)
            piece = f"(?:{piece}|{folded})" if folded != piece else piece
        out.append(piece)
    return "".join(out)


def _first_words(pattern: str, limit: int = 20000) -> set[str]:
    """The first two words an (expanded) pattern can start with ("có người"), or only the
    first ("cháy") when the second can be any word or the pattern ends there."""
    keys: set[str] = set()

    def walk(items: list[Any], acc: str) -> None:
        if len(keys) > limit:
            raise ValueError(f"pattern too open: {pattern[:60]}")
        words = acc.split()
        if acc.endswith(" ") and len(words) == 2:
            keys.add(" ".join(words))
            return
        if not items:
            if words:
                keys.add(words[0])
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
        elif words and acc.endswith(" "):
            keys.add(words[0])  # any second word: the first one is the key
        else:
            raise ValueError(f"a pattern must start with a word: {pattern[:60]}")

    walk(list(_p.parse(pattern)), "")
    single = {k for k in keys if " " not in k}
    return single | {k for k in keys if " " in k and k.split(" ", 1)[0] not in single}


class _Table(dict[str, list[tuple[str, re.Pattern[str]]]]):
    """(family, pattern) by the first word or two words a pattern can start with; ``heads``
    holds the first word of every key, so most words of a message are passed over with one
    set lookup."""

    def __init__(self) -> None:
        super().__init__()
        self.heads: set[str] = set()
        #: The two-word keys' lists by their two words (a pair of words looked up as it is).
        self.pairs: dict[tuple[str, str], list[tuple[str, re.Pattern[str]]]] = {}

    def add(self, key: str, family: str, rx: re.Pattern[str]) -> None:
        found = self.setdefault(key, [])
        found.append((family, rx))
        head, _, second = key.partition(" ")
        self.heads.add(head)
        if second:
            self.pairs[head, second] = found


LOOSE, EXACT = 0, 1  # how a message was typed: without diacritics, or with them


class _Tables:
    """Patterns indexed by the words they can start with: at each word of a message only the
    few patterns that can start there are tried (a 64 KiB message is read in milliseconds).
    One table for each way of typing (``tables[LOOSE]``, ``tables[EXACT]``), built the first
    time it is needed: compiling them all takes most of a second, and many processes that
    import the engine never read a message (``loose``: raw regexes for LOOSE only)."""

    def __init__(self, patterns: dict[str, list[str]],
                 loose: dict[str, list[str]] | None = None) -> None:
        self.patterns, self.loose = patterns, loose or {}
        self.built: list[_Table | None] = [None, None]

    def __getitem__(self, mode: int) -> _Table:
        table = self.built[mode]
        if table is None:
            table = _Table()
            for family, items in self.patterns.items():
                for p in items:
                    expanded = _expand(p, loose=mode == LOOSE)
                    rx = re.compile(f"(?:{expanded})(?= )")
                    for w in _first_words(expanded):
                        table.add(w, family, rx)
            for family, items in self.loose.items() if mode == LOOSE else ():
                for p in items:
                    rx = re.compile(f"(?:{p})(?= )")
                    for w in _first_words(rx.pattern):
                        table.add(w, family, rx)
            self.built[mode] = table
        return table


def _table(patterns: dict[str, list[str]], loose: dict[str, list[str]] | None = None
           ) -> _Tables:
    return _Tables(patterns, loose)


class _Alt:
    """Patterns joined into one regex per way of typing (``alt[LOOSE]``, ``alt[EXACT]``),
    compiled the first time it is needed."""

    def __init__(self, patterns: list[str]) -> None:
        self.patterns = patterns
        self.built: list[re.Pattern[str] | None] = [None, None]

    def __getitem__(self, mode: int) -> re.Pattern[str]:
        rx = self.built[mode]
        if rx is None:
            rx = self.built[mode] = re.compile(r"(?<= )(?:" + "|".join(
                _expand(p, loose=mode == LOOSE) for p in self.patterns) + r")(?= )")
        return rx

    def __iter__(self) -> Iterator[re.Pattern[str]]:
        return iter((self[LOOSE], self[EXACT]))


def _alt(patterns: list[str]) -> _Alt:
    return _Alt(patterns)


_KIN = (r"(?:con|cháu|bà|ông|bố|ba|mẹ|má|vợ|chồng|anh|chị|em|bé|nội|ngoại|cụ|bác|chú|"
        r"thằng|đứa|cô|dì|cậu|bạn|hàng xóm|người nhà|người|thằng bé|con bé)")

# --- strong phrases: danger now unless the sentence clearly says otherwise -------------
_STRONG: dict[str, list[str]] = {
    "generic": [
        r"(?<!cấp )(?<!cap )(?<!sơ )(?<!so )cứu (?:với|tôi|tui|em|con|cháu|mẹ|má|bố|ba|bà|ông|"
        r"mạng|người|gấp|nhanh|dới|zới|"
        r"zoi|tao|bọn tôi|chúng tôi|chúng em|mình|mấy|nhà|cứu|dùm|giùm|mau)",
        r"(?:(?<=^ )|(?<=\| ))cứu(?= \| | ?$)", r"help help", r"ai (?:đó )?cứu",
        r"có ai (?:không )?cứu",
        r"sos", r"help me", r"nguy (?:hiểm )?(?:đến )?tính mạng", r"(?:đang )?nguy kịch",
        r"(?:gọi|kêu|cho) (?:giúp |giùm |dùm )?(?:xe )?(?:cấp cứu|cứu thương|cứu hỏa|công an|"
        r"cảnh sát|113|114|115|112) (?:gấp|ngay|nhanh|với|giùm|dùm|đi|tới|đến|mau)",
        r"(?:đang|sắp) chết", r"chết mất (?:thôi |rồi )?(?:cứu|ơi|giúp)",
        r"(?:xe cấp cứu|cấp cứu) (?:gấp|ngay|nhanh|với|mau)", r"cần (?:xe )?cấp cứu",
        r"cấp cứu (?:cấp cứu|ơi)",
        r"(?<!cấp )(?<!cap )(?<!sơ )(?<!so )(?<!cứu )(?<!cuu )cứu(?= \| | ?$)",
        r"(?:nhắn|kêu|la|hét|gào|gọi) (?:lên )?(?:cứu|cầu cứu)(?! (?:hộ|nạn|thương|hỏa|trợ))",
        r"cầu cứu",
        r"(?:bé|con|cháu|thằng bé|con bé|đứa nhỏ|em bé|ông|bà|cụ|mẹ|bố) "
        r"(?:[^ |]+ ){0,6}(?:@đâu mất|mất tích|đi lạc|bị lạc|lạc mất|không thấy đâu|mất tiêu)",
        r"(?:đi lạc|mất tích|bị lạc) (?:[^ |]+ ){0,4}(?:chưa thấy|không thấy|không tìm thấy"
        r"|chưa tìm thấy)",
        r"(?:bị )?(?:bắt )?nhốt (?:trong|ở trong|lại trong)",
        r"bị (?:bắt )?nhốt",
        r"có (?:người|ai|đứa|bé|ông|bà|em bé|trẻ) (?:[^ |]+ )?(?:bị )?(?:ngã|té|rơi|rớt|ngất|xỉu"
        r"|đuối|chìm|kẹt|nằm im|bất tỉnh)",
        r"(?:bé|con|cháu|thằng bé|con bé|đứa nhỏ|em bé) (?:[^ |]+ ){0,3}đi (?:học|chơi"
        r"|ra ngoài) (?:[^ |]+ )?(?:không|chưa|hông) (?:về|thấy về)",
        r"(?:bé|con|cháu|đứa nhỏ) (?:[^ |]+ )?@đâu (?:rồi|mất)",
        r"(?:kiếm|tìm) (?:[^ |]+ ){0,4}(?:không|hông|chẳng|chưa) thấy (?:[^ |]+ )?(?:con|bé|cháu"
        r"|đứa nhỏ|nó)",
        r"(?:leo|trèo|bò|đu) (?:ra )?(?:ngoài )?(?:cửa sổ|lan can|ban công|mép)",
        r"(?:đứng|ngồi|đu) (?:[^ |]+ )?(?:trên|ngoài) (?:mép|lan can|thành|bờ tường)",
    ],
    "fire": [
        r"cháy nhà(?! máy)", r"(?:nhà|phòng|bếp|xưởng|kho|chợ|quán|tiệm|xe|tầng|chung cư|công ty|"
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
        r"@cháy (?:ở|tại|trên|dưới|trong|ngoài|gần|bên|sau|trước|kìa|to|lớn)",
        r"@khói (?:xuống|lên|tràn|vào|đầy|kín|tỏa|bay|um)",
        r"bốc (?:lửa|khói)",
        r"(?:lửa|khói) (?:[^ |]+ ){0,2}(?:lan|bén|tràn) (?:qua|sang|vào|vô|lên|xuống)",
        r"(?:toàn|đầy|ngập|kín|mù mịt|ngạt) khói",
        r"lửa (?:bốc|cháy|bén|lan|bùng|trùm|ngùn|táp|phụt)",
        r"@cháy (?:cả|hết) (?:nệm|nhà|phòng|giường|xe|bếp|tủ|rèm|mền|mùng|chăn|quần áo|đồ)",
        r"(?:pin|sạc|ổ cắm|xe điện|laptop|máy tính|quạt|tủ lạnh|nồi cơm điện"
        r"|bình nóng lạnh) (?:[^ |]+ ){0,3}(?:@nổ|bốc cháy|bốc khói|bắt lửa|phát nổ)",
    ],
    "gas": [
        r"(?:rò|rò rỉ|xì|hở|bị xì|bị rò) (?:khí )?(?:ga|gas|gaz)", r"mùi (?:khí )?(?:ga|gas|gaz)",
        r"(?:bình|bếp|ống|van) (?:ga|gas) (?:bị )?(?:xì|rò|hở|nổ|cháy)",
        r"(?:khí|hơi|hóa chất|khí độc|amoniac|clo) (?:[^ |]+ ){0,2}(?:xì|rò|rỉ|tràn|bốc"
        r"|phun) (?:ra|lên|khắp)?",
        r"xe bồn (?:[^ |]+ ){0,3}(?:lật|xì|rò|nổ|cháy)",
        r"hóa chất (?:[^ |]+ ){0,3}(?:tràn|rò|xì|đổ|bốc) (?:ra|lên)",
        r"(?:ga|gas) (?:[^ |]+ )?(?:phụt|phun|xì|rò|tràn) (?:ra)?",
        r"(?:bình|bếp|ống|van) (?:ga|gas) (?:[^ |]+ ){1,3}(?:xì|rò|hở|nổ|cháy|gãy)",
        r"đốt (?:than|củi|lò) (?:[^ |]+ ){0,4}(?:phòng kín|trong phòng|đóng cửa)",
    ],
    "violence": [
        r"đang (?:bị )?(?:đánh|đâm|chém|đập|cướp|bắt cóc|hành hung|bóp cổ|siết cổ|hiếp|"
        r"cưỡng hiếp|đe dọa giết|dọa giết|truy sát|đuổi đánh|đuổi chém|bạo hành|đánh đập|"
        r"hành hạ|nhốt|trói|khống chế|tấn công|xông vào|phá cửa|đập cửa|đạp cửa|đốt nhà)",
        r"bị (?:đâm|chém|@bắn|bóp cổ|siết cổ|bắt cóc|trói|truy sát|cưỡng hiếp|hiếp dâm)",
        r"(?:cầm|vung|rút|cầm theo|lăm lăm|thủ) (?:[^ |]+ )?(?:dao|súng|mã tấu|"
        r"kiếm|hung khí|rựa|búa|dao phay|dao găm|mác|xà beng|gậy gộc|tuýp sắt|ống tuýp)",
        r"(?:đâm|chém|@bắn) (?:nhau|người|chết|tôi|tui|em|con|vợ|chồng|mẹ|bố|ba)",
        r"giết (?:người|tôi|tui|em|con|chết|vợ|chồng|mẹ|bố|ba|cả nhà)", r"(?:dọa|đòi|định|"
        r"muốn|sẽ) giết", r"bắt cóc", r"đột nhập", r"(?:xông|lao|phá cửa|đạp cửa) vào nhà",
        r"(?:đập|phá|đạp) cửa (?:xông|vào|đòi)", r"(?:đánh|đập) (?:tôi|tui|em|con|vợ|mẹ|má|"
        r"bố|ba|chồng|bà|ông|cháu) (?:chết|dã man|tới tấp|túi bụi|liên tục|gãy|chảy máu|"
        r"bất tỉnh|ngất)", r"@nổ súng", r"tiếng súng", r"@bắn nhau", r"hỗn chiến",
        r"đánh hội đồng", r"(?:đang|đòi) (?:đánh|đập|chém|giết)", r"cưỡng hiếp",
        r"(?:trộm|cướp|kẻ gian|ăn trộm) (?:đang|vẫn|còn) (?:ở|trong|vào|phá|cạy|leo)",
        r"(?:có|thấy) (?:trộm|kẻ trộm|kẻ gian|ăn trộm) (?:đang|vào|leo|trong|cạy|trèo)",
        r"(?:đánh|đập|chém) (?:nhau )?(?:ngay )?(?:trước|ngoài|trong) (?:nhà|cửa|ngõ|hẻm)",
        r"@đang (?:bị )?(?:[^ |]+ ){1,2}(?:@đánh|đâm|chém|đập|hành hung|bóp cổ|truy sát|đuổi đánh"
        r"|đuổi chém|bạo hành|hành hạ|khống chế|tấn công)",
        r"(?:đâm|chém|@bắn|đấm|đạp) (?:[^ |]+ )?(?:bạn|anh|chị|em|ông|bà|cô|chú|bác|thằng|đứa"
        r"|người ta|tài xế|bảo vệ|khách|học sinh|công nhân|hàng xóm) (?:[^ |]+ )?(?:rồi|chảy máu"
        r"|gục|ngã|bất tỉnh|ngay)",
        r"(?:cầm|vác|mang|cầm theo) (?:[^ |]+ ){0,2}(?:dao|súng|mã tấu|kiếm|rựa|búa|tuýp|gậy|côn"
        r"|xà beng) (?:[^ |]+ ){0,3}(?:rượt|đuổi|đòi|xông|đánh|chém|dọa|đứng)",
        r"(?:rượt|đuổi) (?:[^ |]+ ){0,2}(?:chém|đánh|đâm|giết)",
        r"đang (?:cố )?(?:cạy|mở|phá|bẻ|đập|trèo|leo|lẻn|rình) (?:[^ |]+ ){0,3}(?:khóa|cửa|cổng"
        r"|xe|két|tường|rào|ban công|nhà)",
        r"bị (?:nó|hắn|tụi nó|bọn nó|người ta|thằng đó|kẻ trộm|kẻ gian|trộm|cướp) (?:đâm|chém|@bắn"
        r"|đánh gục|đập)",
        r"(?:kéo|lôi|bế|ép|bắt|đẩy|tống) (?:[^ |]+ ){0,3}lên (?:xe|ô tô|oto|taxi|ghe|thuyền)",
        r"trói (?:[^ |]+ ){0,2}(?:nhà|tôi|người|tay|chân|em|con|mẹ|má|bố|ba|vợ|chồng|bà|ông|cháu"
        r"|chị|anh|bé|lại)",
        r"(?:cướp|trộm|ăn trộm|kẻ gian) (?:vào|vô|xông vào|đột nhập) (?:nhà|phòng)",
        r"lục (?:đồ|lọi|tủ)",
        r"bị (?:giữ|giam|bắt giữ|bán|lừa bán) (?:[^ |]+ ){0,4}(?:biên giới|bên kia|nước ngoài"
        r"|không cho về|trong)",
        r"(?:thử|cố|định) (?:vặn|mở|cạy|phá|bẻ) (?:[^ |]+ )?(?:khóa|cửa)",
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
        r"chảy (?:rất nhiều|nhiều|quá nhiều) máu", r"mất (?:nhiều|rất nhiều) máu",
        r"(?:máu|máu me) (?:chảy|nhiều|lênh láng|be bét|đầy|không cầm|ra nhiều|tùm lum)",
        r"(?:bê bết|đầy|toàn) máu", r"ngộ độc", r"trúng độc", r"uống (?:nhầm|phải|thuốc sâu|"
        r"thuốc chuột|thuốc diệt cỏ|thuốc trừ sâu|axit|thuốc tẩy)",
        r"(?:rắn|rắn độc) cắn", r"(?:chó dại|ong|ong vò vẽ) (?:cắn|đốt)",
        r"(?:bị )?(?:điện giật|giật điện)", r"(?:bỏng|phỏng) (?:nặng|nước sôi|xăng|khắp|"
        r"toàn thân)", r"tím tái", r"sùi bọt mép", r"trợn (?:mắt|trắng)",
        r"(?:gọi|lay) (?:mãi )?(?:không|chẳng|hông) (?:tỉnh|dậy|trả lời|thưa)",
        r"nằm (?:im|bất động|gục)", r"bất động", r"(?:không|chẳng) (?:cử động|"
        r"nhúc nhích|cựa quậy|động đậy|tỉnh)", r"lịm (?:đi|dần)", r"vỡ ối", r"chuyển dạ",
        r"@đẻ @rơi", r"băng huyết", r"sốt cao co giật", r"(?:ngã|té|rơi|rớt) (?:[^ |]+ )?"
        r"(?:từ|xuống|khỏi) (?:[^ |]+ )?(?:cầu thang|mái|tầng|lầu|cây|giàn giáo|vực)",
        r"gãy (?:cổ|xương sống|cột sống)", r"(?:@vỡ|chấn thương) (?:đầu|sọ)", r"đập đầu",
        r"tim (?:đập )?(?:yếu dần|loạn nhịp|ngừng)",
        r"(?:yếu|tê|liệt) nửa người",
        r"nửa người (?:yếu|tê|liệt|không cử động)",
        r"(?:tự nhiên|tự dưng|đột nhiên|đột ngột|bỗng|bỗng nhiên) (?:[^ |]+ )?"
        r"(?:nói (?:lắp|ngọng|không được|khó"
        r"|đớ)|méo|ngã quỵ|lăn ra|gục|ngất|xỉu|co giật|không nói được)",
        r"@hóc",
        r"thở (?:khò khè|rít|ngáp|yếu)",
        r"mặt (?:đỏ tía|tím|tái mét|trắng bệch)",
        r"(?:ra|chảy) máu (?:nhiều|ồ ạt|không ngừng|không cầm|quá trời|lênh láng|xối xả)",
        r"máu (?:ra )?(?:ồ ạt|quá trời|xối xả|lênh láng|nhiều quá)",
        r"máu ra (?:nhiều|quá|lắm|ồ ạt)",
        r"nôn thốc nôn tháo",
        r"(?:lả|lịm|mê man|li bì) (?:đi|dần|rồi|luôn)",
        r"li bì",
        r"mê man",
        r"(?:không|chẳng|hông) (?:gọi|lay|kêu) (?:dậy|tỉnh)(?: (?:được|nổi))?",
        r"(?:gọi|lay|kêu) (?:mãi |hoài |mấy )?(?:không|chẳng|hông) (?:dậy|tỉnh)",
        r"nuốt (?:[^ |]+ ){0,3}(?:thuốc|viên|pin|đồng xu|nam châm|hóa chất|thuốc chuột|thuốc sâu)",
        r"(?:cả nhà|nhiều người|mấy người|cả xóm|cả lớp|công nhân) (?:[^ |]+ ){0,3}(?:nôn|ói"
        r"|ngộ độc|ngất|xỉu|co giật)",
        r"(?:@đang|@đương) (?:[^ |]+ ){1,6}@thì (?:[^ |]+ ){0,3}(?:lăn ra|ngã|gục|ngất|xỉu|co giật"
        r"|bất tỉnh|ôm ngực)",
        r"ôm ngực",
        r"ngã quỵ",
        r"lăn ra (?:bất tỉnh|ngất|xỉu|đất|sàn)",
        r"bị @giật (?:trên|dưới|ở|văng|ngã|bất tỉnh|chết|lăn|khi|lúc)",
        r"treo lơ lửng",
        r"ăn (?:[^ |]+ ){0,4}(?:xong|xong thì|vào) (?:[^ |]+ ){0,3}(?:nôn|ói|co giật|ngất|xỉu|lả"
        r"|khó thở|sùi bọt)",
        r"(?:tay chân|người|mặt|môi) (?:[^ |]+ )?(?:lạnh ngắt|co quắp|tím tái|tím ngắt|tím)",
        r"lạnh ngắt",
        r"(?:nôn|ói) (?:ra máu|liên tục|không ngừng|thốc tháo|xối xả)",
        r"uống (?:[^ |]+ ){0,3}(?:dầu hỏa|dầu lửa|xăng|nước tẩy|thuốc tẩy|axit|nước rửa|hóa chất"
        r"|thuốc ngủ|thuốc chuột|thuốc sâu|thuốc diệt|thuốc trừ|nước javel|cồn công nghiệp)",
        r"(?:ngã|té|tai nạn|đánh|đâm|rơi|rớt) (?:[^ |]+ ){0,4}(?:ra máu|chảy máu)",
        r"(?:bầu|mang thai|có thai|thai) (?:[^ |]+ ){0,6}(?:ra máu|chảy máu|đau bụng dữ dội|vỡ ối"
        r"|ngã|(?<!y )té)",  # "(?<!y )": "trạm y tế" typed without diacritics is not a fall
        r"(?:nước sôi|dầu sôi|canh nóng|nồi nước|xăng|axit) (?:[^ |]+ ){0,3}(?:đổ|hắt|văng|@bắn"
        r"|tạt) (?:vào|lên|trúng) (?:[^ |]+ )?(?:người|mặt|chân|tay|bé|con|cháu)",
        r"(?:bỏng|phỏng) (?:hết|cả|khắp|rộp|lột|nặng)",
        r"@ngạt (?:khói|khí|thở|nước)?",
        r"ho sặc sụa",
        r"ép tim",
        r"hô hấp nhân tạo",
        r"máu (?:phun|tuôn|trào|phụt)",
        r"đứt (?:tay|chân|cổ|động mạch|ngón) (?:[^ |]+ )?(?:sâu|lìa|nhiều máu)",
        r"sắp (?:xỉu|ngất|chết|không thở)",
        r"không thở(?= [,|] | ?$)",
        r"(?:kẹp|cuốn|nghiến|@cán|dập) (?:[^ |]+ )?(?:tay|chân|tóc|ngón)",
        r"(?:máy|dao|lưỡi cưa|cưa|máy cắt) (?:[^ |]+ )?@cắt (?:[^ |]+ )?(?:tay|chân|ngón|người)",
        r"dập nát",
        r"(?:@cán|@đè) (?:qua|lên) (?:[^ |]+ )?(?:chân|tay|người|đầu|bụng)",
        r"(?:ăn|uống) phải (?:bả|thuốc|nấm|cá nóc|lá ngón|hóa chất|nước tẩy)",
        r"bả chuột",
        r"mệt lả",
        r"không (?:đứng|ngồi) (?:dậy|lên) (?:được|nổi)",
        # A fall, then not getting up: "ông tôi ngã gãy chân không dậy được".
        r"(?:ngã|té|trượt|gục) (?:[^ |]+ ){0,5}không (?:(?:đứng|ngồi|gượng) )?(?:dậy|lên) "
        r"(?:được|nổi)",
        r"mắt (?:nhắm nghiền|trợn ngược|lờ đờ|trắng dã)",
        r"(?:ngã|té|gục|nằm) (?:[^ |]+ ){0,4}(?:không nói gì|không trả lời|không phản ứng"
        r"|mắt nhắm)",
        r"(?:dầu hỏa|xăng|nước rửa chén|nước rửa|nước tẩy|thuốc tẩy|axit|hóa chất|thuốc chuột"
        r"|thuốc sâu|thuốc ngủ|bả chuột) (?:[^ |]+ ){0,3}(?:uống|nuốt|ăn) (?:mất|phải|hết)?",
        r"uống (?:hết|cả|nguyên) (?:chỗ|vỉ|lọ|hộp|nắm|mấy vỉ|mấy lọ) (?:[^ |]+ )?thuốc",
        r"ngộp thở",
        r"ngột ngạt",
        # Animals: "cho", "bo", "lon", "can", "da" are mostly "cho", "bố", "lớn", "cần", "đã".
        r"(?:@chó|trâu|@bò|heo|@lợn|@ngựa|voi|@rắn) (?:[^ |]+ )?(?:đang )?(?:húc|@cắn|@đá|giẫm"
        r"|quật|đớp) (?:[^ |]+ )?(?:người|ông|bà|bé|con|cháu|em|đứa|trẻ|chết)",
        r"(?:rắn|rắn độc|rắn hổ|hổ mang) (?:[^ |]+ ){0,2}cắn",
        r"(?:không thấy|mất|không bắt được|sờ không thấy) mạch",
        r"tim (?:không|ngừng) đập",
    ],
    "water": [
        r"đuối nước", r"chết đuối", r"(?:bị |đang )?(?:nước|lũ|sóng) cuốn", r"cuốn trôi",
        # "roi ho", "te ao", "rot cong" are mostly "rồi họ", "tế áo", "rớt công...": typed
        # without diacritics, a fall into water needs "xuống".
        r"(?:@rơi|rớt|@té|ngã|@lọt|trượt|lao) (?:[^ |]+ )?(?:xuống )?(?:sông|@hồ(?! sơ)|@ao|giếng"
        r"|kênh|mương|@biển|@cống|@hố|suối|@đập(?! đầu| mặt| vào| vô))",
        r"(?:rơi|rớt|té|ngã|lọt|trượt|lao) (?:[^ |]+ )?xuống (?:sông|hồ(?! sơ)|ao|giếng|kênh"
        r"|mương|biển|cống|hố|suối|đập)", r"(?:chìm|lật) (?:xuồng|ghe|thuyền|tàu|đò|phà)",
        r"(?:xuồng|ghe|thuyền|tàu|đò) (?:bị )?(?:chìm|lật)", r"đang (?:chìm|đuối|ngụp)",
        r"(?:@chìm|@đuối) (?:rồi|dần|xuống)",
        r"(?:xuồng|ghe|thuyền|tàu|đò|sà lan|ca nô) (?:[^ |]+ ){0,2}(?:bị )?(?:chìm|lật|đắm)",
        r"(?:sóng|nước|dòng nước|dòng chảy|nước lũ) (?:[^ |]+ )?(?:kéo|cuốn|hút|lôi) (?:[^ "
        r"|]+ ){0,2}(?:ra|đi|xuống|mất|theo)",
        r"bám (?:phao|cây|mái|nóc|thành|mạn|ghe|thuyền|xuồng)",
        r"(?:tắm|bơi|lội) (?:[^ |]+ ){0,4}(?:không thấy|mất tích|chìm|đuối|bị kéo|bị cuốn"
        r"|không lên)",
        r"(?:đập|đê|bờ bao|hồ chứa|bờ kè) (?:[^ |]+ )?(?:bị )?(?:vỡ|tràn|sạt)",
        r"sợ (?:nó|bé|con|cháu|thằng|đứa) (?:[^ |]+ ){0,2}(?:té|ngã|rơi|rớt|lọt) xuống",
        r"chới với",
        r"(?:đang )?(?:vùng vẫy|ngoi ngóp|ngụp lặn)",
        r"(?:kêu cứu|chìm) (?:giữa|dưới|ngoài) (?:sông|hồ|biển|suối|ao|dòng)",
        r"(?:chưa|không) thấy (?:ngoi|nổi|trồi) lên",
        r"(?:ngồi|trèo|leo|trú|đứng) (?:trên|lên) (?:nóc|mái)",
        r"nước (?:[^ |]+ ){0,3}(?:lên|dâng|tràn) (?:[^ |]+ ){0,2}(?:nhanh|cao|tới|đến|ngập|vào"
        r"|vô|quá"
        r"|ồ ạt)",
        r"nước (?:về|đổ về|lũ về) (?:ồ ạt|nhanh|cuồn cuộn)",
        r"xả lũ",
        r"(?:vỡ|bể) (?:đê|đập|bờ bao|hồ|kè)",
    ],
    "collapse": [
        r"sập (?:nhà|cầu|tường|mái|hầm|giàn giáo|công trình|trần|cột|lò|mỏ|chung cư)",
        r"(?:nhà|cầu|tường|mái|trần|hầm|giàn giáo|công trình|lò|mỏ) (?:bị|đã|vừa|đang) "
        r"(?:sập|đổ sập|đổ ập)", r"(?:nhà|cầu|tường|mái|trần|hầm|giàn giáo) (?:@sập|đổ sập)",
        r"(?:@đè|@vùi) (?:lên |trúng )?(?:người|chết|bẹp)",
        r"(?:rơi|rớt|đổ|sập) đè (?:trúng|lên|vào)", r"@vùi @lấp", r"mắc kẹt",
        r"(?:bị )?@kẹt (?:trong|lại trong|dưới|ở trong)", r"(?:kẹt|mắc) thang máy",
        r"thang máy (?:bị )?(?:kẹt|rơi|mắc)", r"(?:cây|cột điện|biển quảng cáo) (?:đổ|ngã) "
        r"(?:@đè|trúng|vào)",
        r"(?:nhà|cầu|tường|mái|trần|hầm|giàn giáo|công trình|cần cẩu|cẩu|cột|tháp) (?:[^ "
        r"|]+ ){1,3}(?:đổ sập|@sập|đổ ập|đổ xuống|sụp|sụp đổ)",
        r"đổ (?:sập|ập|@đè|xuống) (?:[^ |]+ ){0,3}(?:người|thợ|công nhân|bé|con|ông|bà)",
        r"(?:@đè|@vùi|@lấp) (?:lên |trúng |vào )?(?:[^ |]+ )?(?:người|thợ|công nhân|bé|ông|bà|xe)",
        r"bị (?:@vùi|@đè|chôn @vùi|@lấp|@đè bẹp)",
        r"có (?:người|ai|công nhân|thợ|mấy người|em bé|bé) (?:[^ |]+ )?(?:bị )?(?:kẹt|mắc kẹt|mắc"
        r"|bên trong|ở trong|bị @đè|bị @vùi)(?! án| tội| luận| hôn| nạp| thúc| quả)",
        r"thang máy (?:[^ |]+ ){1,2}(?:bị )?(?:kẹt|rơi|mắc|rớt|đứt)",
        r"(?:đất|đá|đất đá|tảng đá) (?:[^ |]+ ){0,3}(?:đang )?(?:lăn|sạt|đổ|trôi|lở|rơi) xuống",
        r"người (?:[^ |]+ ){0,3}bị (?:kẹt|mắc kẹt)(?! án| tội| luận| hôn| nạp| thúc| quả)",
        r"kẹt (?:[^ |]+ )?(?:không|chẳng|hông) (?:ra|thoát|chui ra|rút ra|mở) (?:được|nổi)",
        r"đổ (?:sập|ập|@đè|xuống) (?:lên |vào |trúng )?(?:[^ |]+ ){0,2}(?:người|thợ|công nhân|bé"
        r"|con|ông|bà|đứa|trẻ|em|cháu)",
        r"bị (?:[^ |]+ ){1,2}(?:@vùi|@đè|chôn)",
        r"bị chôn",
        r"@kẹt (?:ở|giữa|trên|bên|dưới)",
        r"(?:bị )?kẹt (?:đầu|tay|chân|người|cổ) (?:trong|vào|giữa)",
        r"(?:kẹt|mắc kẹt) (?:trong|ở trong) thang máy",
        r"(?:đồi|núi|đất|taluy|ta luy) (?:[^ |]+ )?(?:đang )?(?:trượt|sạt|lở|sụt|nứt|đổ) (?:xuống"
        r"|ra)?",
    ],
    "disaster": [
        r"lũ (?:quét|ống|về|dâng|tràn|lên)", r"nước (?:lên|dâng) (?:nhanh|cao|tới|đến|ngập)",
        r"ngập (?:tới|đến|qua|ngang|gần) (?:mái|nóc|cổ|ngực|đầu|cửa sổ)",
        r"sạt lở (?:[^ |]+ )?(?:@vùi|@đè|@lấp|sát|ngay|đang|rồi|sau)",
        r"(?:đất|núi|đồi) (?:đang )?"
        r"(?:sạt|lở|sụt)", r"lốc xoáy", r"tốc mái", r"@động @đất", r"sóng thần",
        r"bão (?:đang|giật|to|lớn|đổ bộ)", r"kẹt (?:giữa|trên) (?:dòng|lũ|nóc|mái)",
    ],
    "self_harm": [
        r"@tự @tử", r"(?:muốn|định|đòi|dọa|sẽ|đang|vừa|đã) tự tử", r"tự sát",
        r"(?:tôi|tui|em|mình|tao|con|nó|anh|chị|ông|bà|bố|mẹ|ba|má|vợ|chồng|cháu) (?:[^ |]+ )?"
        r"(?:muốn|định|sẽ|đòi|tính) (?:chết|@tự @vẫn|kết liễu|quyên sinh)",
        r"(?:(?<=^ )|(?<=\| ))(?:muốn|định) chết", r"(?:nhắn|nói|bảo|kêu|dọa|viết) (?:là |rằng )?"
        r"(?:muốn|sẽ|định) (?:chết|tự tử|tự vẫn|nhảy|uống thuốc)",
        r"(?:định|đòi|tính) (?:@tự @vẫn|kết liễu|"
        r"quyên sinh)", r"@tự @vẫn",
        r"quyên sinh", r"(?:không|chẳng|hết) (?:muốn|thiết) sống", r"chết cho (?:xong|rồi|nhẹ)",
        r"nhảy (?:cầu|sông|lầu|xuống sông|từ tầng|từ trên)", r"treo cổ",
        r"(?:cắt|rạch) (?:cổ )?tay", r"uống (?:cả|hết|nhiều) (?:vỉ|lọ|hộp|nắm) thuốc",
        r"uống thuốc (?:sâu|chuột|ngủ|độc|trừ sâu|diệt cỏ)", r"kết liễu",
        r"(?:không|chẳng) còn (?:muốn )?sống",
        r"sống (?:chi|gì|làm gì|để làm gì|làm chi) (?:nữa|nữa đâu)",
        r"vĩnh biệt",
        r"treo (?:sợi |cái |cọng )?dây (?:rồi|lên|sẵn|xong)",
        r"nhảy (?:đây|xuống đây|luôn đây|bây giờ)",
        r"(?:đứng|ngồi|trèo|leo) (?:[^ |]+ ){0,2}(?:lan can|thành cầu|mép cầu|sân thượng"
        r"|tầng thượng|nóc nhà|mép vực) (?:[^ |]+ ){0,4}(?:nhảy|chết|sống|tạm biệt|giữ)",
        r"(?:nhắn|gửi|viết|nói) (?:[^ |]+ ){0,2}(?:từ biệt|vĩnh biệt|trăng trối)",
        r"(?:làm|nghĩ) (?:liều|chuyện dại dột|điều dại dột|dại|quẩn)",
        r"nghĩ quẩn",
        r"kết thúc (?:tất cả|cuộc đời|cuộc sống|mọi thứ|bản thân|đời)",
        r"kết thúc (?:hết|tất|luôn)",
        r"viết thư (?:để lại|tuyệt mệnh|từ biệt|vĩnh biệt)",
        r"thư tuyệt mệnh",
        r"đang (?:ở|đứng|ngồi) (?:trên|ngoài) (?:cầu|nóc|lan can|sân thượng|mép)",
    ],
    "accident": [
        r"(?:vừa|mới|đang|bị) (?:bị )?tai nạn", r"tai nạn (?:nặng|nghiêm trọng|liên hoàn|"
        r"thảm khốc|chết người|giao thông (?:ngay|trước|tại|ở|rồi|nặng))",
        r"(?:xe|ô tô|xe tải|container|xe khách|xe buýt|xe máy) (?:[^ |]+ )?(?:đâm|tông|@cán|"
        r"húc|lao|lật|cuốn) (?:vào |phải |trúng |qua )?(?:người|tôi|em|con|bé|cháu|nhau|"
        r"ông|bà|nhà|xuống)",
        r"bị (?:xe|ô tô|xe tải|xe máy|xe khách|xe buýt|container|xe ben|xe hơi|xe con)"
        r"(?: [^ |]+)? (?:đâm|tông|@cán|húc|quệt|cuốn)", r"lật xe", r"@tông xe",
        r"đâm xe", r"văng (?:ra )?(?:đường|xa)", r"nằm (?:bất động |im )?giữa đường",
        r"(?:đang|vừa) (?:va chạm|@đụng xe)",
        r"(?:xe|ô tô|xe tải|container|xe khách|xe buýt|xe máy|xe ben|xe bồn) (?:[^ "
        r"|]+ ){1,2}bị lật",
        r"(?:@đang|@đương) (?:[^ |]+ ){1,8}@thì (?:[^ |]+ ){0,4}(?:tông|đâm|@cán|húc|lật|tai nạn)",
    ],
}

# --- weak phrases: alone they mean "maybe": soft; next to a present signal, danger now ----
_WEAK: dict[str, list[str]] = {
    "help": [r"help"],
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

# More weak phrasings (kept apart for readability).
_WEAK["violence"] += [
    r"(?:côn đồ|giang hồ|băng nhóm|đầu gấu) (?:[^ |]+ ){0,3}(?:chặn|đánh|đập|chém|đâm|vây|đuổi"
    r"|rượt)",
    r"đánh (?:[^ |]+ )?(?:tài xế|bảo vệ|khách|học sinh|công nhân|người ta|shipper|thằng|đứa|ông"
    r"|bà|cô|chú|anh|chị|bạn)",
    r"(?:bị|bị người ta|bị nó) đấm",
    r"đâm (?:[^ |]+ )?(?:bạn|anh|chị|em|người)",
]
_WEAK["self_harm"] += [
    r"(?:lan can|sân thượng|tầng thượng|thành cầu|mép cầu|mép vực)",
]
_WEAK["medical"] += [
    r"vã mồ hôi", r"run (?:tay|người|lẩy bẩy)", r"chảy máu", r"không (?:nói|trả lời|phản ứng) "
    r"(?:gì|được)", r"mắt (?:nhắm|mờ)", r"(?:ngã|té) (?:ở|ra|ngoài|trong)", r"đánh đập",
]
_WEAK["self_harm"] += [r"không chịu (?:được|nổi) nữa", r"(?:con )?dao (?:trên|trong) tay"]
# Typed without diacritics, "chay" may be "cháy" or "chạy": a sign only with "!" or alone.
_WEAK_LOOSE: dict[str, list[str]] = {"fire_loose": [r"chay", r"lua (?:to|lon|boc|chay)"]}
_WEAK["crime"] += [
    r"(?:lạ mặt|người lạ|kẻ lạ|kẻ gian|trộm|ăn trộm) (?:[^ |]+ ){0,2}(?:leo|trèo|cạy|phá|lẻn|rình"
    r"|bẻ khóa)",
    r"(?:leo|trèo|cạy|phá|lẻn|bẻ khóa) (?:[^ |]+ ){0,2}(?:cửa sổ|cửa|cổng|tường|ban công|két"
    r"|khóa) (?:[^ |]+ ){0,2}(?:vào|vô)?",
    r"(?:dụ|bắt|lôi|kéo) (?:[^ |]+ )?đi (?:[^ |]+ ){0,3}(?:xe|mất|rồi)",
    r"trốn (?:trên|trong|dưới|sau) (?:gác|tủ|gầm|phòng|nhà)",
]

# Wordings found by new probes (bench/data/danger_dev_*.yml, 2026-12-03).
_STRONG["fire"] += [
    r"phát (?:hỏa|cháy)", r"phừng lửa",
    r"lửa (?:lên|bốc lên|cháy lên|lan lên) (?:tới|đến|tận|sát|ngang)",
    r"(?:lửa|khói) (?:[^ |]+ ){0,2}(?:bay|tạt|bắt) (?:qua|sang|vào|vô)",
]
_STRONG["medical"] += [
    # Stroke seen by a relative: one side of the face or body gives way.
    # "mat xe", "moi xe" typed without diacritics are mostly "mất xe", "mới xe".
    r"(?:mặt|miệng|môi|mồm) (?:[^ |]+ ){0,2}(?:@xệ|lệch|méo|@xụi)",
    r"(?:một|1) (?:bên|nửa) (?:mặt|người|tay|chân|miệng) (?:[^ |]+ ){0,2}(?:@xệ|yếu|tê|liệt|méo"
    r"|@xụi|không)",
    r"(?:ngất|@xỉu|gục|lịm) (?:[^ |]+ ){0,4}(?:không|hông|chẳng|chưa) (?:dậy|tỉnh)",
    r"(?:gãy|gẫy) (?:[^ |]+ ){0,2}lòi (?:xương|ra)", r"lòi (?:ruột|xương)", r"gãy hở",
    r"bị thương (?:nặng|rất nặng|nhiều|nghiêm trọng)",
    r"bị (?:trâu|@bò|voi|@ngựa|heo rừng|lợn rừng) (?:[^ |]+ )?(?:húc|giẫm|đạp|quật)",
    r"(?:nhai|nuốt) (?:[^ |]+ ){0,2}(?:mấy|nhiều|cả|hết|nguyên) (?:viên|vỉ|lọ|hộp)",
    r"rượu (?:giả|pha cồn|methanol)", r"(?:thở|mạch) (?:yếu|thều thào|đứt quãng)",
    # A fall, then unable to move: "ngã cạnh giường, không nhấc chân lên được".
    r"(?:ngã|té|trượt|gục) (?:[^ |]+ ){0,6}(?:không|hông|chẳng) (?:đứng|ngồi|gượng|nhấc|cử"
    r"|đi|bước|cựa|dậy|lên)(?: [^ |]+){0,3} (?:được|nổi)",
    r"(?:ngã|té) (?:[^ |]+ ){0,5}(?:nằm (?:đó|đấy|luôn|dưới|trên|giữa|ngoài|trong|dài)|kêu rên"
    r"|rên rỉ|lơ mơ|ói|nôn)",
    r"(?:có|thấy) (?:người|ai|đứa|bé|ông|bà|em bé|trẻ) (?:[^ |]+ ){0,2}(?:bị )?(?:ngã|té|rơi"
    r"|rớt|ngất|xỉu|đuối|chìm|kẹt|nằm im|bất tỉnh|giật)",
    r"(?:điện giật|bị giật) (?:[^ |]+ ){0,3}(?:dính|nằm|không|bất|ngã|văng)",
]
_STRONG["water"] += [
    r"(?:văng|hất|bị hất|lao|nhảy) (?:[^ |]+ )?xuống (?:sông|hồ(?! sơ)|ao|giếng|kênh|mương"
    r"|biển|cống|hố|suối|vực)",
    r"sóng (?:[^ |]+ )?(?:đánh|đập) (?:lật|chìm|vỡ|trôi)",
    r"(?:té|ngã|rơi|rớt|lọt) (?:[^ |]+ )?(?:xuống |vô |vào )?(?:@giếng|lu nước|bể nước|thùng"
    r" nước|chum)",
    r"(?:không|chưa) thấy (?:[^ |]+ )?(?:ngoi|nổi|trồi) lên",
]
_STRONG["accident"] += [
    r"(?:lăn|rớt|té|ngã|rơi|lao) (?:[^ |]+ )?xuống (?:dốc|vực|đèo|taluy|ta luy|hẻm núi)",
    r"té đèo",
    r"(?:xe|ô tô|oto|xe tải|container|xe khách|xe buýt|xe máy|xe ben) (?:[^ |]+ )?(?:đâm|tông"
    r"|húc|lao|lủi) (?:vào |vô |thẳng vào )?(?:quán|tiệm|chợ|đám đông|đám cưới|đám tang|dòng"
    r" người|hàng người|nhóm người|học sinh|cửa hàng|trường|vực)",
    r"lao (?:xuống|xuông) (?:vực|dốc|đèo|taluy|mương|sông|kênh)",
    r"(?:xe|bánh xe) (?:[^ |]+ ){0,2}(?:cuốn|kéo|lôi) (?:[^ |]+ )?(?:vào|vô) gầm",
    r"kẹt (?:dưới|trong) (?:gầm|bánh)",
]
_STRONG["violence"] += [
    r"(?:tưới|đổ|tạt|dội|xịt) (?:[^ |]+ )?xăng (?:[^ |]+ )?(?:lên|vào|vô) (?:[^ |]+ )?"
    r"(?:người|mình|nhà|vợ|chồng|con)",
    r"(?:dọa|đòi|định) (?:đốt|châm lửa|phóng hỏa)",
    r"(?:vây|xúm|xông vào) (?:đánh|đập|chém|đâm)",
    r"(?:kề|dí|chĩa|gí) (?:[^ |]+ )?(?:dao|súng|mã tấu|kiếm|kéo) (?:vào|vô|lên)",
    r"(?:cầm|vung|rút|vác|mang) (?:[^ |]+ )?(?:dao|súng|mã tấu|kiếm|rựa|búa|tuýp|gậy|ghế) "
    r"(?:[^ |]+ ){0,4}(?:đòi tiền|đập|đánh|chém|đâm|dọa)",
]
_STRONG["generic"] += [
    r"(?:gọi|kêu|tìm|kiếm) (?:hoài|mãi|khắp|nãy giờ|cả buổi|khắp nơi) (?:[^ |]+ )?(?:không|hông"
    r"|chẳng|chưa) thấy(?! (?:giấy|hồ sơ|thẻ|tin|kết quả|trả lời|phản hồi|email|tiền|mail|đơn))",
    r"(?:lẫn|lú lẫn|lãng trí|mất trí nhớ|đãng trí) (?:[^ |]+ ){0,3}(?:đi|bỏ đi|ra khỏi nhà|đi"
    r" lạc) (?:[^ |]+ ){0,3}(?:@đâu mất|mất|chưa về|không về|lạc)",
    r"(?:(?<=^ )|(?<=\| ))cứu(?= , )",
    # Someone missing now: a child lost, or an elder who went out and has not come back.
    r"(?:bé|con|cháu|thằng bé|con bé|đứa nhỏ|em bé|thằng nhỏ|con nhỏ|thằng cu) (?:[^ |]+ ){0,3}"
    r"(?<!liên )(?<!lien )lạc (?:ở|tại|trong|ngoài|giữa|đâu|mất|rồi)",
    r"(?:gọi|tìm|kiếm|loa) (?:[^ |]+ ){0,3}(?:chưa|không|hông|chẳng) thấy (?:bé|con|cháu|đứa"
    r" nhỏ|nó|thằng bé|con bé|ông|bà|mẹ|bố|ba|má|cụ)",
    r"(?:bé|con|cháu|thằng bé|con bé|đứa nhỏ|em bé|thằng nhỏ|con nhỏ|mẹ|bố|ba|má|ông|bà|cụ) "
    r"(?:[^ |]+ ){0,10}(?:tìm|kiếm) (?:khắp|hết|cả|mọi|quanh) (?:[^ |]+ ){0,3}(?:không|hông"
    r"|chẳng|chưa) (?:thấy|ra)",
    r"(?:bé|con|cháu|thằng bé|con bé|đứa nhỏ|em bé|thằng nhỏ|con nhỏ|mẹ|bố|ba|má|ông|bà|cụ) "
    r"(?:[^ |]+ ){0,3}(?:đi|ra khỏi nhà|ra ngoài|tan học|tan trường) (?:[^ |]+ ){0,8}"
    r"(?:tới giờ|đến giờ|giờ|mà|tối"
    r"|vẫn) (?:vẫn )?chưa (?:về|thấy về|thấy)",
    r"(?:bé|con|cháu|thằng bé|con bé|đứa nhỏ|em bé|thằng nhỏ|con nhỏ) (?:[^ |]+ ){0,4}(?:về"
    r" )?(?:trễ|muộn|quá giờ) (?:[^ |]+ )?(?:\d+|mấy|hai|ba|bốn|năm|nhiều) (?:tiếng|giờ)",
]
_WEAK["medical"] += [
    # Signs of a stroke: two in one sentence are danger now.
    r"nói (?:ngọng|đớ|lắp|líu|không rõ|lắp bắp|khó)", r"loạng choạng", r"lừ đừ",
    r"(?:tê|yếu) (?:tay|chân|nửa)", r"(?:đau|tức) thắt ngực", r"tức ngực", r"mắt không thấy",
]
_WEAK["crime"] += [
    r"bị (?:[^ |]+ ){0,2}bắt đi", r"(?:lén|trốn|giấu) (?:[^ |]+ )?(?:nhắn|gọi|gửi tin)",
    r"(?:không biết|chẳng biết) (?:[^ |]+ ){0,2}đi đâu",
]
_WEAK["generic"] += [
    r"(?:không|hông|hổng|chẳng) (?:ra|thoát|chạy ra|thoát ra|mở cửa) (?:được|nổi)",
    r"khóc thét", r"la thất thanh", r"kêu la",
]
_WEAK["crime"] += [
    # ("chạy" is blanked as a look-alike: "phóng", "chở" stand for the getaway.)
    r"(?:ôm|bế|bồng|lôi|kéo|giật|bắt) (?:[^ |]+ ){0,5}(?:phóng|chở) (?:mất|đi|ra|vào)",
    r"(?:người lạ|kẻ lạ|lạ mặt|thằng|gã|mụ|ông lạ|bà lạ) (?:[^ |]+ ){0,4}(?:ôm|bế|bồng|lôi|kéo"
    r"|bắt|dắt|dụ) (?:[^ |]+ )?(?:con|bé|cháu|đứa|em bé|thằng bé|con bé)",
]
_WEAK["self_harm"] += [
    r"(?:nhắn|viết|gửi|nói) (?:[^ |]+ ){0,3}xin lỗi (?:ba mẹ|bố mẹ|mọi người|cả nhà|má|mẹ|ba|bố)",
    r"khóa (?:trái )?cửa (?:phòng|nhà tắm|lại)",
    r"(?:con|em|tui|tôi|anh|chị|mình) đi (?:đây|luôn đây)(?= [,|] | ?$)",
]
_STRONG["gas"] += [
    r"(?:ống|đường ống|bồn|bình|téc) (?:chứa |dẫn )?(?:khí|ga|gas|hóa chất|amoniac|clo) "
    r"(?:[^ |]+ ){0,4}(?:bị )?(?:xì|rò rỉ|rò|vỡ|nổ|bục)",
    r"(?:amoniac|clo|@khí độc|hóa chất|axit|khí ga|khí gas) (?:[^ |]+ ){0,4}(?:bị )?(?:xì|rò rỉ"
    r"|rò|tràn|vỡ)",
]
_STRONG["accident"] += [r"@cán (?:trúng|phải|qua|lên|chết|người)"]
_STRONG["medical"] += [r"uống (?:[^ |]+ ){0,3}thuốc (?:sâu|chuột|ngủ|độc|trừ sâu|diệt cỏ|an thần)"]
_WEAK["medical"] += [
    r"(?:tay|chân) (?:[^ |]+ ){0,2}(?:buông|rớt đồ|không cầm|không nhấc|yếu hẳn|tê dại)",
    r"(?:bị )?gãy (?:chân|tay|xương)", r"(?:khóc la|gào khóc|la khóc|khóc thét)",
]
_WEAK["generic"] += [r"tắt máy"]
_STRONG["collapse"] += [
    r"(?:đổ|sập|rơi|rớt|ngã) (?:@đè |xuống )?(?:trúng|lên|vào|vô) (?:[^ |]+ ){0,2}(?:người|đầu"
    r"|ngực|bé|con|cháu|ông|bà|em)",
]
_STRONG["medical"] += [
    r"@nghẹn (?:[^ |]+ )?(?:cục|miếng|hạt|viên|thức ăn|cơm|bột|kẹo|xôi|thịt|xương)",
    r"ăn (?:[^ |]+ ){0,2}(?:cá nóc|nấm độc|lá ngón|mật cá trắm|thịt cóc|trứng cóc)",
]
_STRONG["generic"] += [
    r"(?:lẫn|lú lẫn|lãng trí|mất trí nhớ|đãng trí) (?:[^ |]+ ){0,10}chưa (?:thấy )?về",
    r"(?:bé|con|cháu|thằng bé|con bé|đứa nhỏ|em bé|thằng nhỏ|con nhỏ|mẹ|bố|ba|má|ông|bà|cụ) "
    r"(?:[^ |]+ ){0,6}từ (?:sáng|tối|hôm|chiều|trưa|đêm) (?:qua|hôm qua|hôm trước|kia) "
    r"(?:[^ |]+ ){0,4}(?:chưa|không|hông) (?:về|thấy về|liên lạc được)",
]
_WEAK["medical"] += [r"tê (?:cứng|lưỡi|môi|miệng)", r"khó nói", r"không ho được",
                     r"run run", r"co quắp", r"nằm (?:dưới|trên|giữa) (?:đất|sàn|nền)"]
_STRONG["fire"] += [
    r"nhà (?:ông|bà|cô|chú|anh|chị|bác|dì|cậu|thím|mợ|o|ôn|mệ)(?: [^ |]+)? (?:đang |bị )?cháy",
    r"lửa (?:lên|bốc) (?:cao|to|lớn|ngùn ngụt)", r"dập (?:lửa )?(?:không|hông) (?:nổi|được)",
    r"không dập (?:được|nổi)",
]
_STRONG["generic"] += [
    # A teenager gone off and unreachable; a child who went swimming and is not back.
    r"(?:bé|con|cháu|thằng bé|con bé|đứa nhỏ|em bé|thằng nhỏ|con nhỏ|em|con gái|con trai) "
    r"(?:[^ |]+ ){0,4}bỏ (?:nhà )?đi (?:[^ |]+ ){0,20}(?:không liên lạc được|tắt máy|không nghe"
    r" máy|không bắt máy)",
]
_STRONG["water"] += [
    r"(?:tắm|bơi|lội) (?:[^ |]+ ){0,12}(?:chưa|không) (?:thấy )?(?:về|lên)(?= [,|] | ?$)",
]
_STRONG["self_harm"] += [
    r"(?:viết|ghi|để) (?:[^ |]+ )?thư (?:để lại|tuyệt mệnh|từ biệt|vĩnh biệt)",
]
_WEAK["self_harm"] += [r"(?:chuẩn bị|sắp) đi (?:đây|rồi)(?= [,|] | ?$)"]
_WEAK["medical"] += [
    r"lơ mơ", r"(?<!buồn )nôn", r"@ói", r"đau (?:[^ |]+ )?dữ dội", r"nói (?:lảm nhảm|sảng)",
    r"mê sảng", r"lạnh run",
]
_STRONG["medical"] += [
    r"mắt trợn(?: ngược| trắng)?",
    r"(?:gọi|kêu|lay) (?:[^ |]+ )?(?:không|chẳng|hông) (?:mở mắt|tỉnh|dậy|thưa)",
    r"uống (?:cả|hết|nhiều|nguyên|mấy) (?:vỉ|lọ|nắm|hộp)(?! (?:sữa|nước|bia))",
]
_STRONG["violence"] += [
    r"(?:đang )?(?:dùng|cầm|lấy) (?:[^ |]+ ){0,2}(?:dao|mảnh chai|chai|gạch|đá|gậy|búa|kéo|cây"
    r" sắt) (?:[^ |]+ )?(?:cứa|đâm|đập|chém|đánh|ném|rạch)",
]
_WEAK["medical"] += [
    r"cứng đờ", r"thở (?:phì phò|hắt|khó|gấp)", r"(?:không|hông) mở mắt", r"(?:té|ngã) ngửa",
    r"xiêu vẹo", r"nói (?:năng )?lộn xộn", r"@cứa (?:tay|cổ|người)",
]
_WEAK["generic"] += [
    r"còn (?:nằm |kẹt |ở )?(?:trong|bên trong)(?= [,|] | ?$| (?:buồng|phòng|nhà|đó))",
]
_WEAK["crime"] += [
    r"chặn (?:đường|đầu|xe)", r"(?:núp|trốn) (?:trong|sau|dưới|ở)",
    r"(?:đòi|định|muốn|cố) (?:kéo|lôi) (?:[^ |]+ ){0,3}đi",
    r"bị (?:[^ |]+ ){0,3}(?:theo dõi|bám theo|đi theo|bám đuôi)",
]
_WEAK["self_harm"] += [
    r"không ai (?:hiểu|thương|cần|quan tâm)", r"(?:muốn|sẽ) biến mất",
    r"tạm biệt (?:mọi người|ba mẹ|bố mẹ|cả nhà)", r"(?:sân|tầng) thượng (?:rồi|đây)",
]
_WEAK["accident"] += [r"dây điện (?:[^ |]+ ){0,2}(?:đứt|rơi|rớt|chạm|giật)"]

# Wordings missed by the blind batches r8 and r9 (bench/data/danger_dev_r8_*.yml, r9_*).
_STRONG["accident"] += [
    r"(?:xe khách|xe buýt|xe tải|xe container|container|xe ben|xe bồn|xe du lịch|ô tô|xe con"
    r"|xe giường nằm|xe đưa rước|xe chở) (?:[^ |]+ ){0,2}(?:bị )?lật (?:ở|tại|trên|giữa|dưới"
    r"|xuống|nhào|ngửa|nghiêng|rồi)",
    r"nằm (?:[^ |]+ )?(?:trên|giữa|ngang) (?:đường ray|đường tàu|đường sắt)",
]
_STRONG["medical"] += [
    r"(?:nhiều|mấy|hàng chục|chục|vài|cả chục|bao nhiêu) (?:người|đứa|em|công nhân|khách) "
    r"(?:[^ |]+ )?bị thương",
    r"(?:bị )?sét (?:đánh|đánh trúng|đánh vào|giật)",
]
_STRONG["water"] += [
    r"(?:@chìm|@đuối) (?:mất|nghỉm|lỉm|luôn|mất tiêu|mất tăm)",
    r"hụt chân (?:[^ |]+ ){0,3}(?:chìm|@đuối|xuống|trôi|mất)",
]
_STRONG["violence"] += [
    r"(?:tạt|hắt|ném|xịt) (?:[^ |]+ )?(?:axit|a xít|acid|nước sôi|dầu sôi)",
    r"(?:nhốt|giam|giữ) (?:[^ |]+ ){0,5}không cho (?:ra|về|đi|ra ngoài)",
    r"(?:dụ|lừa|chở|kéo|ép|bắt) (?:[^ |]+ ){0,2}lên (?:xe|ô tô|oto|taxi|ghe|thuyền)"
    r"(?! (?:về quê|đi học|đi làm|lên))",
]
_STRONG["fire"] += [
    r"cháy (?:mái|nóc|trần|vách)",
    r"(?<!dễ )(?<!không )(?<!khong )(?<!hông )bắt lửa (?:rồi|cháy|lan|qua|sang|vào|vô|bùng"
    r"|phừng)",
    r"(?:bình|bếp|ống|van) (?:ga |gas )?(?:(?!(?:không|hông|chẳng|chưa|ko|khó) )[^ |]+ )?"
    r"(?:bắt lửa|bốc lửa|phụt lửa|xì lửa)",
]
_NOW_EXTRA = [r"tàu (?:sắp|đang) (?:tới|đến|chạy tới|qua|lao tới)"]
# Wordings missed by probe batch r10 (bench/data/danger_dev_r10_*.yml).
_STRONG["collapse"] += [
    r"thang máy (?:[^ |]+ ){0,3}(?:dừng|đứng|kẹt|treo) (?:giữa|lưng chừng)",
]
_STRONG["medical"] += [
    r"sùi bọt", r"(?:gọi|lay|kêu) (?:[^ |]+ )?(?:không|chẳng|hông) (?:biết gì|phản ứng|nhận ra)",
]
_STRONG["violence"] += [r"(?:bóp|siết) (?:cổ|họng)"]
_STRONG["medical"] += [r"(?:mắc|kẹt|vướng) (?:ở |trong |ngang )?(?:cổ|họng)(?! tay| chân)"]
_WEAK["generic"] += [
    r"(?:gõ|đập) (?:cửa )?(?:[^ |]+ )?(?:không|hông|chẳng) (?:ai )?(?:thưa|mở|trả lời)",
    r"(?:mấy|ba|hai|bốn|vài|cả) (?:ngày|hôm|bữa|tuần) (?:nay )?(?:không|chưa|hông) (?:ai )?thấy"
    r" (?:mở cửa"
    r"|ra|đi ra|ló mặt|ra khỏi nhà)",
    r"(?:bé|con|cháu|đứa nhỏ|thằng bé|con bé|em bé|nó) (?:[^ |]+ ){0,3}chui (?:vô|vào)",
    r"(?:không|hông|chẳng) mở (?:ra )?(?:được|nổi)",
]
_WEAK["self_harm"] += [r"tự nhốt (?:mình )?(?:trong|ở|lại)"]

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
    # "cuu" typed without diacritics before a former role is "cựu" ("là cựu chiến binh"),
    # not a cry for help ("la cuu": "la cứu").
    r"cựu (?:chiến binh|binh|bộ đội|quân nhân|thanh niên xung phong|học sinh|sinh viên|giáo "
    r"viên|cán bộ|công an|công nhân|nhân viên|chủ tịch|giám đốc|thành viên|lãnh đạo|tù|vợ|"
    r"chồng|người yêu)",
    r"chém (?:gió|giá|tiền)", r"đâm (?:đơn|đầu|ra|chồi|lá|bông|sầm)", r"giết (?:thời gian|"
    r"thì giờ|thời giờ)", r"bắn (?:tin|pháo hoa|pháo|tiếng|bi|tốc độ)", r"@nổ (?:máy|lốp|ra|vía|"
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
    r"(?:chuông|còi|hệ thống|đầu|thiết bị|đèn) báo (?:cháy|khói)",
    r"(?:bóng đèn|bóng|cầu chì|mô tơ|bo mạch|chip|ổ cứng|màn hình|cầu dao) (?:[^ "
    r"|]+ ){0,3}(?:bị )?@cháy(?! lan)",
    r"tra cứu", r"nghiên cứu", r"ma chay", r"tiêu chảy", r"đăng (?:ký|kí)", r"định danh",
    r"biến động",
    r"tai nạn (?:lao động|rủi ro)", r"bảo hiểm tai nạn",
    r"tổng đài", r"ngập (?:nợ|đầu|tràn)", r"máy giặt", r"điện thoại", r"lửa trại",
    r"(?:xe (?:[^ |]+ )?)?chay (?:bằng )?(?:điện|xăng|dầu|pin|ga)",
    r"(?:nồi|chảo|cơm|bánh|thịt|cá|món|đồ ăn|thức ăn|nồi cơm|ấm|xoong) (?:bị )?@cháy(?: (?:đáy"
    r"|khét|đen|xém|rồi))?",
    r"cháy (?:đáy|khét)",
    r"(?:chảy|rỉ|rò rỉ) (?:nước|nhớt|mủ|mồ hôi)",  # "máy lạnh chay nuoc": leaking
    r"(?:không|chẳng|chả|ko) (?:muốn|chịu|dám|thích) (?:uống|dùng) thuốc ngủ",
    r"(?:bé|con|cháu) dễ (?:ăn|ngủ|thương|chịu|nuốt|hiểu|uống|tiêu|nhìn|bảo)",  # not "bể đê"
    r"(?:chống|trị|chữa|phòng ngừa|phòng) (?:co giật|đột quỵ|hen|sốc|ngộ độc|đuối nước)",
    r"(?:mèo|chó|gà|heo|lợn|bò|vịt|trâu|dê|cá) (?:[^ |]+ ){0,3}bị (?:chó |mèo |rắn )?(?:cắn"
    r"|ngộ độc|chết|xỉu|điện giật)(?: chết)?",
    r"(?:hàng|vé|tour|suất|khẩu trang|sân) (?:đã |bị )?@cháy",
    r"(?:tuyên|công|phân|ban) bố", r"sợ (?:nó |bị |là )?(?:sập|đổ|sạt|lở|sụp|cháy nổ|cháy|nổ)",
    r"(?:bảo hiểm|nguy cơ|an toàn|sự cố) cháy nổ",
    r"(?:muốn|sắp|chắc|gần) chết với (?:cái|mấy|ông|bà|thằng|con|bọn|tụi|đám|cô|chú)",
    r"dễ (?:bắt lửa|cháy nổ|cháy|gây cháy)",
    r"(?:giá|vé|tiền|bán|mua|tính tiền|taxi|xe ôm|quán) (?:[^ |]+ ){0,4}(?:bị )?chém"
    r"(?! (?:người|chết|nhau|tôi|tui|em|con|vào|vô))",
    r"(?:cảm biến|thiết bị|máy|đầu|còi|hệ thống|bộ) (?:báo |phát hiện |chống |cảnh báo )?(?:rò rỉ"
    r"|rò|xì) (?:khí )?(?:ga|gas)",
    r"đốt (?:rơm rạ|rơm|rạ|rác|lá|đồng|vàng mã|nhang|hương)(?: (?:[^ |]+ ){0,2}khói)?",
    r"khói (?:rơm|rạ|rác|bếp củi|lò gạch|đốt đồng)",
    r"@cháy (?:hết )?(?:pin|tiền|túi|vé|hàng)", r"(?:hay|thường|hay bị|dễ) (?:đi lạc|lạc đường"
    r"|đi lang thang)",
    r"(?:như|tựa|y như|cứ như) (?:bị )?(?:cháy nhà|lửa đốt|chạy giặc|ma đuổi|điện giật|súng"
    r"(?: liên thanh)?|bom nổ|tên bắn|chết rồi)",
    # The Penal Code's name of a crime (art. 132), not a description of now.
    r"không cứu (?:giúp )?người (?:đang )?(?:ở )?(?:trong )?tình trạng nguy hiểm (?:đến|tới) "
    r"tính mạng",
]

# --- what calms a danger phrase down ----------------------------------------------------
# Each list is looked for in the sentence of the danger phrase. A calming word before the
# phrase counts only when no turn word ("giờ", "mà", "thì", "nhưng") stands between them:
# "đang làm căn cước thì nghe tiếng nổ" and "hỏi thẻ BHYT, mà khoan, ông tôi ngã ra không
# thở" are danger now.

# Over: a past time.
_PAST = _alt([
    r"năm (?:ngoái|trước|rồi|kia|20\d\d|19\d\d)",
    r"(?<!từ )(?<!tu )hôm (?:qua|kia|trước|bữa|rồi|đó)",
    r"tuần (?:trước|rồi|qua)", r"tháng (?:trước|rồi|qua)",
    r"(?<!từ )(?<!tu )(?:tối|đêm|sáng|chiều|trưa) (?:qua|hôm qua|kia|hôm kia|hôm trước)",
    r"hồi (?:trước|xưa|nhỏ|đó|năm|"
    r"tháng|còn|ấy|sáng|chiều|trưa|tối|hôm|bữa|tết)", r"(?:lúc|dạo|bữa|đợt|lần|thời) "
    r"(?:trước|đó|ấy|rồi|hổm)", r"trước (?:đây|kia)", r"bữa (?:hổm|trước|rồi|đó)",
    r"hôm bữa", r"(?:mấy|vài|hai|ba|\d+) (?:năm|tháng|tuần|bữa|hôm|ngày) (?:trước|rồi|qua)",
    r"(?:mấy|vài|hai|ba|\d+) (?:năm|tháng) nay",  # "mấy ngày nay": still going on
    r"hồi (?:[^ |]+ ){1,2}còn (?:nhỏ|bé|trẻ|sống|đi học|con nít)",
    r"(?:giao thông|lao động|tai nạn xe|điện giật|sông|biển) mất(?! (?:máu|tích|tiêu|ý thức|tăm))",
    r"đã lâu", r"từ lâu", r"(?:đã )?qua khỏi",
    r"đã (?:được|xong|khỏi|bình phục|ra viện|xuất viện|mất|qua đời|"
    r"chết|bồi thường|giải quyết|xử lý|xét xử|điều trị|dập tắt)", r"(?:ra|xuất) viện",
    r"khỏi bệnh", r"đã (?:từng|có lần)", r"@từng", r"(?:ngày|đêm|tối|sáng|chiều) "
    r"(?:\d+|hôm qua|hôm trước)", r"(?:năm|vào năm) \d{4}", r"\d+/\d+(?:/\d+)?", r"hôm \d+",
    r"hồi đó", r"khi đó", r"lúc đó", r"năm đó", r"(?:đã |phải )?(?:nằm viện|điều trị) "
    r"(?:\d+|mấy|một|hai|ba|vài|nửa) (?:ngày|tuần|tháng|năm)", r"qua đời", r"đã mất",
    r"(?:nạn|quỵ|bệnh|biến|đuối|nặng|đuối nước) mất",
    # ("chìm mất rồi", "trôi mất rồi": lost in the water now, not a death long over.)
    r"mất(?<!chìm mất)(?<!chim mất)(?<!trôi mất)(?<!troi mất)(?<!cuốn mất)(?<!cuon mất) (?:rồi|năm"
    r"|tháng|hôm|ngày|lúc|do|vì)",
    r"cách đây (?:[^ |]+ )?(?:năm|tháng|tuần|ngày|hôm|bữa)",
])
# A procedure, a benefit, a fine, money, an account: a question about the danger, not in it.
_PROC = _alt([
    r"bảo hiểm", r"bhyt", r"bhxh", r"thẻ (?:bảo hiểm|bh|y tế|bhyt|học sinh|sinh viên)",
    r"chế độ", r"trợ cấp",
    r"bồi thường", r"hồ sơ", r"thủ tục", r"giấy", r"(?:làm|viết|gửi|nộp) đơn", r"chi trả",
    r"thanh toán", r"viện phí", r"quyền lợi", r"@hưởng", r"giám định", r"thương tật",
    r"(?:nộp|xử|bị|mức|tiền|nộp chậm|đóng) phạt", r"phạt nguội", r"@phạt", r"nộp chậm",
    r"khởi kiện", r"@kiện", r"tố cáo", r"tố giác", r"luật", r"pháp luật", r"quy định",
    r"điều \d+", r"nghị định", r"có (?:được|phải|bị) (?:[^ |]+ ){0,4}(?:không|hông|chưa)",
    r"ly hôn", r"@tòa", r"công chứng", r"đăng ký", r"khai báo", r"xin (?:cấp|hỗ trợ|trợ cấp)",
    r"hỗ trợ", r"tiền (?:mai táng|tuất|viện phí|thuốc)", r"phụ cấp", r"@lương", r"vneid",
    r"căn cước", r"tài khoản", r"ứng dụng", r"mức (?:phạt|hưởng|đóng)", r"kinh phí",
    r"chi phí", r"miễn phí", r"mất (?:tiền|phí)", r"tốn (?:tiền|phí)", r"khám chữa bệnh",
    r"@tuyến", r"trái tuyến", r"đúng tuyến", r"chuyển tuyến", r"làm lại", r"cấp lại",
    r"cấp đổi", r"xin lại", r"sổ đỏ", r"sổ hồng", r"hộ chiếu", r"bằng lái", r"khai sinh",
    r"khai tử", r"hộ khẩu", r"thông báo", r"cmnd", r"mật khẩu", r"đền bù", r"ủng hộ",
    r"sao kê", r"từ thiện", r"quyên góp", r"cứu trợ", r"@tuyển", r"tuyển dụng", r"việc làm",
    r"(?:học|làm) (?:nghề|thợ|nhân viên)", r"hack", r"facebook", r"zalo", r"mạng xã hội",
    r"ngân hàng", r"app", r"tai nạn lao động", r"nghỉ (?:dưỡng sức|phép|ốm|thai sản)",
    r"thai sản",
    r"khuyến mãi", r"chốt đơn", r"đơn hàng", r"giảm giá", r"@sale", r"bảo hành",
    r"gửi (?:bà con|đồng bào|vùng)", r"vụ án", r"hung thủ", r"điều tra", r"truy nã",
    r"nghi phạm", r"bắt được", r"đã (?:[^ |]+ ){1,4}chưa",
    r"(?:thay|sửa|mua) (?:[^ |]+ ){0,2}(?:ở đâu|loại nào)",
    r"(?:bị|phạm|mắc) tội", r"tội (?:gì|danh)", r"@tội (?:mua bán|cố ý|vô ý|xúi giục|bức tử"
    r"|giết|cướp|trộm|hiếp|bắt cóc|gây)", r"truy cứu", r"hình sự", r"(?:phạt|đi|ở|ngồi|án) tù",
    r"khung hình phạt", r"(?:bị )?xử lý (?:theo|thế nào|ra sao|hình sự|sao)", r"bị xử lý",
    r"xét xử", r"xúi giục", r"bức tử", r"có tội",
    r"(?:tiền|giá|hóa đơn|học phí|lãi) (?:[^ |]+ ){0,3}(?:tăng|đắt|mắc)",
])
# How to act, in general: calm unless it is about someone here ("con tôi bị đuối nước, sơ
# cứu thế nào" is danger now).
_HOWTO = _alt([
    r"nếu", r"giả sử", r"giả định", r"lỡ (?:như|mà|khi)", r"phòng khi", r"trường hợp",
    r"(?<!sau )@khi (?:có|gặp|bị|xảy ra|thấy|nhà)", r"(?:gặp|thấy) (?:người|ai) bị", r"tình huống",
    r"cách (?:phòng|tránh|xử lý|sơ cứu|thoát|nhận biết|khử|làm|chữa|trị|dập|giảm|gọi|báo)",
    r"(?:làm sao|làm thế nào) để", r"phải làm (?:gì|sao) khi", r"nên làm gì", r"làm gì khi",
    r"kỹ năng", r"bài học", r"kinh nghiệm", r"@mẹo", r"hướng dẫn (?:cách|kỹ năng)",
    r"số (?:điện thoại|máy|nào|mấy|gì)", r"gọi số", r"(?:đầu|số) (?:113|114|115|112)",
    r"(?:113|114|115|112) (?:là|có|thì|để|dùng|miễn phí|mất)", r"thì sao", r"có sao không",
    r"sơ (?:cấp )?cứu", r"phòng tránh", r"phòng ngừa", r"đề phòng", r"cảnh giác",
    r"cảnh báo", r"bị (?:[^ |]+ ){0,5}thì (?:nên|phải|làm|đi|đến|có|gọi)",
    r"(?:tránh|trú|phòng) (?:bão|lũ|lụt|sét)", r"chỗ (?:tránh|trú)",
    r"@thì (?:báo|gọi|làm|phải làm|nên làm|liên hệ|xử lý) (?:ở đâu|ai|gì|sao|cho ai|số nào"
    r"|thế nào|như thế nào)", r"(?:thấy|gặp) (?:[^ |]+ ){0,3}bị",
    r"là (?:do |vì )?(?:chất|mùi|bệnh|cái) gì", r"là gì",
    r"số (?:cứu hỏa|cấp cứu|công an|cảnh sát|khẩn cấp|chữa cháy|cứu hộ|cứu nạn)",
])
# A lifelong condition ("bại não từ nhỏ, tay chân co quắp"), not something happening now: a
# habit, and no line of numbers after the answer either.
_LIFELONG_PATTERNS = [
    r"từ (?:nhỏ|bé|lúc nhỏ|khi nhỏ|lúc sinh ra|khi sinh ra|lúc mới sinh|khi mới sinh)",
    r"bẩm sinh", r"mãn tính", r"di chứng"]
_LIFELONG = _alt(_LIFELONG_PATTERNS)
# A habit, health in general, the future, news and hearsay: calm unless a present signal.
_HABIT = _alt([
    r"dễ bị", r"hay bị", r"thường bị", r"nguy cơ", r"thường", r"thỉnh thoảng",
    r"hay (?:đánh|chửi|bạo hành|đánh đập|say|đập|dọa)", r"nhiều lần", r"(?:trong )?suốt "
    r"(?:thời gian|mấy năm|nhiều năm|những năm|quá trình)", r"lâu nay", r"bao năm",
    r"hay (?:co giật|than|ốm|bệnh|mệt|đau|ngất|xỉu|khó thở|lên cơn|bị)",
    r"(?<!chảy )(?<!chay )hoài", r"mỗi (?:khi|lần|đêm|ngày|tối|sáng|năm|mùa)", r"lần sau",
    r"bữa giờ",
    r"dạo này", r"@khi (?:[^ |]+ ){1,3}thì",
    *_LIFELONG_PATTERNS, r"dự báo", r"mùa (?:lũ|mưa|bão|khô)",
    r"(?:sớm|muộn|nhiều|to|lớn) (?:không|hông|ko|chưa)", r"năm nay", r"có (?:lũ|bão|mưa) "
    r"(?:không|hông)", r"chuẩn bị (?:gì|những gì|đồ|cho|sẵn)",
    r"@mai(?! (?:nhà|tôn|ngói|che|hiên|lá))", r"ngày mai",  # "mai nha": a roof
    r"(?<!tàu )(?<!tau )(?<!xe )sắp tới",  # not "tàu sắp tới": a train coming
    r"tuần sau", r"tới đây",
    r"(?:nên|có nên|phải|cần) (?:đi )?khám", r"khám (?:khoa|ở|bác sĩ|chuyên khoa|bệnh|tổng "
    r"quát)", r"tái khám", r"định kỳ", r"triệu chứng", r"dấu hiệu", r"(?:uống|dùng) thuốc gì",
    r"bệnh gì", r"chữa (?:trị|bệnh|khỏi)", r"(?:có )?(?:nguy hiểm|sao) (?:không|hông|ko)",
    r"bác sĩ (?:dặn|nói|bảo|khuyên)", r"hỏi trước", r"để biết", r"hỏi cho biết", r"phòng hờ",
    r"hồi nào",
    r"(?:giờ|bây giờ) (?:sao rồi|thế nào rồi|ra sao)",
    r"(?:tìm|cứu|dập) (?:được|ra) chưa", r"vùng (?:sạt lở|lũ|bão|thiên tai|ngập)",
    r"không (?:có )?(?:cháy|khói|lửa|ai bị)", r"dù không",
    r"(?:dễ|có thể|có khả năng) gây", r"xuống cấp", r"kế hoạch",
    r"(?<!quỵ )(?<!quy )@nhẹ(?! nhàng| người| nhõm)", r"cách dập(?: tắt)?",
    r"mất trộm", r"(?:bị )?trộm mất",
    r"(?:làm sao|sao|cách|làm thế nào) (?:để )?(?:biết|nhận biết|nhận ra|phân biệt)",
    r"(?:có )?cần (?:đi )?(?:tiêm|chích|khám|uống thuốc|nhập"
    r" viện|đi viện|vô viện)(?: [^ |]+)? (?:không|hông|ko)",
])
# News and hearsay, before the danger phrase ("nghe đài nói có người chết đuối").
_HEARSAY = _alt([
    r"nghe (?:đài|nói|tin|báo|loa|kể|người ta nói)", r"đài (?:xã|phát thanh|truyền hình)",
    r"(?:(?<=^ )|(?<=\| ))@tin", r"@tin (?:về|là|nói|báo)", r"bản tin",
    r"đọc (?:tin|báo)", r"(?:báo|tivi|đài) (?:đưa tin|nói|đăng)",
])
# Money asked for by a caller: a scam, whatever words of danger it uses.
_SCAM = _alt([
    r"lừa đảo", r"@lừa", r"chuyển (?:tiền|khoản|gấp)", r"giả danh", r"mạo danh", r"tự xưng",
    r"xưng là", r"chiêu", r"số tài khoản", r"đòi chuyển", r"số lạ", r"(?:gửi|nạp) tiền",
    r"(?:gọi|nhắn|điện|điện thoại|tin nhắn) (?:[^ |]+ ){0,6}(?:đòi|bắt|yêu cầu) "
    r"(?:tiền(?! chuộc)|chuyển)",
    r"tiền chuộc (?:qua|vào) "
    r"tài khoản", r"otp",
])
# A drill, a course, fiction: calm unless a present signal.
_DRILL = _alt([
    r"diễn tập", r"tập huấn", r"huấn luyện", r"(?:lớp|khóa) (?:học|tập huấn|huấn luyện|"
    r"sơ cứu|kỹ năng)", r"học (?:sơ cứu|sơ cấp cứu|cách|kỹ năng|bơi|ép tim|hô hấp|thổi ngạt|cpr)",
    r"học (?:[^ |]+ ){0,4}(?:mấy buổi|bao lâu|học phí|khóa|lớp)", r"học (?:[^ |]+ ){0,4}"
    r"ở (?:đâu|mô)", r"thực hành", r"tuyên truyền", r"phổ biến", r"hội thi", r"cuộc thi",
    r"mô phỏng", r"giả định", r"tình huống giả", r"(?<!rượu )(?<!ruou )(?<!thuốc )(?<!thuoc )@giả",
    r"phim", r"@truyện", r"thống kê", r"tỷ lệ", r"số liệu", r"(?:nhiều|ít) nhất",
    r"(?:được |cô |thầy )?dạy (?:cách|kỹ năng|bơi|sơ cứu|thoát)",
    r"bài (?:hát|văn|thơ|học|báo|giảng)", r"tin tức", r"@báo (?:đăng|đưa|chí)",
    r"(?:đọc|xem|nghe|đưa|bản|coi) tin",
    r"(?<!quen )(?<!quen )trên (?:báo|tivi|tv|mạng|facebook|youtube|tiktok)",
    r"xem (?:tin|phim|clip|video)",
    r"clip", r"video", r"game", r"trò chơi", r"đóng phim", r"@kịch", r"mơ thấy", r"nằm mơ",
    r"giấc mơ", r"ngoại khóa", r"kinh dị",
])
# "Xin hỏi ... bồi thường ...": a letter that tells a story, then asks about a procedure or a
# right. The danger in the story before that question is background, unless it is now.
_LETTER_QUESTION_PATTERNS = [
    r"(?:xin|cho (?:tôi|em|cháu|tui|mình) )?hỏi (?:[^ |]+ ){0,12}(?:bồi thường|bảo hiểm|chế độ|"
    r"thủ tục|hồ sơ|giấy|kiện|luật|quyền|trách nhiệm|phạt|hưởng|trợ cấp|đơn|tòa|xử lý|đền bù|"
    r"mai táng|truy cứu|hình sự)",
    r"(?:tôi|em|cháu|tui) muốn hỏi (?:[^ |]+ ){0,12}(?:bồi thường|bảo hiểm|chế độ|thủ tục|hồ sơ|"
    r"kiện|luật|quyền|trách nhiệm|phạt|hưởng|trợ cấp|đền bù)",
]
_LETTER_QUESTION = _alt(_LETTER_QUESTION_PATTERNS)
# A drill anywhere in the message calms every sentence of it ("Mai phường diễn tập. Tình
# huống: cháy nhà dân, có người mắc kẹt.").
_DRILL_EVENT_PATTERNS = [r"diễn tập", r"tập huấn", r"huấn luyện", r"mô phỏng", r"giả định",
                         r"tình huống giả", r"thao giảng"]
_DRILL_EVENT = _alt(_DRILL_EVENT_PATTERNS)
# Next to the danger phrase, these mean it is happening now.
_NOW = _alt([
    # ("đang đóng bảo hiểm", "đang đi làm": a status in a benefits story, not what happens now)
    r"(?<!khi )(?<!lúc )(?<!luc )đang(?! (?:đóng|tham gia|hưởng|làm việc|công tác|đi làm)"
    r"(?: (?:bảo hiểm|bhxh|bhyt|ở|tại|cho|công ty|lương|chế độ)))", r"bây giờ", r"bây chừ",
    r"ngay (?:bây giờ|lúc này|bây chừ|lập tức)", r"lúc này",
    r"hiện (?:giờ|đang)", r"vẫn (?:đang|còn)", r"cứu (?:với|tôi|tui|em|con|cháu|mẹ|bố|"
    r"ba|bà|ông|gấp|dới|mạng|cứu)", r"gấp (?:lắm|quá|gấp|lên)", r"nhanh (?:lên|giùm|giúp)",
    r"mau (?:lên|tới|đến)", r"trời ơi", r"sắp (?:chết|sập|cháy|nổ|chìm)", r"ơi ơi",
    r"không kịp", r"tới liền", r"đến ngay", r"sos", r"làm ơn", r"nữa rồi", r"bà con ơi",
    r"ngay (?:giữa|trước|tại|ở|trong|ngoài|đây|cổng|cửa|sau|bên)", r"nãy giờ",
    r"phải làm sao (?:đây|bây giờ|giờ)", r"làm sao (?:đây|bây giờ)", *_NOW_EXTRA,
])
# Between a calming word and the danger phrase, these turn the story back to now.
# ("đi lại khó khăn" is walking, not "lại", again.)
_TURN = _alt([r"giờ", r"bây giờ", r"nay", r"hiện", r"(?<!đi )(?<!di )lại", r"nhưng", r"@mà",
              r"@còn", r"đang", r"vẫn", r"tiếp", r"nữa", r"khoan", r"@ủa", r"@à", r"thì",
              r"tự nhiên", r"bỗng", r"đột nhiên", r"chợt", r"nãy giờ"])
_PERSONAL = _alt([
    rf"{_KIN} (?:tôi|tui|em|mình|con|cháu|tao|ta|nhà tôi|nhà em|nhà mình|nhà tui|của tôi)",
    r"(?:tôi|tui|em|mình|tao) (?:đang|vừa|bị)", r"nhà (?:tôi|tui|em|mình|bên cạnh|hàng xóm)",
    r"(?:ở|tại) (?:đây|nhà(?! văn hóa| thờ| hàng| sách| trẻ| thi| khách)|chỗ tôi|chỗ em"
    r"|xóm tôi|ngõ|hẻm|đầu ngõ|cuối ngõ)",
    r"hàng xóm", r"bên cạnh nhà", r"có (?:người|đứa|thằng|ông|bà|bé|em bé|trẻ)",
])
# "!!", a word stretched for a cry ("cứuuuu", "chayyyy"), or a message of a few words.
_EMPHASIS_RE = re.compile(r"!|([^\W\d_])\1{3,}")
#: Four times the same character (any): where a letter is stretched, the quick way.
_FOUR_RE = re.compile(r"(.)\1\1\1")


def _emphatic(text: str) -> bool:
    """``bool(_EMPHASIS_RE.search(text))``, quicker: a "!", or a letter four times in a row
    (every run of four alike starts one of the non-overlapping runs ``_FOUR_RE`` finds)."""
    if "!" in text:
        return True
    for m in _FOUR_RE.finditer(text):
        c = m.group(1)
        if c.isalnum() and not c.isdecimal() and c != "_":  # [^\W\d_]
            return True
    return False


_STRONG_TABLE = _table(_STRONG)
_WEAK_TABLE = _table(_WEAK, loose=_WEAK_LOOSE)
_LOOKALIKE_TABLE = _table({"lookalike": _LOOKALIKES})
#: ``_LETTER_QUESTION`` and ``_DRILL_EVENT`` looked up by first words, like the phrases.
_LETTER_QUESTION_TABLE = _table({"letter": _LETTER_QUESTION_PATTERNS})
_DRILL_EVENT_TABLE = _table({"drill": _DRILL_EVENT_PATTERNS})

# ---------------------------------------------------------------------- reading the text

_TOKEN_RE = re.compile(r"[^\W_]+|[.!?;\n]+|,")
#: The tokens of each run of text between spaces (a token holds no space).
_CHUNKS = Chunks(_TOKEN_RE, by_space=True)
_SPELLED_RE = re.compile(r"\b(?:[^\W\d_][.\-*_]){2,}[^\W\d_]\b")  # "c.h.á.y"
#: What every spelled-out word holds (".h."): a quick scan before ``_SPELLED_RE``.
_SPELLED_HINT = re.compile(r"[.\-*_][^\W\d_][.\-*_]")
_REPEAT_RE = re.compile(r"(.)\1{2,}")
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
    "dt": "điện thoại", "tnạn": "tai nạn", "bhyt": "bhyt", "bhxh": "bhxh", "cc": "cc",
    "cấpcứu": "cấp cứu", "capcuu": "cấp cứu", "cuuhoa": "cứu hỏa", "cuuvoi": "cứu với",
    # Kept as typed ("mê man", not teencode "mần"; "taxi", not telex "tãi").
    "man": "man", "taxi": "taxi", "grab": "grab", "axit": "axit", "axít": "axit",
    "chaynha": "cháy nhà", "e": "em", "a": "anh", "c": "chị", "m": "mày", "t": "tôi",
}


@lru_cache(maxsize=32768)
def _canonical(word: str) -> str:
    """One NFC lowercase word: kept with its diacritics if typed with them, else folded and
    repaired (telex leftovers, teencode)."""
    found = _SPELLINGS.get(word)
    if found is not None:
        return found
    if not word.isascii():
        if not is_syllable(fold(word)):
            squeezed = _REPEAT_RE.sub(r"\1", word)
            if squeezed != word:
                return _SPELLINGS.get(squeezed, squeezed)
        return word
    if word.isdigit():
        return word
    return _norm_token(word)


class _Tokens(dict[str, str]):
    """Token -> what the word string holds for it: "," for a comma, "|" for a run of
    sentence-end marks, else the canonical word; filled as tokens are met (a message's tokens
    are then looked up in one pass), forgotten when it grows large."""

    def __missing__(self, tok: str) -> str:
        out = tok if tok == "," else "|" if tok[0] in _END_MARKS else _canonical(tok)
        if len(self) >= 65536:
            self.clear()
        self[tok] = out
        return out


_TOKENS = _Tokens()


def _words(text: str) -> tuple[str, list[int], int]:
    """The canonical word string (" w1 w2 | w3 ... "), the offsets of sentence ends, and how
    the message was typed (EXACT when a good share of its words carry diacritics)."""
    text = unicodedata.normalize("NFC", text).lower()
    if _SPELLED_HINT.search(text):
        text = _SPELLED_RE.sub(lambda m: re.sub(r"[.\-*_]", "", m.group(0)), text)
    found = _CHUNKS.tokens(text)  # _TOKEN_RE.findall(text), run by run between spaces
    # A token is a word, a comma, or a run of sentence-end marks ("|"; never two in a row).
    toks = list(map(_TOKENS.__getitem__, found))
    # The words: a word token is letters and digits (``str.isalnum`` is the regex's ``\w``
    # without "_"), a comma or a run of end marks is not.
    counted = list(compress(found, map(str.isalnum, found)))[:400]
    words = len(counted)
    marked = words - sum(map(str.isascii, counted))
    mode = EXACT if words >= 3 and marked >= 0.3 * words else LOOSE
    s = " ".join(["", *toks, ""])
    while " | | " in s:  # a run of sentence ends is one end
        s = s.replace(" | | ", " | ")
    ends: list[int] = []
    at = s.find("|")  # no canonical word holds a "|": each one is a sentence end
    while at >= 0:
        ends.append(at)
        at = s.find("|", at + 1)
    return s, ends, mode


_END_MARKS = frozenset(".!?;\n")


class _Words(list[str]):
    """The canonical string split at its spaces, with where each piece starts (computed once,
    when a pattern is first tried)."""

    _at: list[int] | None = None

    def at(self, i: int) -> int:
        """Where piece ``i`` starts in the string."""
        return self.starts()[i]

    def starts(self) -> list[int]:
        """Where each piece starts in the string."""
        if self._at is None:
            self._at = [k + i for i, k in enumerate(accumulate(map(len, self), initial=0))]
        return self._at


def _index(s: str) -> _Words:
    """The pieces of a canonical string between its spaces (the words, and empty pieces at
    both ends)."""
    return _Words(s.split(" "))


def _matches(s: str, table: _Table, words: _Words) -> Iterator[tuple[str, re.Match[str]]]:
    """(family, match) of the table's patterns, word by word from the start: at each word the
    patterns keyed by it and by it with the next word are tried."""
    heads = table.heads
    if heads.isdisjoint(words):
        return
    get, pair = table.get, table.pairs.get
    n = len(words)
    starts: list[int] | None = None
    for i in compress(count(), map(heads.__contains__, words)):
        first = words[i]
        j = i + 1
        while j < n and not words[j]:
            j += 1
        one = get(first)
        two = pair((first, words[j])) if j < n else None
        if one is None and two is None:
            continue
        if starts is None:
            starts = words.starts()
        pos = starts[i]
        for found in (one, two):
            if found is not None:
                for family, rx in found:
                    m = rx.match(s, pos)
                    if m is not None:
                        yield family, m


def _sentence(s: str, ends: list[int], start: int, end: int, limit: int = 240) -> tuple[int, int]:
    """The span of the sentence around s[start:end], at most ``limit`` characters each side."""
    i = bisect_right(ends, start)
    lo = ends[i - 1] + 1 if i > 0 else 0
    j = bisect_left(ends, end)
    hi = ends[j] if j < len(ends) else len(s)
    return max(lo, start - limit), min(hi, end + limit)


@dataclass(frozen=True)
class _Message:
    s: str  # canonical words
    ends: list[int]  # sentence ends
    mode: int  # LOOSE or EXACT
    pieces: _Words  # s split at its spaces
    text: str  # as typed
    emphatic: bool  # "!", a stretched word, or a message of a few words
    exclaim: bool  # "!" or a stretched word
    #: ``s`` with look-alike phrases blanked out: what the signals of now are read in ("dang
    #: ky" typed without diacritics is "đăng ký", not "đang").
    blank: str = ""
    found: dict[tuple[int, int, int], list[tuple[int, int]]] = field(default_factory=dict)

    def has(self, rx: re.Pattern[str], lo: int, hi: int) -> bool:
        """Whether ``rx`` is found in s[lo:hi] (remembered, like ``spans``)."""
        key = (id(rx), lo, -hi - 1)  # apart from the keys of ``spans``
        got = self.found.get(key)
        if got is None:
            m = rx.search(self.s, lo, hi)
            got = self.found[key] = [(m.start(), m.end())] if m else []
        return bool(got)

    # Read only when a danger phrase is found (most messages have none).
    @cached_property
    def drill(self) -> bool:
        """The whole message is about a drill, a course or fiction."""
        return (_first(self.s, _DRILL_EVENT_TABLE[self.mode], self.pieces) >= 0
                and "!" not in self.text)

    @cached_property
    def letter_at(self) -> int:
        """Where a sentence asks about a procedure or a right (-1: none)."""
        return _first(self.s, _LETTER_QUESTION_TABLE[self.mode], self.pieces)

    def spans(self, rx: re.Pattern[str], lo: int, hi: int) -> list[tuple[int, int]]:
        """Where ``rx`` matches in s[lo:hi] (remembered: many phrases share a sentence)."""
        key = (id(rx), lo, hi)
        got = self.found.get(key)
        if got is None:
            got = self.found[key] = [(c.start(), c.end()) for c in rx.finditer(self.s, lo, hi)]
        return got


def _calms(rx: re.Pattern[str], msg: _Message, lo: int, hi: int, m: re.Match[str],
           before_only: bool = False) -> bool:
    """A calming word in the sentence, not turned back to now before the danger phrase."""
    turns = msg.spans(_TURN[msg.mode], lo, hi)
    for start, end in msg.spans(rx, lo, hi):
        if start >= m.start():
            if before_only:
                break
            if start >= m.end() or end > m.end():
                return True  # "cháy nhà năm ngoái", "bị tai nạn lao động thì..."
            continue
        if not any(end - 1 <= t and u <= m.start() + 1 for t, u in turns):
            return True  # "năm ngoái nhà tôi bị cháy", not "hôm qua bị đánh, giờ lại..."
    return False


_QUIET_FAMILIES = {  # calming contexts that do not calm a family
    "self_harm": ("proc", "howto"),
}
# ...unless the sentence is plainly about other people, or about no one, and says no one
# means to do it now ("xúi giục người khác tự tử bị xử lý thế nào", "tự tử có tội không").
_WHO = _alt([  # someone the sentence is about
    r"tôi", r"tui", r"em", r"mình", r"tao", r"con", r"cháu", r"anh", r"chị", r"vợ", r"chồng",
    r"bạn", r"nó", r"ba", r"bố", r"mẹ", r"má", r"ông", r"bà", r"ổng", r"bả", r"ảnh", r"cậu",
    r"thằng", r"đứa", r"người nhà", r"ck", r"vk",
])
_ABOUT_OTHERS = _alt([
    r"người khác", r"(?<!có )(?<!co )người (?:tự tử|tự sát|tự vẫn)", r"xúi giục", r"bức tử",
    r"ép (?:[^ |]+ ){0,2}(?:tự tử|tự sát)", r"khai tử", r"nạn nhân",
])
_INTENT = _alt([r"muốn", r"định", r"sẽ", r"tính", r"đòi", r"dọa", r"sắp", r"vừa"])


def _level_of(msg: _Message, family: str, m: re.Match[str], strong: bool,
              need_line: bool = True) -> tuple[Level, bool]:
    """The level a danger phrase gives its message, and for ``soft``, whether the closing line
    of numbers is worth showing (an ongoing harm to the writer, a health worry of theirs, a
    question of whom to call), not for a question about a past event's paperwork, a death
    already over, the news, a law, a scam or a general health question (worked out only for
    ``soft`` and when ``need_line``: no other phrase of the message earned the line yet)."""
    s, mode = msg.s, msg.mode
    lo, hi = _sentence(s, msg.ends, m.start(), m.end())
    a, b = max(lo, m.start() - 32), min(hi, m.end() + 28)
    src = msg.blank or s
    if family == "generic":  # "cứu với" is the danger itself, not a sign of it
        near = src[a:m.start()] + " " * (m.end() - m.start()) + src[m.end():b]
    else:
        near = src[a:b]
    now = bool(_NOW[mode].search(f" {near.strip()} "))
    personal = bool(_PERSONAL[mode].search(s, max(lo, m.start() - 60), min(hi, m.end() + 40)))
    quiet = _QUIET_FAMILIES.get(family, ())
    others = False  # the sentence is plainly about other people, or no one
    if quiet and not now and not _INTENT[mode].search(s, lo, hi) and (
            _ABOUT_OTHERS[mode].search(s, lo, hi) or not _WHO[mode].search(s, lo, hi)):
        quiet, others = (), True
    if _calms(_SCAM[mode], msg, lo, hi, m):
        return ("soft" if strong else "none"), False
    drill = msg.drill or bool(_DRILL[mode].search(s, lo, hi))
    if drill and not now:
        return "none", False
    past = _calms(_PAST[mode], msg, lo, hi, m)
    # A story told before a question about a procedure or a right is background.
    proc = "proc" not in quiet and (_calms(_PROC[mode], msg, lo, hi, m) or msg.letter_at >= hi)
    habit = (_calms(_HABIT[mode], msg, lo, hi, m)
             or _calms(_HEARSAY[mode], msg, lo, hi, m, before_only=True))
    howto = "howto" not in quiet and _calms(_HOWTO[mode], msg, lo, hi, m)

    def line() -> bool:
        if not need_line:
            return True  # the message has the line already: no need to look
        about = personal or (not others and msg.has(_WHO[mode], lo, hi))
        hearsay = habit and _calms(_HEARSAY[mode], msg, lo, hi, m, before_only=True)
        return _worth_a_line(msg, family, lo, hi, about, past, proc, habit, hearsay, howto)

    if strong:
        if past:
            return "soft", line()
        if proc or habit:
            return ("now", True) if now else ("soft", line())
        if howto:
            return ("now", True) if now or personal else ("soft", line())
        return "now", True
    if family == "help":  # "help" alone asks how to use the assistant; "help!!!" is a cry
        return ("now" if msg.exclaim else "soft"), True
    if family == "fire_loose":  # "chay!!!", "chayyyy": a cry; "chay" alone is mostly "chạy"
        return ("now" if msg.emphatic and not (past or proc or habit or howto) else "none"), True
    if past:
        if personal and family in ("violence", "medical", "accident", "self_harm"):
            return "soft", line()
        return "none", False
    if proc or habit or (howto and not personal):
        if now or family in ("violence", "self_harm"):
            return "soft", now or line()  # answer the question, and say where help is
        return "none", False
    return ("now" if now or msg.emphatic else "soft"), True


def _worth_a_line(msg: _Message, family: str, lo: int, hi: int, personal: bool, past: bool,
                  proc: bool, habit: bool, hearsay: bool, howto: bool) -> bool:
    """Whether a calmed danger phrase still deserves the closing line of numbers (``personal``:
    the sentence is about the writer or their people)."""
    mode = msg.mode
    if not (past or proc or habit or howto):
        return True
    if msg.has(_ASKS_WHOM[mode], lo, hi):
        return True  # "nếu nhà bị cháy thì gọi số nào": the numbers are the answer
    gone = msg.has(_GONE[mode], lo, hi)
    if family == "self_harm":
        return personal and not (past and gone)
    if gone or hearsay:
        return False  # a death over (its benefits, its paperwork), the news
    if family == "violence":  # abuse may be going on; where to report it is asked
        return personal or msg.has(_REPORT[mode], lo, hi)
    paper = msg.has(_PAPER[mode], lo, hi)
    if past:  # a past injury of the writer's, asked about without paperwork
        return personal and not paper and family in ("medical", "accident")
    if habit or howto:  # "con hay khó thở về đêm, khám ở đâu"; not a lifelong condition
        return (personal and not paper and family == "medical"
                and not msg.has(_LIFELONG[mode], lo, hi))
    return False


# A death that is over, and what follows it: no line of emergency numbers.
_GONE = _alt([
    r"qua đời", r"đã mất", r"tử tuất", r"@tuất", r"mai táng", r"khai tử", r"chứng tử",
    r"báo tử", r"tử vong", r"thừa kế", r"di sản", r"liệt sĩ", r"thờ cúng", r"đám tang",
    r"tang lễ", r"(?:giao thông|lao động|nạn|quỵ|bệnh|biến|đuối nước|giật|đâm) (?:chết|mất)",
    r"mất (?:do|vì|năm|hồi|khi|lúc|tháng|ngày)", r"(?:chết|mất) (?:rồi|năm|hồi|khi|lúc|do|vì)",
])
# Paperwork, money and rights: a question about them needs no line of numbers.
_PAPER = _alt([
    r"bảo hiểm", r"bhyt", r"bhxh", r"chế độ", r"trợ cấp", r"bồi thường", r"đền bù", r"hồ sơ",
    r"thủ tục", r"giấy", r"đơn", r"@hưởng", r"miễn", r"khuyết tật", r"nghĩa vụ", r"chi trả",
    r"danh mục", r"hoàn (?:tiền|lại)", r"viện phí", r"căn cước", r"tiền", r"@phạt", r"luật",
    r"hộ nghèo", r"xác nhận", r"hợp đồng", r"@kiện", r"tố cáo", r"nghỉ (?:ốm|phép|việc)",
])
# Where to report violence: the police number is part of the answer.
_REPORT = _alt([r"(?:báo|gửi|trình báo|tố cáo|kêu|nhờ|cầu cứu) (?:cho )?(?:ai|đâu|ở đâu|công an)"])
# Whom to call: the closing line of numbers answers it.
_ASKS_WHOM = _alt([
    r"số (?:điện thoại|máy|nào|mấy|gì|khẩn cấp|cứu hỏa|cấp cứu|công an|cảnh sát)",
    r"gọi (?:cho )?(?:ai|số|đâu|cho ai)", r"(?:báo|liên hệ|kêu) (?:cho )?(?:ai|đâu|ở đâu)",
    r"đường dây nóng", r"(?:113|114|115|112)",
])


def _first(s: str, table: _Table, words: _Words) -> int:
    """Where the first of the table's patterns matches (the word it starts at), or -1: the
    start a search with all the patterns joined would find."""
    return next((m.start() for _, m in _matches(s, table, words)), -1)


def _blank_lookalikes(s: str, mode: int, words: _Words | None = None) -> str:
    """The word string with look-alike phrases ("sáp nhập", "chạy nhanh") blanked out."""
    chars: list[str] | None = None
    done = 0
    for _, m in _matches(s, _LOOKALIKE_TABLE[mode], _index(s) if words is None else words):
        if m.start() < done:
            continue
        if chars is None:
            chars = list(s)
        chars[m.start():m.end()] = "~" * (m.end() - m.start())
        done = m.end()
    return s if chars is None else "".join(chars)


_RANK = {"none": 0, "soft": 1, "now": 2}


#: The last messages read and their reading: the conversation checks a message for danger
#: before anything else, then the engine's parse reads the same text; it is read once.
_RECENT: dict[str, Danger] = {}
_RECENT_MAX = 32


def assess(text: str) -> Danger:
    """The danger level of a whole message (any length), its kinds and the numbers to show."""
    found = _RECENT.get(text)
    if found is None:
        found = _assess(text)
        if len(_RECENT) >= _RECENT_MAX:
            try:
                _RECENT.pop(next(iter(_RECENT)), None)  # the oldest first
            except (RuntimeError, StopIteration):  # another thread changed it meanwhile
                pass
        _RECENT[text] = found
    return found


def _assess(text: str) -> Danger:
    """``assess`` without the memory of recent messages."""
    if not text or not text.strip():
        return _NONE
    s, ends, mode = _words(text)
    pieces = _index(s)
    blanked = _blank_lookalikes(s, mode, pieces)
    exclaim = _emphatic(text)
    msg = _Message(s, ends, mode, pieces, text, exclaim or len(s.split(None, 3)) <= 3, exclaim,
                   blanked)
    best: Level = "none"
    kinds: list[str] = []
    cue: str | None = None
    sentence_end = -1
    weak_soft: dict[int, list[tuple[int, int, str]]] = {}  # sentence -> soft weak phrases
    words = pieces if blanked is s else _index(blanked)
    worth = False  # a soft reading worth the closing line of numbers
    seen_any = blanked != s  # danger words seen: a look-alike, a phrase (a drill below)
    for tables, strong in ((_STRONG_TABLE, True), (_WEAK_TABLE, False)):
        for family, m in _matches(blanked, tables[mode], words):
            if best == "now" and m.start() > sentence_end:
                break  # other kinds of danger are looked for in the same sentence only
            level, line = _level_of(msg, family, m, strong, need_line=not worth)
            seen_any = True
            if level == "soft" and line:
                worth = True
            if not strong and level == "soft":
                # Two different signs of danger in one calm-free sentence: danger now.
                seen = weak_soft.setdefault(bisect_right(ends, m.start()), [])
                if all((m.start() >= e or m.end() <= b) and m.group(0) != t for b, e, t in seen):
                    seen.append((m.start(), m.end(), m.group(0)))
                if len(seen) >= 2 and not _calmed(msg, m):
                    level = "now"
            if _RANK[level] > _RANK[best]:
                best, kinds, cue = level, [], m.group(0)
                if level == "now":
                    sentence_end = _sentence(s, ends, m.start(), m.end(), limit=120)[1]
            if level == best != "none" and family not in kinds:
                kinds.append(family)
        if best == "now":
            break
    if best == "soft" and not worth:
        best = "none"  # calm: the question is answered, without a line of numbers
    if best == "none":
        seen_any = seen_any or msg.drill  # read only now: most messages have no phrase
        if not seen_any and len(pieces) >= _NET_WORDS + 2 and very_sure(text):
            # The tables saw no danger word; the second net is very sure: the answer, then
            # one line of numbers (never the emergency screen on the net's word alone; the
            # level stays "none", so a hunch does not change how the message is routed). Not
            # on a look-alike, a drill or a calmed phrase the tables read ("chạy nhà", "năm
            # ngoái nhà tôi bị cháy"), nor on a few words typed without diacritics ("tu tu roi
            # tinh"): the model reads folded words.
            return _NET
        return _CALMED if seen_any else _NONE
    first = [n for k in kinds for n in _FIRST.get(k, ())]
    numbers = tuple(dict.fromkeys([*first, *NUMBERS]))
    return Danger(best, tuple(kinds), numbers, cue)


def _calmed(msg: _Message, m: re.Match[str]) -> bool:
    """Whether anything in the sentence calms the danger phrase down."""
    lo, hi = _sentence(msg.s, msg.ends, m.start(), m.end())
    return any(_calms(rx[msg.mode], msg, lo, hi, m)
               for rx in (_PAST, _PROC, _HABIT, _HOWTO, _SCAM, _DRILL, _HEARSAY))
