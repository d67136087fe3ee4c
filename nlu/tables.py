"""Word tables for normalization: teencode, abbreviations and regional words.

Keys and values of ``FOLDED`` are folded (no diacritics, đ→d, lowercase); a value may have
several words. ``ACCENTED`` applies only when the citizen typed the word with its diacritics,
because the folded form is ambiguous ("mô" is Central for "đâu", but "mo" is also "mơ", "mổ").
"""

from __future__ import annotations

__all__ = ["ACCENTED", "FAMILY_TERMS", "FOLDED", "NOT_BEFORE_CHI", "SERVICE_TERMS"]

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
    "onl": "online", "onlai": "online", "mik": "minh", "mjk": "minh",
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

    "giựt": "giật", "té": "ngã", "hén": "nhé", "nghen": "nhé",
    # "dâu" (con dâu: daughter-in-law; cô dâu: bride) folds to "dau" like "dấu" (con dấu: a
    # stamp, a service of its own): typed with its diacritics it keeps a word of its own.
    "dâu": "nangdau",
}

#: Folded words after which "chi" means money ("chi phí"), not the Central "gì".
NOT_BEFORE_CHI = frozenset({
    "phi", "tra", "tieu", "tiet", "nhanh", "cuc", "doan", "bo", "hoi", "em", "ho",
    "luong", "tien", "ra",
})

#: Words that name a service clearly enough to leave the service a citizen is looking at
#: (folded, whole words). Shared words ("khai sinh") may name several services.
SERVICE_TERMS: dict[str, tuple[str, ...]] = {
    "dang-ky-thuong-tru": ("thuong tru", "ho khau", "nhap khau", "chuyen khau"),
    "dang-ky-tam-tru": ("tam tru",),
    "khai-bao-tam-vang": ("tam vang",),
    "thong-bao-luu-tru": ("luu tru", "khach o qua dem", "khach ngu lai"),
    "xoa-dang-ky-thuong-tru": ("xoa thuong tru", "xoa ho khau", "cat khau", "cat ho khau"),
    "xac-nhan-thong-tin-cu-tru": ("xac nhan cu tru", "ct07", "xac nhan thong tin cu tru"),
    "cap-doi-the-can-cuoc": ("can cuoc", "cccd", "chung minh nhan dan", "chung minh thu"),
    "can-cuoc-tre-duoi-6": ("can cuoc cho be", "can cuoc cho con", "duoi 6 tuoi",
                            "can cuoc tre em"),
    "xac-nhan-so-cmnd": ("xac nhan so chung minh", "xac nhan chung minh", "cmnd cu",
                         "chung minh 9 so", "so cmnd cu"),
    "cap-ho-chieu": ("ho chieu", "passport"),
    "dang-ky-khai-sinh": ("khai sinh",),
    "lien-thong-khai-sinh": ("khai sinh", "lien thong"),
    "dang-ky-khai-tu": ("khai tu", "bao tu", "chung tu"),
    "lien-thong-khai-tu": ("khai tu", "bao tu", "tu tuat", "lien thong"),
    "dang-ky-ket-hon": ("ket hon", "hon thu"),
    "xac-nhan-tinh-trang-hon-nhan": ("doc than", "tinh trang hon nhan"),
    "trich-luc-ho-tich": ("trich luc", "ban sao giay khai sinh", "ban sao khai sinh"),
    "thay-doi-cai-chinh-ho-tich": ("cai chinh", "doi ten", "doi ho", "sua ngay sinh",
                                   "sua giay khai sinh"),
    "dang-ky-nhan-cha-me-con": ("nhan cha", "nhan me", "nhan con", "nhan cha con"),
    "ly-lich-tu-phap": ("ly lich tu phap", "tien an"),
    "chung-thuc-ban-sao-dien-tu": ("chung thuc", "sao y", "ban sao dien tu", "cong chung"),
    "doi-giay-phep-lai-xe": ("doi bang lai", "doi giay phep lai xe", "bang lai het han",
                             "gia han bang lai", "bang lai giay"),
    "cap-lai-giay-phep-lai-xe": ("mat bang lai", "cap lai bang lai", "lam lai bang lai",
                                 "bang lai bi mat", "bang lai bi hong"),
    "gplx-quoc-te": ("bang lai quoc te", "giay phep lai xe quoc te", "idp"),
    "dang-ky-xe-may": ("dang ky xe may", "bien so xe may", "bam bien", "ca vet", "xe may"),
    "dang-ky-o-to": ("dang ky o to", "bien so o to", "dang ky xe hoi", "o to", "xe hoi",
                     "oto"),
    "sang-ten-xe": ("sang ten xe", "mua xe cu", "ban xe", "sang ten o to", "sang ten xe may",
                    "o to", "xe may", "xe hoi"),
    "nop-phat-giao-thong": ("phat nguoi", "nop phat", "vi pham giao thong"),
    "tro-cap-that-nghiep": ("that nghiep",),
    "gia-han-bhyt-ho-gia-dinh": ("gia han bao hiem y te", "bao hiem y te ho gia dinh",
                                 "mua bao hiem y te", "the bao hiem het han"),
    "cap-lai-the-bhyt": ("mat the bao hiem", "cap lai the bao hiem", "doi the bao hiem",
                         "the bao hiem bi rach", "lam lai the bao hiem"),
    "che-do-thai-san": ("thai san", "nghi sinh"),
    "bhxh-mot-lan": ("mot lan", "1 lan", "rut so bao hiem", "rut bao hiem"),
    "bhxh-tu-nguyen": ("tu nguyen",),
    "tro-cap-xa-hoi": ("tro cap xa hoi", "bao tro xa hoi", "tro cap hang thang",
                       "tro cap nguoi gia", "khuyet tat"),
    "ho-tro-mai-tang": ("mai tang", "ma chay", "tang le"),
    "dang-ky-thue": ("ma so thue", "dang ky thue", "nguoi phu thuoc"),
    "quyet-toan-thue-tncn": ("quyet toan", "hoan thue", "thue thu nhap ca nhan"),
    "dang-ky-ho-kinh-doanh": ("ho kinh doanh", "kinh doanh ca the", "mo quan", "buon ban"),
    "dang-ky-doanh-nghiep": ("doanh nghiep", "cong ty", "thanh lap cong ty"),
    "con-dau-moi": ("con dau", "khac dau", "mau dau"),
    "con-dau-thu-nho": ("dau noi", "dau thu nho", "dau xi", "dau niem phong"),
    "dang-ky-bien-dong-dat-dai": ("sang ten so do", "sang ten so hong", "sang ten dat",
                                  "chuyen nhuong", "tang cho", "thua ke", "bien dong",
                                  "mua ban dat"),
    "cap-so-do-lan-dau": ("so do lan dau", "chua co so", "lam so do", "cap so do",
                          "lam so hong", "giay chung nhan quyen su dung dat"),
    "thong-tin-dat-dai": ("quy hoach", "thua dat", "ban do dia chinh", "thong tin dat"),
    "giay-phep-xay-dung": ("giay phep xay dung", "xin phep xay", "cap phep xay dung",
                           "xay nha", "sua nha"),
    "cap-dien-moi": ("cong to", "dong ho dien", "lap dien", "keo dien", "dien moi"),
    "doi-chu-hop-dong-dien": ("hop dong dien", "sang ten dien", "doi ten cong to",
                              "hoa don tien dien"),
    "thi-tot-nghiep-thpt": ("thi tot nghiep", "thi thpt", "thi trung hoc pho thong",
                            "thi cap 3"),
    "xet-tuyen-dai-hoc": ("xet tuyen", "nguyen vong", "dai hoc", "cao dang"),
    "tuyen-sinh-dau-cap": ("tuyen sinh", "vao lop 1", "vao lop 6", "mam non", "lop mot"),
    "nghia-vu-quan-su": ("nghia vu quan su", "bo doi", "quan su", "nvqs"),
    "chung-nhan-antt": ("an ninh trat tu", "antt", "cam do", "karaoke", "nha nghi"),
}

