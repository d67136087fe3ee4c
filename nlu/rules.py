"""Rules on normalized (folded) text: danger-now phrases and the aspect a question asks about.

Emergency recall comes first: a message about danger now must never be read as something
harmless, whatever the statistical model says. ``STRONG`` phrases always mean an emergency;
``SOFT`` ones (an accident, a robbery: maybe over, maybe now) do when the model also gives the
emergency class some weight.
"""

from __future__ import annotations

import re

__all__ = ["ASPECT_PATTERNS", "aspect_of", "emergency_level"]

_STRONG = [
    r"cuu (voi|toi|em|chau|con|me|bo|ba|bac|nguoi|tui|minh|giup|gap|tro)",
    r"(cuu|cuuu+)$", r"^cuu\b", r"\bsos\b", r"cap cuu", r"cuu hoa", r"cuu thuong",
    r"chay nha", r"nha (dang |bi )?chay", r"boc chay", r"hoa hoan", r"chay rung", r"dam chay",
    r"(dang|bi) chay (lon|to|du|ngun)", r"chay (lon|to|du) (lam|qua)", r"chay mau",
    r"khoi (mu|den|bao trum|um)", r"(chay|no) (binh )?gas?\b", r"ro ri (khi )?(gas?|ga)\b",
    r"ro (khi )?gas?\b", r"xi gas?\b", r"mui gas?\b", r"phat no", r"sap no\b", r"no (tung|to)",
    r"dang (bi )?(danh|dam|chem|cuop|bat coc|hanh hung|bop co|siet co|ham hiep|de doa giet)",
    r"bi (dam|chem|bat coc|bop co|siet co)", r"cuop.* dang|dang cuop",
    r"danh (toi|em|con|me) (qua|chet)",
    r"(cam|vung|rut) (dao|sung|hung khi|ma tau|kiem)", r"(dam|chem|ban) (nhau|nguoi|chet)",
    r"giet (nguoi|toi|em|con|chet)", r"doa giet", r"bat coc", r"(dang|ke|co) (trom|cuop) dang",
    r"(trom|cuop) dang (o|trong|vao|pha)", r"dot nhap", r"dang (bi )?(theo doi|rinh) .*giet",
    r"duoi nuoc", r"chet duoi", r"(lu|nuoc|song) cuon", r"bi cuon troi", r"sap (nha|cau|tuong|"
    r"mai|ham)", r"(nha|cau|tuong) (bi )?sap", r"sat lo", r"vui lap", r"mac ket", r"ket trong",
    r"ngat xiu", r"(bi|da|vua) ngat", r"ngat (roi|luon)", r"bat tinh", r"(bi|da|vua) xiu",
    r"xiu (roi|luon|mat)",
    r"(khong|ko) (tho|con tho) (duoc|nua)", r"kho tho", r"tat tho\b", r"ngung tho", r"co giat",
    r"dot quy", r"(len|nhoi mau|dau) (con )?tim", r"tu tu (roi|chet)", r"(muon|dinh|doi|se|dang"
    r"|da|nguoi|ai|con|chong|vo|me|bo|ban) tu tu", r"nhay (cau|song|lau)", r"treo co",
    r"uong thuoc (sau|chuot|tu tu)", r"dien giat", r"giat dien(?! thoai)", r"ngo doc",
    r"tai nan .*(dang|nam|chay mau|bat tinh|cap cuu|nghiem trong|bi thuong nang|mat nhieu mau"
    r"|gay)",
    r"(vua|dang) (bi )?tai nan", r"nguy hiem (den )?tinh mang", r"dang gap nguy hiem",
    r"(te|nga|rot|roi|lan) xuong (cau thang|ao|ho|song|gieng|muong|kenh|nuoc|vuc)",
    r"(te|nga|rot|lan) (cau thang|tu tren|mai nha|ao|song|gieng)",
    r"(nam|nam im) (im )?(khong|ko) (nhuc nhich|cu dong)", r"bat dong", r"nam im .*(khong|ko) "
    r"(tho|tinh)", r"(tong|dam|dung) (phai )?(nguoi|chet|nat)", r"mau (me )?(nhieu|lenh "
    r"lang|chay|tum lum)", r"(dang|vua) (giat|cuop) (do|tui|dien thoai|xe|day chuyen)",
    r"(goi|cho xe) (113|114|115)", r"^(113|114|115)$", r"khan cap.*(nguy|cuu|chay|chet)",
]
_SOFT = [
    r"tai nan", r"cuop", r"trom", r"danh nhau", r"bi danh", r"nguy hiem", r"khan cap",
    r"gap lam", r"chay", r"ngat", r"sung", r"chet", r"bao lu", r"lu lut",
    r"de doa", r"hanh hung", r"bao luc", r"say ruou",
]
_STRONG_RE = re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in _STRONG) + ")")
_SOFT_RE = re.compile("|".join(rf"(?:\b{p}\b)" for p in _SOFT))
# Scams are urgent too, but they are scam reports, not danger to life.
_SCAM_RE = re.compile(r"\blua\b|lua dao|chuyen (khoan|tien)|\botp\b|mao danh|gia danh|link")

