"""What may be kept of a citizen's question as a training example: no phone, ID or house
numbers, no e-mail addresses, no people's names.

Logging already masks numbers and e-mails (:func:`flows.safety.scrub`). A training example is
kept for good, so it also loses people's names ("tên tôi là Nguyễn Văn An", "ông Tư", "cháu
Lan") and house numbers ("số nhà 12", "ngõ 45"). Names are recognised by their shape, which no
rule gets always right: the editor reads the result and confirms before anything is saved.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from flows.safety import scrub

__all__ = ["NAME_MASK", "mask_for_training"]

NAME_MASK = "***"  # no letters: the understanding reads no word into it

#: Vietnamese family names (with diacritics; compared case-insensitively and folded).
_FAMILY = (
    "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đào Đoàn Vương "
    "Trịnh Trương Lâm Phùng Mai Tô Hà Tạ Lưu Chu Cao Quách Thái Tăng Lại Đinh Triệu Kiều Khúc "
    "Lò Hứa La Châu Mạc Từ Nghiêm Giang Tống Lương Doãn Kim Thân Ông Âu Diệp Bạch Khổng Lục "
    "Mã Phó Quan Tiêu Vi Viên Yên Hầu Đàm Hán Lã Nông Mạnh Ninh Trình Văn"
).split()
#: Middle names that make a lowercase "nguyen van an" a name.
_MIDDLE = frozenset("van thi duc huu minh ngoc quang thanh xuan cong dinh ba kim hoang anh "
                    "tuan thu hong".split())
#: A title before a name: "ông Tư", "chị Lan", "cháu Bình".
_TITLES = ("ông", "bà", "anh", "chị", "em", "cháu", "cô", "chú", "bác", "cụ", "dì", "cậu",
           "mợ", "thím", "bạn", "vợ", "chồng", "con", "mẹ", "bố", "cha", "má", "ba", "chị gái",
           "anh trai", "em gái", "em trai", "con gái", "con trai", "cháu gái", "cháu trai")
#: Words before a capitalised sequence that make it a place, not a person: "phường Trần Lãm".
_PLACES = ("phường", "xã", "thị trấn", "đường", "phố", "quận", "huyện", "tỉnh", "thành phố",
           "ở", "tại", "về", "quê", "từ", "đi", "o", "tai", "ve", "que",
           "thôn", "xóm", "ấp", "bản", "tổ", "khu", "ngõ", "hẻm", "kiệt", "trường", "bệnh viện",
           "chợ", "cầu", "sông", "núi", "chùa", "đền", "ngân hàng", "công ty", "tp", "tp.")
#: "tên tôi là ..." and the like: what follows is a name, typed with or without capitals.
_NAME_CUES = re.compile(
    r"\b(?:tên(?:\s+(?:tôi|em|cháu|con|mình|tui|bà|ông|anh|chị|cô|chú|bé|cháu bé))?"
    r"(?:\s+(?:là|la))?|ten(?:\s+(?:toi|em|chau|con|minh|tui))?(?:\s+la)?|"
    r"họ\s+(?:và\s+)?tên(?:\s+(?:là|la))?)\s*[:：]?\s+", re.IGNORECASE)
_HOUSE = re.compile(r"\b((?:số\s+nhà|nhà\s+số|so\s+nha|nha\s+so|số|so|ngõ|ngo|ngách|ngach|"
                    r"hẻm|hem|kiệt|kiet|phòng|phong)\s+)\d+[\w]*(?:/\d+[\w]*)*", re.IGNORECASE)
_LONG_NUMBER = re.compile(r"\d{5,}")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_STOP = frozenset("và va ở o sinh năm nam có co muốn muon hỏi hoi làm lam là la thì thi "
                  "bị bi đang dang đã da được duoc cho với voi của cua nhà nha tôi toi em "
                  "xin nay này hiện hien".split())


def _fold(word: str) -> str:
    text = unicodedata.normalize("NFD", word.lower()).replace("đ", "d")
    return "".join(c for c in text if unicodedata.category(c) != "Mn")


_FAMILY_FOLDED = frozenset(_fold(f) for f in _FAMILY)
_FAMILY_LOWER = frozenset(f.lower() for f in _FAMILY)
#: Provinces and big cities, before and after the 2025 merger (folded): places, not people.
_PROVINCES = frozenset(_fold(p) for p in (
    "Hà Nội", "Hồ Chí Minh", "Sài Gòn", "Hải Phòng", "Đà Nẵng", "Cần Thơ", "Huế", "Hưng Yên",
    "Thái Bình", "Nam Định", "Ninh Bình", "Hà Nam", "Hải Dương", "Bắc Ninh", "Bắc Giang",
    "Quảng Ninh", "Lạng Sơn", "Cao Bằng", "Hà Giang", "Tuyên Quang", "Lào Cai", "Yên Bái",
    "Điện Biên", "Lai Châu", "Sơn La", "Hòa Bình", "Phú Thọ", "Vĩnh Phúc", "Thái Nguyên",
    "Bắc Kạn", "Thanh Hóa", "Nghệ An", "Hà Tĩnh", "Quảng Bình", "Quảng Trị", "Quảng Nam",
    "Quảng Ngãi", "Bình Định", "Phú Yên", "Khánh Hòa", "Ninh Thuận", "Bình Thuận",
    "Kon Tum", "Gia Lai", "Đắk Lắk", "Đắk Nông", "Lâm Đồng", "Bình Phước", "Tây Ninh",
    "Bình Dương", "Đồng Nai", "Bà Rịa", "Vũng Tàu", "Long An", "Tiền Giang", "Bến Tre",
    "Trà Vinh", "Vĩnh Long", "Đồng Tháp", "An Giang", "Kiên Giang", "Hậu Giang",
    "Sóc Trăng", "Bạc Liêu", "Cà Mau", "Việt Nam"))
_PLACE_PREFIX = re.compile(r"^(?:phường|xã|thị trấn|đặc khu)\s+", re.IGNORECASE)
_TITLE_RE = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, _TITLES), key=len,
                                                  reverse=True)) + r")\s+$", re.IGNORECASE)
_PLACE_RE = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, _PLACES), key=len,
                                                  reverse=True)) + r")\s+$", re.IGNORECASE)


def _capitalised(word: str) -> bool:
    return word[:1].isupper() and not word.isupper()  # "Lan", not "UBND" or "VNeID"


def _mask_spans(text: str, spans: list[tuple[int, int]]) -> str:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)  # overlapping findings: one mask
        else:
            merged.append([start, end])
    out, last = [], 0
    for start, end in merged:
        out.append(text[last:start])
        out.append(NAME_MASK)
        last = end
    out.append(text[last:])
    return "".join(out)


def _names(text: str, places: frozenset[str]) -> list[tuple[int, int]]:
    words = list(_WORD.finditer(text))
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        w = words[i]
        before = text[:w.start()]
        j = i  # the run of capitalised words starting here: "Nguyễn Văn An"
        while (j + 1 < len(words) and not text[words[j].end():words[j + 1].start()].strip()
               and _capitalised(words[j + 1].group())):
            j += 1
        first = w.group()
        if _capitalised(first):
            run = text[w.start():words[j].end()]
            if _PLACE_RE.search(before) or _is_place(run, places):
                i = j + 1  # "phường Trần Hưng Đạo", "ở Hà Nội"
                continue
            family = first.lower() in _FAMILY_LOWER and j > i
            if family or _TITLE_RE.search(before):
                spans.append((w.start(), words[j].end()))
                i = j + 1
                continue
        # Typed without capitals or diacritics: "nguyen van an", "bà nguyễn thị lan"
        if (first.lower() in _FAMILY_LOWER or first == _fold(first)) \
                and _fold(first) in _FAMILY_FOLDED and i + 2 < len(words) \
                and _fold(words[i + 1].group()) in _MIDDLE \
                and _fold(words[i + 2].group()) not in _STOP \
                and not _PLACE_RE.search(before):
            spans.append((w.start(), words[i + 2].end()))
            i += 3
            continue
        i += 1
    for m in _NAME_CUES.finditer(text):
        taken: list[re.Match[str]] = []
        for w in list(_WORD.finditer(text, m.end()))[:4]:
            between = text[(taken[-1].end() if taken else m.end()):w.start()]
            if between.strip() or _fold(w.group()) in _STOP:
                break
            taken.append(w)
        if taken:
            spans.append((taken[0].start(), taken[-1].end()))
    return spans


def _is_place(run: str, places: frozenset[str]) -> bool:
    folded = _fold(run)
    return any(folded == p or folded.startswith(p + " ") for p in places)


def mask_for_training(text: str, places: Iterable[str] = ()) -> str:
    """``text`` with numbers, e-mails, house numbers and people's names masked.

    ``places``: names of the wards served ("Phường Trần Lãm"), which look like people's
    names ("Trần Lãm") and are kept."""
    text = scrub(" ".join(text.split()), limit=1000)
    text = _HOUSE.sub(lambda m: m.group(1) + "<số>", text)
    text = _LONG_NUMBER.sub("<số>", text)
    known = set(_PROVINCES)
    for name in places:
        known.add(_fold(name))
        known.add(_fold(_PLACE_PREFIX.sub("", name)))
    return _mask_spans(text, _names(text, frozenset(known)))
