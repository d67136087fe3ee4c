"""Text normalization: how a citizen's message becomes comparable tokens.

Steps: NFC, lowercase, tokens; regional and teencode words that need their diacritics to be
read safely; folding (no diacritics, đ→d); repair of telex/VNI leftovers ("lamf" → "lam",
"chieeus" → "chieu", "la2m" → "lam"); abbreviations ("cccd" → "can cuoc cong dan"). The result
is folded text, so messages typed with or without diacritics, NFC or NFD, look the same.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import chain

from nlu.tables import ACCENTED, FOLDED, NOT_BEFORE_CHI

__all__ = ["Chunks", "fold", "forget", "is_syllable", "normalize", "repair_telex", "tokens"]

_TOKEN_RE = re.compile(r"[^\W_]+")
_INITIALS = "ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx]"
# Folded rhymes: a vowel nucleus of 1-3 letters and an optional final consonant. Doubled
# vowels are not Vietnamese except "uu" (hưu) and "oo" before ng/c (xoong, moóc).
_SYLLABLE_RE = re.compile(
    rf"^(?:{_INITIALS})?(?!.*(?:aa|ee|ii|yy))(?:[aeiouy]{{1,3}})(?:ng|nh|ch|[cmnpt])?$"
)
_OO_RE = re.compile(r"oo(?!ng$|c$)")
_TONE_KEYS = frozenset("sfrxjz")
_TELEX_PAIRS = (("dd", "d"), ("aa", "a"), ("ee", "e"), ("oo", "o"), ("aw", "a"),
                ("ow", "o"), ("uw", "u"), ("w", "u"))
_VOWELS = frozenset("aeiouy")
_REPEAT_RE = re.compile(r"(.)\1{2,}")


def fold(text: str) -> str:
    """Lowercase text without diacritics (đ → d), from NFC or NFD input."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return stripped.replace("đ", "d")


def is_syllable(token: str) -> bool:
    """Whether a folded token can be one Vietnamese syllable (a permissive check)."""
    return bool(_SYLLABLE_RE.match(token)) and not _OO_RE.search(token)


def repair_telex(token: str) -> str | None:
    """The folded syllable behind a token typed with telex or VNI keys left in, if any.

    "lamf" → "lam", "chieeus" → "chieu", "dduwowngf" → "duong", "la2m" → "lam". Returns None
    when the token does not decode to a Vietnamese syllable (so "gplx" or "zalo" stay as they are).
    """
    if not token.isascii() or len(token) < 2:
        return None
    t = token
    if any(c.isdigit() for c in t):
        if not t[0].isalpha():
            return None
        t = "".join(c for c in t if not c.isdigit())  # VNI: tone and mark keys are digits
    first_vowel = next((i for i, c in enumerate(t) if c in _VOWELS), -1)
    if first_vowel < 0:
        return None
    # Tone keys typed after the vowel (at the end or just after it).
    head, tail = t[:first_vowel + 1], t[first_vowel + 1:]
    tail = "".join(c for c in tail if c not in _TONE_KEYS)
    t = head + tail
    for a, b in _TELEX_PAIRS:
        t = t.replace(a, b)
    return t if t != token and is_syllable(t) else None


def _teencode_initial(token: str) -> str | None:
    """Teencode spellings of initials: "fai" → "phai", "wen" → "quen", "jo" → "gio"."""
    for a, b in (("f", "ph"), ("w", "qu"), ("j", "gi"), ("dz", "v"), ("z", "d")):
        if token.startswith(a):
            cand = b + token[len(a):]
            if is_syllable(cand):
                return cand
            fixed = repair_telex(cand)
            if fixed:
                return fixed
    return None


@lru_cache(maxsize=65536)
def _norm_token(token: str) -> str:
    """One NFC lowercase token → folded, repaired, expanded text (may be several words)."""
    token = ACCENTED.get(token, token)
    folded = fold(token)
    if folded in FOLDED:
        return FOLDED[folded]
    if folded.isdigit() or is_syllable(folded) or not folded.isascii():
        return folded
    # Letters repeated for emphasis: "cuuuu" → "cuu", "chàooo" → "chao".
    twice, squeezed = _REPEAT_RE.sub(r"\1\1", folded), _REPEAT_RE.sub(r"\1", folded)
    for cand in (twice, squeezed):
        if cand != folded and (is_syllable(cand) or cand in FOLDED):
            return FOLDED.get(cand, cand)
    fixed = repair_telex(folded) or _teencode_initial(folded)
    if fixed:
        return FOLDED.get(fixed, fixed)
    if squeezed != folded:
        fixed = repair_telex(re.sub(r"(.)\1+", r"\1", folded))
        if fixed:
            return fixed
    return folded


class Chunks(dict[str, tuple[str, ...]]):
    """A run of text between separators -> its tokens by ``rx``, found when first met.

    A text's tokens are those of its runs between spaces (or any whitespace, ``by_space``
    False) in order, for a token pattern that never holds the separator: the runs are looked
    up in one C-level pass (most recur: words, a word with its comma), not scanned by the
    regular expression character by character (37 us for 100 words)."""

    MAX = 65536

    def __init__(self, rx: re.Pattern[str], by_space: bool = False) -> None:
        super().__init__()
        self.rx, self.by_space = rx, by_space

    def __missing__(self, chunk: str) -> tuple[str, ...]:
        found = tuple(self.rx.findall(chunk))
        if len(self) >= self.MAX:
            self.clear()
        self[chunk] = found
        return found

    def tokens(self, text: str) -> list[str]:
        """``rx.findall(text)``."""
        return list(chain.from_iterable(map(self.__getitem__, text.split(
            " " if self.by_space else None))))


_CHUNKS = Chunks(_TOKEN_RE)


def forget() -> None:
    """Forget the words and runs of text remembered (to time words never seen before)."""
    _norm_token.cache_clear()
    _CHUNKS.clear()


def tokens(text: str) -> list[str]:
    """NFC lowercase word tokens of ``text``."""
    return _CHUNKS.tokens(unicodedata.normalize("NFC", text).lower())


def normalize(text: str) -> str:
    """Folded, repaired and expanded text: the form every model and rule works on."""
    raw = tokens(text)
    if "chi" not in raw and "nhiêu" not in raw:
        return " ".join(map(_norm_token, raw))  # no word read by its neighbours
    accented = not all(map(str.isascii, raw))
    out: list[str] = []
    for i, tok in enumerate(raw):
        if tok == "chi" and accented:
            # Central "chi" = "gì", unless it is "chi phí", "chi trả" ... (or "chị" mistyped).
            nxt = fold(raw[i + 1]) if i + 1 < len(raw) else ""
            out.append("chi" if nxt in NOT_BEFORE_CHI else "gi")
            continue
        if tok == "nhiêu" and (i == 0 or fold(raw[i - 1]) != "bao"):
            out.append("bao nhieu")  # Southern "nhiêu" = "bao nhiêu"
            continue
        out.append(_norm_token(tok))
    return " ".join(out)