#: Aspect patterns in priority order (the most specific first).
ASPECT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("fee", re.compile(
        r"bao nhieu tien|(het|ton|mat|la|phi|gia|dong) bao nhieu|bao nhieu (mot|1) (thang|nam)"
        r"|le phi|\bphi\b|chi phi|mien phi|(mat|ton|het|dong|tra) tien|bao nhieu dong"
        r"|(duoc|nhan|lanh|linh) bao nhieu|muc (dong|huong)|giam (tru|phi|gia|bao nhieu)"
        r"|\btien\b.*bao nhieu|mat phi|ton phi|co phi|thi (duoc )?giam|duoc giam")),
    ("documents", re.compile(
        r"giay to (gi|nao|can)|can (nhung )?(gi|giay|ho so|mang)|mang (theo )?(gi|nhung)"
        r"|ho so (gom|can|co)|can chuan bi|chuan bi (gi|nhung)|nop (nhung )?(gi|giay)"
        r"|thanh phan ho so|giay gi|giay to can|can nhung thu|can co gi|(can|phai) co (giay|anh)"
        r"|kham suc khoe|(co phai|can) chup anh|xet nghiem adn")),
    ("eligibility", re.compile(
        r"ai (duoc|phai|co the|thi duoc)|dieu kien|thi duoc (huong|nhan|lam|lanh|rut|cap)"
        r"|(co|thi) \w+ duoc (khong|ko|hong|chu|ha)$|co \w+ \w+ duoc (khong|ko)$")),
    ("duration", re.compile(
        r"bao lau|may ngay|bao nhieu ngay|may thang|may tuan|mat may|khi nao|bao gio"
        r"|han (chot|nop|cuoi)|thoi han|thoi gian|lau (khong|ko|qua|vay)|nhanh (khong|nhat)"
        r"|den (khi|luc) nao|may hom|bao nhieu lau|\blau\b")),
    ("eligibility", re.compile(
        r"(co|thi) duoc (khong|ko|hong|chu|ha)|duoc khong|co phai .*khong|bao nhieu tuoi"
        r"|may tuoi|du tuoi|doi tuong|truong hop nao|co can .*khong|co bi phat|bat buoc"
        r"|co duoc")),
    ("steps", re.compile(
        r"the nao|ntn|lam sao|cach (lam|nop|dang|xin)|o dau|ra sao|cac buoc|huong dan"
        r"|quy trinh|thu tuc|lam gi|bat dau|o cho nao|cho nao|nop o|lam o|online|truc tuyen"
        r"|qua mang|tren mang|vneid|tren app")),
)


def emergency_level(norm: str) -> int:
    """2: a danger-now phrase; 1: a word that may mean danger; 0: nothing."""
    if _STRONG_RE.search(norm):
        if _SCAM_RE.search(norm) and not re.search(
                r"chay|duoi|ngat|bat tinh|dam|chem|sung|dao|giet|tai nan|tu tu", norm):
            return 1
        return 2
    return 1 if _SOFT_RE.search(norm) else 0


def aspect_of(norm: str) -> str | None:
    """Which aspect of a service the normalized question asks about, if any."""
    for name, pattern in ASPECT_PATTERNS:
        if pattern.search(norm):
            return name
    return None