#: Everyday words for a kind of paper that several services share (folded, whole words). Only
#: a short follow-up reads them: one naming a kind of paper that the service looked at is not
#: leaves it for the likeliest service of that kind ("bằng lái thì làm lại thế nào" on the ID
#: card, whose folded "lam lai the nao" reads like "làm lại thẻ"). They are not SERVICE_TERMS:
#: a long message naming "bảo hiểm y tế" is not thereby about a second service.
FAMILY_TERMS: dict[str, tuple[str, ...]] = {
    "bang lai": ("doi-giay-phep-lai-xe", "cap-lai-giay-phep-lai-xe", "gplx-quoc-te"),
    "giay phep lai xe": ("doi-giay-phep-lai-xe", "cap-lai-giay-phep-lai-xe", "gplx-quoc-te"),
    "gplx": ("doi-giay-phep-lai-xe", "cap-lai-giay-phep-lai-xe", "gplx-quoc-te"),
    "bao hiem y te": ("cap-lai-the-bhyt", "gia-han-bhyt-ho-gia-dinh"),
    "the bao hiem": ("cap-lai-the-bhyt", "gia-han-bhyt-ho-gia-dinh"),
    "so do": ("cap-so-do-lan-dau", "dang-ky-bien-dong-dat-dai"),
    "so hong": ("cap-so-do-lan-dau", "dang-ky-bien-dong-dat-dai"),
}
