"""Word tables for normalization: teencode, abbreviations and regional words.

Keys and values of ``FOLDED`` are folded (no diacritics, đ→d, lowercase); a value may have
several words. ``ACCENTED`` applies only when the citizen typed the word with its diacritics,
because the folded form is ambiguous ("mô" is Central for "đâu", but "mo" is also "mơ", "mổ").
"""

from __future__ import annotations

__all__ = ["ACCENTED", "FOLDED", "NOT_BEFORE_CHI"]

#: Folded token -> folded replacement (teencode, abbreviations, unambiguous regional words).
FOLDED: dict[str, str] = {
    # negation and particles
    "ko": "khong", "k": "khong", "kh": "khong", "khg": "khong", "hok": "khong",
    "hk": "khong", "hem": "khong", "khum": "khong", "kg": "khong", "kô": "khong",
    "khog": "khong", "hum": "hom",
    "dc": "duoc", "dk": "dang ky", "dky": "dang ky", "dki": "dang ky", "dangky": "dang ky",
    "dangki": "dang ky", "ki": "ky", "đc": "duoc", "dcj": "duoc",
    "j": "gi", "gj": "gi", "ji": "gi", "zi": "gi", "zj": "gi",
    "ntn": "nhu the nao", "ntnao": "nhu the nao", "nthe": "nhu the", "s": "sao",
    "lm": "lam", "lmj": "lam gi", "bn": "bao nhieu", "bnh": "bao nhieu", "bnhieu": "bao nhieu",
    "baonhieu": "bao nhieu", "bik": "biet", "bit": "biet", "pit": "biet", "kb": "khong biet",
    "kbiet": "khong biet", "kp": "khong phai", "mn": "moi nguoi", "ng": "nguoi",
    "ns": "noi", "vs": "voi", "r": "roi", "rui": "roi", "ruj": "roi", "z": "vay",
    "v": "vay", "zay": "vay", "dzay": "vay", "cx": "cung", "cg": "cung", "dg": "dang",
    "trc": "truoc", "ms": "moi", "mun": "muon", "lun": "luon", "thui": "thoi", "nhiu": "nhieu",
    "iu": "yeu", "wa": "qua", "we": "que", "wen": "quen", "hnay": "hom nay", "hqua": "hom qua",
    "bjo": "bay gio", "bh": "bao hiem", "bg": "bay gio", "h": "gio",
    "ok": "ok", "oke": "ok", "okie": "ok", "oki": "ok", "okay": "ok",
    "e": "em", "b": "ban", "t": "toi", "ad": "admin", "ib": "nhan tin", "nt": "nhan tin",
    "ck": "chong", "vk": "vo", "ny": "nguoi yeu", "ae": "anh em",
    "thanks": "cam on", "thank": "cam on", "tks": "cam on", "thx": "cam on", "camon": "cam on",
    "camonn": "cam on", "cmon": "cam on",
    "bye": "tam biet", "bb": "tam biet", "pp": "tam biet",
    "hi": "chao", "hello": "chao", "helo": "chao", "hey": "chao",
    # identity, residence
    "cccd": "can cuoc cong dan", "cc": "can cuoc", "cmnd": "chung minh nhan dan",
    "cmt": "chung minh thu", "cmtnd": "chung minh nhan dan", "hc": "ho chieu",
    "dddt": "dinh danh dien tu", "ddđt": "dinh danh dien tu",
    "tk": "tai khoan", "mk": "mat khau", "pass": "mat khau", "password": "mat khau",
    "sdt": "so dien thoai", "sđt": "so dien thoai", "dt": "dien thoai", "dthoai": "dien thoai",
    "đt": "dien thoai",
    # civil status, justice
    "dkkh": "dang ky ket hon", "gks": "giay khai sinh", "gkh": "giay ket hon",
    "lltp": "ly lich tu phap", "tthc": "thu tuc hanh chinh", "tt": "thu tuc",
    "ubnd": "uy ban nhan dan", "ub": "uy ban", "ct07": "xac nhan cu tru",
    "ct01": "to khai cu tru",
    # insurance, labour, tax
    "bhyt": "bao hiem y te", "bhxh": "bao hiem xa hoi", "bhtn": "bao hiem that nghiep",
    "bhxhtn": "bao hiem xa hoi tu nguyen", "mst": "ma so thue",
    "tncn": "thu nhap ca nhan", "qtt": "quyet toan thue", "kcb": "kham chua benh",
    # transport
    "gplx": "giay phep lai xe", "blx": "bang lai xe", "csgt": "canh sat giao thong",
    "oto": "o to", "xm": "xe may", "bsx": "bien so xe", "idp": "bang lai quoc te",
    # business, land
    "gpkd": "giay phep kinh doanh", "dkkd": "dang ky kinh doanh", "hkd": "ho kinh doanh",
    "dn": "doanh nghiep", "cty": "cong ty", "tnhh": "trach nhiem huu han",
    "gcn": "giay chung nhan", "qsdd": "quyen su dung dat", "gcnqsdd": "giay chung nhan quyen "
    "su dung dat", "gpxd": "giay phep xay dung", "antt": "an ninh trat tu",
    # services, places
    "dvc": "dich vu cong", "dvcqg": "dich vu cong quoc gia", "tp": "thanh pho",
    "cand": "cong an nhan dan", "bv": "benh vien", "bs": "bac si",
    "ks": "khach san", "thpt": "trung hoc pho thong", "thcs": "trung hoc co so",
    "nvqs": "nghia vu quan su", "dh": "dai hoc", "cd": "cao dang",
    # regional words that fold without ambiguity
    "tui": "toi", "man": "lam", "giut": "giat",
    "sanh": "sinh", "nhon": "nhan", "thiet": "that",
    "dzo": "vo", "zo": "vo", "dzia": "ve", "zia": "ve", "dzui": "vui", "zui": "vui",

}

#: NFC lowercase token typed with diacritics -> replacement (regional and teencode words).
ACCENTED: dict[str, str] = {
    "mần": "làm", "hông": "không", "hổng": "không", "khum": "không",
    "tui": "tôi", "tụi": "chúng", "bả": "bà ấy", "ổng": "ông ấy",
    "răng": "sao", "mô": "đâu", "rứa": "vậy", "ni": "này", "tê": "kia", "nớ": "đó",
    "chừ": "giờ", "hỉ": "nhỉ", "đặng": "để",
    "vô": "vào", "dìa": "về", "zìa": "về", "bển": "bên đó", "coi": "xem", "kiếm": "tìm",
    "lãnh": "lĩnh", "thiệt": "thật", "sanh": "sinh", "bịnh": "bệnh", "nhơn": "nhân",
    "má": "mẹ", "tía": "bố", "nhứt": "nhất", "dzậy": "vậy", "zậy": "vậy", "dzô": "vào",
    "zô": "vào", "rầu": "rồi", "gòi": "rồi", "rùi": "rồi", "ròi": "rồi", "mún": "muốn",
    "hok": "không", "nhìu": "nhiều", "bít": "biết", "pít": "biết", "wá": "quá",
    "zì": "gì", "thik": "thích", "lun": "luôn", "thui": "thôi", "iu": "yêu",

    "giựt": "giật", "té": "ngã", "hén": "nhé", "nghen": "nhé", "nha": "nhé",
}

#: Folded words after which "chi" means money ("chi phí"), not the Central "gì".
NOT_BEFORE_CHI = frozenset({
    "phi", "tra", "tieu", "tiet", "nhanh", "cuc", "doan", "bo", "hoi", "em", "ho",
    "luong", "tien", "ra",
})
