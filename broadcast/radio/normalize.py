"""The spoken form of Vietnamese notices (`trolyso radio normalize`).

TTS engines misread government text: espeak-ng switches to English on "UBND", reads 15 as
"mười năm" and phone numbers as quantities. :class:`Normalizer` rewrites each line into what an
announcer would say (shared spec speech.md): numbers, dates, times, money, units, phone
numbers, Roman numerals, legal document codes, abbreviations from the editable lexicon
(``content/lexicon.yaml``) and web addresses, keeping sentence punctuation. No digits remain.
The operator reads this script before synthesis and may correct it.

Readings decided from context (README "For radio operators" lists them for operators):

- A number written N/M after "số nhà", "nhà số", "ngõ", "ngách", "hẻm", "kiệt", "lớp",
  "địa chỉ" (and after "số" or "nhà" when it holds a "/" or a letter, or another part of the
  address follows) is an address, read "N trên M", never a date; a comma (a pause) goes before
  the next part: "số 12/3 ngõ 45" "số mười hai trên ba, ngõ bốn mươi lăm".
- Codes of a number and letters are read number then letter names: "9A1" "chín a một".
- 111-115 are read digit by digit when they name the emergency service: after a calling word
  or a service name, as an alternative ("hoặc 113"), in a list of them, or at the start of a
  clause, and only if nothing counted follows ("113 người" stays a quantity). Other short
  numbers are read digit by digit only after a calling word ("gọi", "tổng đài", ...).
- After a price, "/" before a measure is "một" ("đồng/kg" "đồng một ki lô gam") and before
  anything counted "mỗi" ("đ/hộ" "đồng mỗi hộ", "/tháng", "/lần"); after a measure "/" another
  measure is "trên" ("kg/m2"); "15 kg gạo/người" "mỗi người" once a number is said.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import Path

from broadcast.radio.numbers import (
    read_decimal_part,
    read_digits,
    read_int,
    read_leading_zero,
    read_ordinal,
    roman_to_int,
)
from flows.lexicon import DEFAULT_LEXICON_PATH, Lexicon, load_lexicon

__all__ = ["DEFAULT_LEXICON_PATH", "Lexicon", "Normalizer", "load_lexicon"]


# Letter names used when an unknown abbreviation is spelled out (Vietnamese alphabet).
_LETTERS = {
    "a": "a", "b": "bê", "c": "xê", "d": "dê", "đ": "đê", "e": "e", "f": "ép", "g": "giê",
    "h": "hát", "i": "i", "j": "gi", "k": "ca", "l": "e lờ", "m": "em mờ", "n": "en nờ",
    "o": "o", "p": "pê", "q": "quy", "r": "e rờ", "s": "ét xì", "t": "tê", "u": "u", "v": "vê",
    "w": "vê kép", "x": "ích xì", "y": "i dài", "z": "dét",
}
# A lone capital that is also a Vietnamese word ("Y tế", "A!") is left alone.
_SPELL_SINGLE = set("BCDĐFGHJKLMNPQRSTVWXZ")

_W = r"[^\W_]"  # a letter or digit (Unicode aware)
_NOT_W_BEFORE = r"(?<![^\W_])"
_NOT_W_AFTER = r"(?![^\W_])"

# Phone context: a trigger word just before the number ("gọi 113", "SĐT: 09...").
_PHONE_TRIGGER = re.compile(
    r"(?:gọi|gọi điện|gọi số|số điện thoại|điện thoại|sđt|đt|hotline|hót lai|đường dây nóng|"
    r"tổng đài|liên hệ|liên lạc|nhắn tin|cấp cứu|báo cháy|quay số|số máy|fax|zalo|số tài khoản|"
    r"tài khoản)(?:\s+(?:ngay|số|tới|đến|cho|theo))*\s*[:：]?\s*\(?\s*$",
    re.IGNORECASE,
)
_SO_BEFORE = re.compile(r"(?<![^\W_])số\s*:?\s*$", re.IGNORECASE)
# "ngày" already said, also for the last day of a list: "các ngày 05, 06 và 07/12".
_NGAY_BEFORE = re.compile(
    r"(?:^|[^\w])(?:ngày|mùng|mồng)(?:\s+\d{1,2}(?:\s*,\s*\d{1,2})*\s*(?:,|và|hoặc|đến))?\s*$",
    re.IGNORECASE,
)
_THANG_BEFORE = re.compile(r"(?:^|[^\w])tháng\s*$", re.IGNORECASE)

_D = r"(0?[1-9]|[12]\d|3[01])"
_M = r"(0?[1-9]|1[0-2])"
_Y = r"(\d{4})"
_DB = r"(?<![\w/.,:+\-])"  # date start: not inside another number or code
_DE = r"(?![\w/]|[.,]\d)"  # date end

# A written number: 1.500.000 / 1.234,5 / 98,5 / 4.0 / 2023.
_NUM = r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+,\d+|\d+\.\d+|\d+"
_ROMAN_CONTEXT = (
    r"khóa|khoá|kỳ|kì|quý|đại hội|thế kỷ|thế kỉ|phần|chương|mục|đợt|giai đoạn|cấp độ|"
    r"báo động|khu vực|tập|hạng|loại|phụ lục|thứ"
)
# Addresses: a number written N/M (or 12A) after these words is a house or lane number, never
# a date ("số 12/3 ngõ 45", "hẻm 34/7"). After "số" or "nhà" alone the number must hold a "/" or
# a letter, or be followed by another part of the address, to count as one.
_ADDRESS_HEAD = r"số nhà|nhà số|địa chỉ|ngõ|ngách|hẻm|kiệt|lớp"
_ADDRESS_WEAK_HEAD = r"số|nhà"
# The next part of an address: the spoken form pauses (a comma) before it.
_ADDRESS_NEXT = (
    r"ngõ|ngách|hẻm|kiệt|đường|phố|tổ dân phố|tổ|thôn|xóm|ấp|khu phố|khu|khối|phường|xã"
)
_HOUSE_NUMBER = r"\d{1,4}[A-Za-z]?(?:/\d{1,4}[A-Za-z]?)*"

# The national emergency and service numbers (111 child protection, 112 rescue, 113 police,
# 114 fire, 115 ambulance) are read digit by digit ("một một ba") when they name the service,
# and as quantities when something is counted ("113 người"). See ``_is_service_number``.
_SERVICE_NUMBERS = frozenset({"111", "112", "113", "114", "115"})
_SERVICE_WORDS = re.compile(
    r"(?:công an|cảnh sát|cứu hỏa|cứu hoả|chữa cháy|cứu nạn|cứu hộ|cứu nạn cứu hộ|khẩn cấp|"
    r"bảo vệ trẻ em|cấp cứu|báo cháy)\s*[:：]?\s*\(?\s*$",
    re.IGNORECASE,
)
# What may follow a service number: nothing, punctuation or a linking word ("gọi 113 hoặc
# 114", "113 (công an)"); a following word is counted ("113 người", "115 km").
_AFTER_SERVICE = re.compile(
    r"\s*(?:$|[,.;:!?)(\]]|[-–—]\s|(?:hoặc|hay|và|để|khi|ngay|miễn phí|của|nếu|thì|là|"
    r"trong|từ|bất kể|suốt)(?![^\W_]))",
    re.IGNORECASE,
)
# "Tổng số: 113." counts; so does a number after these words.
_COUNT_BEFORE = re.compile(
    r"(?<![^\W_])(?:tổng|tổng số|tổng cộng|số lượng|gồm|có|đạt|còn|thêm)\s*:?\s*$",
    re.IGNORECASE,
)
_SERVICE_LIST = re.compile(r"(?:\s*(?:,|và|hoặc|hay)\s*\d{3,4}(?![\w.,]\d))*")

# Per-unit prices and rates: "25.000đ/kg" "... đồng một ki lô gam", "đ/hộ" "đồng mỗi hộ".
_MONEY_WORDS = ("đồng", "đ", "nghìn", "triệu", "tỷ", "đô la mỹ", "đô la")
# Measures a price is given for: read "một" (one kilogram); anything else is counted with
# "mỗi" (each person, household, month, time).
_MEASURE_WORDS = frozenset({
    "cân", "tấn", "tạ", "yến", "lạng", "lít", "mét", "gam", "ki lô gam", "ki lô mét",
    "mét vuông", "mét khối", "héc ta", "sào", "mẫu",
})

# What a quantity is given for, after any word once a number was said in the clause
# ("15 kg gạo/người/tháng"): read "mỗi" (each).
_PER_COUNTED = (
    r"nhân khẩu|khẩu|người|hộ|tháng|năm|ngày|tuần|quý|lần|lượt|suất|học sinh|cháu|trẻ|buổi|"
    r"ca|xe|chiếc|con|cái"
)
_NUMBER_WORD = re.compile(
    r"(?<![^\W_])(?:không|một|hai|ba|bốn|tư|năm|lăm|sáu|bảy|tám|chín|mười|mươi|mốt|trăm|"
    r"nghìn|triệu|tỷ)(?![^\W_])",
    re.IGNORECASE,
)

_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
_SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?"
    r"[aăâeêioôơuưy]{1,3}(?:ch|ng|nh|[cmnpt])?"
)


def _alternation(keys: list[str], *, word_start: bool = True) -> str:
    """A regex matching any key as a whole token, longest first."""
    parts = []
    for k in sorted(set(keys), key=len, reverse=True):
        pat = re.escape(k).replace(r"\ ", r"\s+")
        if word_start and re.match(r"[^\W_]", k):
            pat = _NOT_W_BEFORE + pat
        if re.search(r"[^\W_]$", k):
            pat += _NOT_W_AFTER
        parts.append(pat)
    return "|".join(parts) if parts else r"(?!x)x"


def _toneless(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.lower())
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))


def is_syllable(word: str) -> bool:
    """True if ``word`` can be read as one Vietnamese syllable (so it is not spelled out)."""
    return bool(_SYLLABLE.fullmatch(_toneless(word)))


def _spell(word: str) -> str:
    return " ".join(_LETTERS.get(c, c) for c in word.lower() if c.isalnum())


def _segment(word: str) -> list[str] | None:
    """Split a run of toneless syllables written together ("dichvucong"), fewest pieces."""
    w = word.lower()
    best: list[list[str] | None] = [None] * (len(w) + 1)
    best[0] = []
    for end in range(1, len(w) + 1):
        for start in range(max(0, end - 7), end):
            prev = best[start]
            if prev is not None and is_syllable(w[start:end]):
                cand = [*prev, w[start:end]]
                cur = best[end]
                if cur is None or len(cand) < len(cur):
                    best[end] = cand
    return best[len(w)]


def _read_number(tok: str, *, digitwise_zero: bool = False) -> str:
    """Read one written number token (see ``_NUM``)."""
    neg = tok.startswith("-")
    tok = tok.lstrip("-")
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", tok):
        whole, _, dec = tok.partition(",")
        words = read_int(int(whole.replace(".", "")))
        if dec:
            words += " phẩy " + read_decimal_part(dec)
    elif "," in tok:
        whole, dec = tok.split(",", 1)
        words = _read_plain(whole, digitwise_zero) + " phẩy " + read_decimal_part(dec)
    elif "." in tok:
        whole, dec = tok.split(".", 1)
        words = _read_plain(whole, digitwise_zero) + " chấm " + read_digits(dec)
    else:
        words = _read_plain(tok, digitwise_zero)
    return ("âm " + words) if neg else words


def _read_plain(digits: str, digitwise_zero: bool) -> str:
    if len(digits) > 15:
        return read_digits(digits)
    if len(digits) > 1 and digits.startswith("0"):
        if digitwise_zero or len(digits) > 3:
            return read_leading_zero(digits)
        return read_int(int(digits))
    return read_int(int(digits))


def _read_house_number(token: str) -> str:
    """A house, lane or class number: "12" "mười hai", "12A" "mười hai a", "06" "không sáu"."""
    digits = re.match(r"\d*", token).group(0)  # type: ignore[union-attr]
    letters = token[len(digits):]
    words = read_leading_zero(digits) if digits.startswith("0") else read_int(int(digits))
    return f"{words} {_spell(letters)}" if letters else words


def _is_service_number(s: str, start: int, end: int) -> bool:
    """Whether an emergency number at ``s[start:end]`` names the service (read digit by digit).

    It does when nothing is counted after it (what follows, past a list such as "113, 114 và
    115", is the end, punctuation or a linking word) and it is listed with another one, follows
    a service name ("công an 113"), is an alternative ("... hoặc 113") or stands at the start
    of a clause (the line, after punctuation, or after "số" there). After a counting word
    ("tổng số: 113", "có 113") it is a quantity, as are "113 người" and "Điều 113".
    """
    listed = _SERVICE_LIST.match(s, end)
    assert listed is not None  # the pattern matches the empty string
    if not _AFTER_SERVICE.match(s, listed.end()):
        return False
    before = s[:start]
    if _COUNT_BEFORE.search(before):
        return False
    return bool(
        _SERVICE_NUMBERS.intersection(re.findall(r"\d+", listed.group(0)))
        or _SERVICE_WORDS.search(before)
        or re.search(r"(?<![^\W_])(?:hoặc|hay)\s*$", before, re.IGNORECASE)
        or re.search(r"(?:^|[,;:.!?(\[]|[-–—]\s)\s*(?:số\s*:?\s*)?$", before, re.IGNORECASE)
        or re.search(r"(?<!\d)11[1-5]\s*(?:,|và|hoặc|hay)\s*$", before)
    )


def _day(d: str) -> str:
    n = int(d)
    return ("mùng " if n <= 10 else "") + read_int(n)


def _month(m: str) -> str:
    n = int(m)
    return "tư" if n == 4 else read_int(n)


class Normalizer:
    """Turns written Vietnamese into its spoken form, line by line.

    ``lexicon`` is the ``entries:`` mapping of content/lexicon.yaml; the context tables (units,
    document codes, web words) come from ``tables``. :meth:`of` takes both from one
    :class:`~flows.lexicon.Lexicon` (what ``Content.lexicon`` holds).
    """

    def __init__(self, lexicon: Mapping[str, str], tables: Lexicon | None = None) -> None:
        tables = tables if tables is not None else Lexicon()
        self._entries = self._with_variants(lexicon)
        self._units = dict(tables.units)
        self._types = dict(tables.doc_types)
        self._issuers = dict(tables.issuers)
        self._types_ci = {k.upper(): v for k, v in self._types.items()}
        self._issuers_ci = {k.upper(): v for k, v in self._issuers.items()}
        per_from = [*_MONEY_WORDS, *self._units.values()]
        self._rate_re = re.compile(
            rf"(?<![^\W_])({_alternation(per_from)})((?:\s*/\s*[^\W\d_]+[23²³]?)+)(?![\w/])",
            re.IGNORECASE,
        )
        self._unit_readings = {v.lower() for v in self._units.values()}
        self._web = {k.lower(): v for k, v in tables.web_words.items()}
        self._prefixes = dict(tables.code_prefixes)
        self._prefix_re = re.compile(
            rf"{_NOT_W_BEFORE}({_alternation(list(self._prefixes)).replace(_NOT_W_AFTER, '')})"
            r"[.\s]?([1-9]\d{0,3})([A-Z]?)(?![\w]|[.,]\d)"
        ) if self._prefixes else None
        self._entries_re = re.compile(_alternation(list(self._entries)))
        unit_alt = _alternation(list(self._units), word_start=False)
        num_range = rf"(?<![\w.,])(-)?({_NUM})(?:\s*-\s*({_NUM}))?"
        self._unit_re = re.compile(rf"{num_range}\s?(?:{unit_alt})")
        self._unit_key_re = re.compile(rf"(?:{unit_alt})$")

    @classmethod
    def of(cls, lexicon: Lexicon) -> Normalizer:
        """A normalizer using every table of a loaded lexicon."""
        return cls(lexicon.entries, lexicon)

    @classmethod
    def from_file(cls, path: str | Path = DEFAULT_LEXICON_PATH) -> Normalizer:
        """A normalizer reading one lexicon file (tests and benchmarks; the assistant uses the
        content's)."""
        return cls.of(load_lexicon(path))

    @staticmethod
    def _with_variants(lexicon: Mapping[str, str]) -> dict[str, str]:
        """Exact keys, plus ALL-CAPS forms of mixed-case keys and capitalised lower-case keys."""
        out: dict[str, str] = {}
        for raw_key, value in lexicon.items():
            key = unicodedata.normalize("NFC", str(raw_key))
            val = unicodedata.normalize("NFC", str(value))
            out[key] = val
            if key.upper() != key:
                out.setdefault(key.upper(), val)
            if key.islower():
                out.setdefault(key[:1].upper() + key[1:], val)
        return out

    # ---------------------------------------------------------------- public API

    def spelled_out(self, text: str) -> list[str]:
        """Capitalised abbreviations that no table knows and that are therefore read letter by
        letter ("XK" "ích xì ca"): worth writing out before a bulletin goes on air."""
        found = [tok for tok in re.findall(r"(?<![\w])[A-ZĐ]{2,8}(?![\w])", text)
                 if self.spoken_line(tok) == _spell(tok)]
        return list(dict.fromkeys(found))

    def spoken(self, text: str) -> str:
        """The spoken form of ``text``: one output line per input line."""
        return "\n".join(self.spoken_line(line) for line in text.split("\n"))

    def spoken_line(self, line: str) -> str:
        """The spoken form of one line."""
        s = self._prepare(line)
        for step in self._steps():
            s = step(s)
        return self._cleanup(s)

    # ---------------------------------------------------------------- pipeline

    def _steps(self) -> list[Callable[[str], str]]:
        return [
            self._web_addresses,
            self._legal_codes,
            self._code_prefixes,
            self._lexicon,
            self._flu_subtypes,
            self._dimensions,
            self._addresses,
            self._phones,
            self._dates,
            self._times,
            self._romans,
            self._ordinals,
            self._with_units,
            self._letter_digit_codes,
            self._numbers,
            self._rates,
            self._acronyms,
            self._symbols,
        ]

    @staticmethod
    def _prepare(line: str) -> str:
        s = unicodedata.normalize("NFC", line)
        s = s.replace("\u00d0", "Đ").replace("\u00f0", "đ")  # Ð/ð look like Đ/đ
        s = re.sub(r"[\u2010-\u2015\u2212]", "-", s)
        s = re.sub(r"[\u00a0\u2007\u202f\t]", " ", s)
        s = s.replace("…", "...").replace("º", "°")
        return s

    def _web_addresses(self, s: str) -> str:
        email = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
        url = (
            r"(?:https?://)?(?:[A-Za-z0-9-]+\.)+(?:vn|com|net|org|gov|edu|info|io)"
            r"(?:\.[a-z]{2})?(?![A-Za-z0-9])(?:/[^\s,;()]*)?"
        )
        pattern = re.compile(rf"{_NOT_W_BEFORE}(?:{email}|{url})", re.IGNORECASE)

        def speak(m: re.Match[str]) -> str:
            raw = m.group(0)
            trail = ""
            while raw and raw[-1] in ".?!:;/":
                trail = raw[-1] + trail
                raw = raw[:-1]
            if trail.startswith("/"):  # a path that ends in "/" has nothing more to read
                trail = trail.lstrip("/")
            raw = re.sub(r"^https?://", "", raw, flags=re.IGNORECASE)
            out = []
            for piece in re.findall(r"[A-Za-z0-9]+|[./@_\-?=&:]", raw):
                out.append(self._web_piece(piece))
            return " " + " ".join(o for o in out if o) + trail + " "

        return pattern.sub(speak, s)

    def _web_piece(self, piece: str) -> str:
        sep = {".": "chấm", "/": "gạch chéo", "@": "a còng", "_": "gạch dưới",
               "-": "gạch ngang", "?": "hỏi chấm", "=": "bằng", "&": "và", ":": ""}
        if piece in sep:
            return sep[piece]
        low = piece.lower()
        if low in self._web:
            return self._web[low]
        for key, val in self._entries.items():
            if key.lower() == low:
                return val
        if piece.isdigit():
            return read_digits(piece)
        parts = re.findall(r"\d+|[^\d]+", low)
        out = []
        for p in parts:
            if p.isdigit():
                out.append(read_digits(p))
                continue
            seg = _segment(p)
            out.append(" ".join(seg) if seg and len(seg) <= max(1, len(p) // 2) else _spell(p))
        return " ".join(out)

    def _legal_codes(self, s: str) -> str:
        part = r"[A-Za-zĐđ][A-Za-zĐđ&]*\d*"
        pattern = re.compile(
            rf"(?<![\w/])(\d{{1,5}})(?:/(\d{{4}}))?(\s*/\s*)({part}(?:-{part})*)(?![\w/])"
        )

        def speak(m: re.Match[str]) -> str:
            number, year, slash, code = m.groups()
            parts = code.split("-")
            doc_type = self._types.get(parts[0]) or self._types_ci.get(parts[0].upper())
            known = doc_type is not None or parts[0].upper() in self._issuers_ci
            if not parts[0][0].isupper() and not (
                doc_type and len(parts[0]) > 1 and (year or len(parts) > 1)
            ):
                return m.group(0)  # "5/l", "100.000/người": not a document code
            if slash != "/" and not known:
                return m.group(0)  # "12 / KG" is not one either
            issuers = [self._issuer(p) for p in (parts[1:] if doc_type else parts)]
            before = s[: m.start()].rstrip().lower()
            so = _SO_BEFORE.search(before)
            has_so = so is not None
            core = before[: so.start()].rstrip() if so else before
            type_said = doc_type is not None and (  # "Quyết định 06/QĐ-TTg", "QĐ 06/QĐ-TTg"
                core.endswith(doc_type.lower()) or core.endswith(parts[0].lower()))
            num = read_leading_zero(number) if number.startswith("0") else read_int(int(number))
            words: list[str] = []
            if year:
                if doc_type and not type_said and not has_so:
                    words.append(doc_type)
                words += [num, "năm", read_int(int(year))]
            else:
                if not has_so:
                    words.append("số")
                words.append(num)
                if doc_type and not type_said:
                    words.append(doc_type)
            after = s[m.end():].lstrip().lower()
            said_after = any(after.removeprefix("của ").startswith(i.lower()) for i in issuers)
            if issuers and not said_after:
                words += ["của", ", ".join(issuers)]
            return " ".join(words)

        return pattern.sub(speak, s)

    def _issuer(self, part: str) -> str:
        if part in self._issuers:
            return self._issuers[part]
        if part.upper() in self._issuers_ci:
            return self._issuers_ci[part.upper()]
        m = re.fullmatch(r"(.*?[A-Za-zĐđ])(\d+)", part)
        if m and m.group(1) in self._issuers:
            name = self._issuers[m.group(1)]
            term = read_int(int(m.group(2)))
            # QH14, UBTVQH15: the National Assembly of a given term ("khóa").
            return f"{name} khóa {term}" if m.group(1).endswith("QH") else f"{name} {term}"
        if part in self._types or part.upper() in self._types_ci:
            return self._types.get(part) or self._types_ci[part.upper()]
        if part in self._entries:
            return self._entries[part]
        return _spell(part)

    def _code_prefixes(self, s: str) -> str:
        """Road and team codes written before a number: "QL5", "ĐT.454", "U23"."""
        if self._prefix_re is None:
            return s

        def speak(m: re.Match[str]) -> str:
            tail = f" {_spell(m.group(3))}" if m.group(3) else ""
            return f"{self._prefixes[m.group(1)]} {read_int(int(m.group(2)))}{tail}"

        return self._prefix_re.sub(speak, s)

    def _lexicon(self, s: str) -> str:
        return self._entries_re.sub(lambda m: " " + self._entry(m.group(0)) + " ", s)

    def _entry(self, found: str) -> str:
        return self._entries.get(found) or self._entries[re.sub(r"\s+", " ", found)]

    def _phones(self, s: str) -> str:
        sep = r"[\s.\-]?"
        shapes = [
            r"\+84" + sep + r"\(?\d{1,3}\)?(?:" + sep + r"\d{2,4}){2,3}",
            r"\(0\d{1,3}\)\s?\d{3,4}(?:" + sep + r"\d{3,4}){1,2}",
            r"0\d{1,4}(?:" + sep + r"\d{2,4}){1,4}",
            r"1[89]00(?:" + sep + r"\d{2,4}){1,3}",
        ]
        shape_re = re.compile(rf"(?<![\w.,/:+\-])(?:{'|'.join(shapes)})(?![\w/]|[.,]\d)")

        def speak_shape(m: re.Match[str]) -> str:
            raw = m.group(0)
            digits = re.sub(r"\D", "", raw)
            is_intl = raw.startswith("+84")
            if is_intl and 9 <= len(digits) - 2 <= 10:
                return " cộng tám tư " + read_digits(digits[2:]) + " "
            if raw.startswith(("1800", "1900")) and 8 <= len(digits) <= 10:
                return " " + read_digits(digits) + " "
            if digits.startswith("0") and 9 <= len(digits) <= 11 and not is_intl:
                return " " + read_digits(digits) + " "
            return raw

        s = shape_re.sub(speak_shape, s)

        short = re.compile(r"(?<![\w.,/:+\-])(\d{3,6})(?![\w/]|[.,:]\d)")

        def speak_short(m: re.Match[str]) -> str:
            if _PHONE_TRIGGER.search(s[: m.start()]) or (
                m.group(1) in _SERVICE_NUMBERS and _is_service_number(s, m.start(), m.end())
            ):
                return read_digits(m.group(1))
            return m.group(0)

        return short.sub(speak_short, s)

    @staticmethod
    def _flu_subtypes(s: str) -> str:
        """Influenza subtypes: "A/H5N1", "A(H1N1)", "H7N9" -> "a hát năm en một"."""
        def speak(m: re.Match[str]) -> str:
            kind, h, n = m.group(1) or m.group(2), m.group(3), m.group(4)
            head = f"{_LETTERS[kind.lower()]} " if kind else ""
            return f"{head}hát {read_int(int(h))} en {read_int(int(n))}"

        return re.sub(
            r"(?<![\w/])(?:([AB])\s*\(\s*(?=[Hh]\d{1,2}[Nn]\d{1,2}\s*\))|([AB])\s*/\s*)?"
            r"[Hh](\d{1,2})[Nn](\d{1,2})(?![\w/])(?(1)\s*\))",
            speak, s,
        )

    @staticmethod
    def _dimensions(s: str) -> str:
        """Sizes: "ảnh 3x4 cm" -> "ảnh 3 nhân 4 cm" (the numbers and unit are read later)."""
        return re.sub(r"(?<![\w.,])(\d+(?:,\d+)?)\s*[xX×]\s*(?=\d)", r"\1 nhân ", s)

    def _addresses(self, s: str) -> str:
        """House, lane and class numbers: "số 12/3 ngõ 45" -> "số mười hai trên ba, ngõ ..."."""
        pattern = re.compile(
            rf"{_NOT_W_BEFORE}({_ADDRESS_HEAD}|{_ADDRESS_WEAK_HEAD})(\s*:?\s*)"
            rf"({_HOUSE_NUMBER})(?![\w/]|[.,]\d)",
            re.IGNORECASE,
        )
        next_part = re.compile(rf"\s+(?:{_ADDRESS_NEXT}){_NOT_W_AFTER}", re.IGNORECASE)

        def speak(m: re.Match[str]) -> str:
            head, space, number = m.groups()
            followed = next_part.match(s, m.end()) is not None
            plain = number.isdigit()
            if head.lower() in ("số", "nhà") and plain and not followed:
                return m.group(0)  # "bão số 5", "số 113": not (known to be) an address
            words = " trên ".join(_read_house_number(n) for n in number.split("/"))
            return f"{head}{space or ' '}{words}{',' if followed else ''}"

        return pattern.sub(speak, s)

    def _rates(self, s: str) -> str:
        """Per-unit prices and rates: "đồng/kg" "đồng một ki lô gam", "đ/hộ" "đồng mỗi hộ",
        "ki lô gam/người" "ki lô gam mỗi người", "ki lô gam/mét vuông" "... trên mét vuông"."""
        def speak(m: re.Match[str]) -> str:
            head = m.group(1)
            money = head.lower() in _MONEY_WORDS
            words = ["đồng" if head.lower() == "đ" else head]
            for per in re.findall(r"[^\W\d_]+[23²³]?", m.group(2)):
                measure = self._units.get(per) or (per if per.lower() in _MEASURE_WORDS
                                                   or per.lower() in self._unit_readings
                                                   else None)
                if measure is None:
                    words += ["mỗi", per]
                else:
                    words += ["một" if money else "trên", measure]
            return " ".join(words)

        s = self._rate_re.sub(speak, s)

        def speak_counted(m: re.Match[str]) -> str:
            clause = re.split(r"[,.;:!?()]", s[: m.start()])[-1]
            if not _NUMBER_WORD.search(clause):
                return m.group(0)  # "ngày/tháng/năm sinh" is a label, not a rate
            pers = re.split(r"\s*/\s*", m.group(2).strip().lstrip("/").strip())
            return m.group(1) + "".join(f" mỗi {p}" for p in pers)

        return re.sub(
            rf"{_NOT_W_BEFORE}([^\W\d_]+)((?:\s*/\s*(?:{_PER_COUNTED}){_NOT_W_AFTER})+)",
            speak_counted, s, flags=re.IGNORECASE,
        )

    def _dates(self, s: str) -> str:
        def prefix(before: str) -> str:
            return "" if _NGAY_BEFORE.search(before) else "ngày "

        def year(y: str | None) -> str:
            return f" năm {read_int(int(y))}" if y else ""

        def full_range(m: re.Match[str]) -> str:
            d1, m1, y1, d2, m2, y2 = m.groups()
            first = f"{prefix(s[: m.start()])}{_day(d1)} tháng {_month(m1)}{year(y1)}"
            return f"{first} đến ngày {_day(d2)} tháng {_month(m2)}{year(y2)}"

        s = re.sub(
            rf"{_DB}{_D}/{_M}(?:/{_Y})?\s*-\s*{_D}/{_M}(?:/{_Y})?{_DE}",
            lambda m: full_range(m), s,
        )

        def day_range(m: re.Match[str]) -> str:
            d1, d2, mo, y = m.groups()
            head = prefix(s[: m.start()])
            return f"{head}{_day(d1)} đến {_day(d2)} tháng {_month(mo)}{year(y)}"

        s = re.sub(rf"{_DB}{_D}\s*-\s*{_D}/{_M}(?:/{_Y})?{_DE}", day_range, s)

        def full(m: re.Match[str]) -> str:
            d, _sep, mo, y = m.groups()
            return f"{prefix(s[: m.start()])}{_day(d)} tháng {_month(mo)}{year(y)}"

        s = re.sub(rf"{_DB}{_D}([/.\-]){_M}\2{_Y}{_DE}", full, s)

        def month_year(m: re.Match[str]) -> str:
            mo, y = m.groups()
            head = "" if _THANG_BEFORE.search(s[: m.start()]) else "tháng "
            return f"{head}{_month(mo)}{year(y)}"

        s = re.sub(rf"{_DB}{_M}/{_Y}{_DE}", month_year, s)

        def day_month(m: re.Match[str]) -> str:
            d, mo = m.groups()
            return f"{prefix(s[: m.start()])}{_day(d)} tháng {_month(mo)}"

        return re.sub(rf"{_DB}{_D}/{_M}{_DE}", day_month, s)

    def _times(self, s: str) -> str:
        token = (
            r"\d{1,2}h(?:\d{2})?(?![^\W_])|\d{1,2}g\d{2}(?![^\W_])"
            r"|\d{1,2}:\d{2}(?::\d{2})?(?![\w:])"
        )
        start = r"(?<![\w.,:/\-])"
        parts = re.compile(r"(\d{1,2})[hg:]?(\d{2})?(?::(\d{2}))?")

        def read(tok: str) -> str | None:
            m = parts.fullmatch(tok)
            if not m:
                return None
            hh, mm, sec = m.groups()
            if int(hh) > 24 or (mm is not None and int(mm) > 59) or (sec and int(sec) > 59):
                return None
            words = f"{read_int(int(hh))} giờ"
            if mm and int(mm):
                words += f" {read_int(int(mm))} phút"
            if sec and int(sec):
                words += f" {read_int(int(sec))} giây"
            return words

        def time_range(m: re.Match[str]) -> str:
            a, b = read(m.group(1)), read(m.group(2))
            return f"{a} đến {b}" if a and b else m.group(0)

        s = re.sub(rf"{start}({token})\s*-\s*({token})", time_range, s)

        def hour_range(m: re.Match[str]) -> str:
            a, b = int(m.group(1)), int(m.group(2))
            if a > 24 or b > 24:
                return m.group(0)
            return f"{read_int(a)} đến {read_int(b)} giờ"

        s = re.sub(rf"{start}(\d{{1,2}})\s*-\s*(\d{{1,2}})h(?![^\W_])", hour_range, s)
        return re.sub(rf"{start}(?:{token})", lambda m: read(m.group(0)) or m.group(0), s)

    def _romans(self, s: str) -> str:
        pattern = re.compile(
            rf"(?<![\w])({_ROMAN_CONTEXT})(\s+)([IVXLCDM]+)(?![\w])(?:/(\d{{4}}))?",
            re.IGNORECASE,
        )

        def speak(m: re.Match[str]) -> str:
            word, space, roman, year = m.groups()
            value = roman_to_int(roman)
            if value is None or (len(roman) == 1 and roman in "CDLM"):
                return m.group(0)
            reading = read_ordinal(value) if word.lower() == "thứ" else read_int(value)
            tail = f" năm {read_int(int(year))}" if year else ""
            return f"{word}{space}{reading}{tail}"

        return pattern.sub(speak, s)

    @staticmethod
    def _ordinals(s: str) -> str:
        return re.sub(
            r"(?<![\w])(thứ)\s+(\d{1,3})(?![\w.,/:]|[.,]\d)",
            lambda m: f"{m.group(1)} {read_ordinal(int(m.group(2)))}",
            s, flags=re.IGNORECASE,
        )

    def _with_units(self, s: str) -> str:
        def speak(m: re.Match[str]) -> str:
            neg, a, b = m.group(1), m.group(2), m.group(3)
            unit_text = s[m.end(3) if b else m.end(2): m.end()].strip()
            km = self._unit_key_re.search(unit_text)
            unit = self._unit_reading(km.group(0) if km else unit_text)
            first = _read_number(a)
            if neg and (m.start() == 0 or not s[m.start() - 1].isdigit()):
                first = "âm " + first
            nums = first + (f" đến {_read_number(b)}" if b else "")
            return f"{nums} {unit}"

        s = re.sub(rf"\$\s?({_NUM})", lambda m: f"{_read_number(m.group(1))} đô la Mỹ", s)
        return self._unit_re.sub(speak, s)

    def _unit_reading(self, unit: str) -> str:
        key = re.sub(r"\s+", " ", unit)
        return self._units.get(key) or self._units.get(unit, unit)

    @staticmethod
    def _letter_digit_codes(s: str) -> str:
        def speak(m: re.Match[str]) -> str:
            out = []
            for run in re.findall(r"\d+|[^\d]+", m.group(0)):
                if run.isdigit():
                    out.append(read_leading_zero(run) if run.startswith("0") else
                               read_int(int(run)) if len(run) <= 2 else read_digits(run))
                else:
                    out.append(_spell(run))
            return " ".join(out)

        s = re.sub(r"(?<![\w])(?:[A-ZĐ]{1,5}\d+)+[A-ZĐ]{0,5}(?![\w])", speak, s)

        def speak_class(m: re.Match[str]) -> str:
            runs = re.findall(r"\d+|[^\d]+", m.group(0))
            out = [_read_house_number(runs[0])]
            for run in runs[1:]:
                out.append(_spell(run) if not run.isdigit() else
                           read_int(int(run)) if len(run) <= 2 and not run.startswith("0")
                           else read_digits(run))
            return " ".join(out)

        # Classes, rooms, teams, house numbers: "9A1" "chín a một", "2B", "tổ 3A", "12a".
        # Lower-case g and h are left to times ("7g30"); units were read before.
        return re.sub(
            r"(?<![\w.,/:+\-])\d{1,4}(?:(?:[A-ZĐ]{1,3}|[a-fi-wyzđ])\d{0,3})+(?![\w])",
            speak_class, s,
        )

    @staticmethod
    def _numbers(s: str) -> str:
        def speak_range(m: re.Match[str]) -> str:
            return f"{_read_number(m.group(1))} đến {_read_number(m.group(2))}"

        s = re.sub(rf"(?<![\w.,])({_NUM})\s*-\s*({_NUM})(?![\w])", speak_range, s)
        s = re.sub(rf"(?<![\w.,])({_NUM})/({_NUM})(?![\w/])",
                   lambda m: f"{_read_number(m.group(1))} trên {_read_number(m.group(2))}", s)

        def speak(m: re.Match[str]) -> str:
            neg, tok = m.group(1), m.group(2)
            before = s[: m.start()]
            digitwise = bool(_SO_BEFORE.search(before))
            words = _read_number(tok, digitwise_zero=digitwise)
            words = ("âm " + words) if neg else words
            glued = s[m.end():m.end() + 1].isalpha()  # "15ngày" -> "mười lăm ngày"
            return words + " " if glued else words

        return re.sub(rf"(?:(?<![^\s(])(-)(?=\d))?(?<![\w.,])({_NUM})", speak, s)

    @staticmethod
    def _acronyms(s: str) -> str:
        def speak(m: re.Match[str]) -> str:
            tok = m.group(0)
            letters = [c for c in tok if c.isalpha()]
            if not letters or not all(c.isupper() for c in letters):
                return tok
            if len(tok) == 1:
                return _LETTERS[tok.lower()] if tok in _SPELL_SINGLE else tok
            if is_syllable(tok):
                return tok
            return _spell(tok)

        return re.sub(r"(?<![\w])[^\W\d_]+(?![\w])", speak, s)

    @staticmethod
    def _symbols(s: str) -> str:
        s = re.sub(r"\bvà/hoặc\b", "và hoặc", s, flags=re.IGNORECASE)
        s = re.sub(r"\s*&\s*", " và ", s)
        s = re.sub(r"(?<=\w)\s*/\s*(?=\w)", " trên ", s)
        s = re.sub(r"\s*\+\s*", " cộng ", s)
        s = re.sub(r"\s*[≥⩾]\s*", " lớn hơn hoặc bằng ", s)
        s = re.sub(r"\s*[≤⩽]\s*", " nhỏ hơn hoặc bằng ", s)
        s = re.sub(r"\s*>\s*", " lớn hơn ", s)
        s = re.sub(r"\s*<\s*", " nhỏ hơn ", s)
        s = re.sub(r"\s*=\s*", " bằng ", s)
        s = re.sub(r"~\s*", " khoảng ", s)
        s = s.replace("%", " phần trăm ").replace("°", " độ ").replace("$", " đô la ")
        s = re.sub(r"^\s*[-*•+]\s+", "", s)  # list bullets
        s = re.sub(r"\s+-\s+", ", ", s)  # a spaced dash separates clauses
        s = re.sub(r"(?<=\w)-(?=\w)", " ", s)  # hyphenated words
        s = re.sub(r"[()\[\]{}]", ",", s)
        s = re.sub(r"[*#|^_\\@]", " ", s)
        return s

    @staticmethod
    def _cleanup(s: str) -> str:
        s = re.sub(r"\d+", lambda m: " " + read_digits(m.group(0)) + " ", s)  # never a digit
        s = re.sub(r"\s+", " ", s)
        s = re.sub(r"\s+([,.;:!?])", r"\1", s)
        s = re.sub(r",+", ",", s)
        s = re.sub(r",\s*([.;:!?])", r"\1", s)
        s = re.sub(r"([.;:!?])\s*,", r"\1", s)
        s = re.sub(r"^\s*,\s*", "", s)
        s = re.sub(r",\s*$", "", s)
        s = re.sub(r"([,;:!?])(?=[^\s,.;:!?])", r"\1 ", s)
        s = re.sub(r"(?<=[^\W\d_])\.(?=[^\W\d_])", ". ", s)
        return s.strip()

