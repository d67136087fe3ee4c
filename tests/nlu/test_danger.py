"""Danger detection: danger now is never missed, look-alikes do not cry wolf, any length.

These are the project's own cases, written from the families of issue 11. The frozen test
pair (tests/data/danger_now.yml, danger_calm.yml) is scored in test_danger_bars.py.
"""

from __future__ import annotations

import time

import pytest

from nlu.danger import NUMBERS, assess

DANGER_NOW = [
    'cháy nhà rồi cứu với',
    'nhà tôi đang cháy',
    'nha toi dang chay cuu voi',
    'CHÁY!!! cháy bếp rồi mọi người ơi',
    'khói đen bốc lên từ nhà bên cạnh, lửa bắt đầu lan sang nhà tôi',
    'chay lon qua goi cuu hoa giup',
    'cháy chợ rồi, lửa to lắm',
    'bình ga nhà tôi bị xì, mùi ga nồng nặc',
    'ro ri gas trong bep',
    'tiếng nổ lớn ở đầu ngõ, có khói',
    'thằng chồng say rượu đang đánh tôi, cứu tôi với',
    'có thằng cầm dao đang đòi chém người ở đầu hẻm',
    'cuop dang vao nha toi',
    'có trộm đang cạy cửa nhà tôi',
    'hàng xóm đang đánh nhau có cầm mã tấu',
    'ba tôi té xỉu rồi gọi không tỉnh',
    'ông tôi ngất xỉu không thở được',
    'bà nội tự nhiên méo miệng nói không được',
    'con tôi co giật sùi bọt mép',
    'me toi kho tho qua, moi tim tai',
    'em bé bị hóc hạt nhãn',
    'con tôi uống nhầm thuốc chuột rồi',
    'chồng tôi bị điện giật nằm bất động',
    'có người bị tai nạn nằm giữa đường chảy nhiều máu',
    'xe tải vừa tông vào người đi xe máy ở ngã tư',
    'tôi vừa bị tai nạn, chân chảy máu không cầm được',
    'đứa nhỏ rớt xuống ao rồi',
    'có người đuối nước ở sông Hàn',
    'thuyền bị lật, mấy người đang chìm',
    'nhà sập đè người ở trong',
    'tường nhà bên bị sập, có người mắc kẹt',
    'tôi đang bị kẹt trong thang máy, sắp không thở được',
    'lũ về nhanh quá, nước ngập tới nóc nhà rồi',
    'sạt lở đất vùi mất nhà bên cạnh',
    'con tôi nói muốn tự tử',
    'tôi không muốn sống nữa',
    'chị tôi đang đứng trên cầu định nhảy sông',
    'anh ấy vừa uống thuốc sâu',
    'cuuuuu',
    'cứu',
    'SOS nha toi bi chay',
    'kiu voi nha chay',
    'cíu dới, có người chết đuối',
    'vợ tôi vỡ ối rồi, đau quá',
    'chồng đánh tôi chảy máu đầu, nó vẫn đang đập cửa',
    'hôm qua nó đánh tôi, giờ nó lại đang đập cửa nhà tôi',
    'tuần trước bị cướp, giờ thằng đó lại đang đứng trước nhà cầm dao',
    "tôi là người lớn tuổi, sống một mình ở phường Trần Lãm, con cái đi làm ăn xa, mấy năm "
    "nay có bệnh huyết áp. Bây giờ đầu đau như búa bổ, tay chân tê liệt nửa người, nói không "
    "ra hơi",
    'thằng con tôi nó đang bị một đám đánh hội đồng ngoài quán net',
    'bà ngoại bị té cầu thang, nằm im không nhúc nhích',
    'con toi bi ran can o ruong',
    'ong toi dot quy roi',
    'nó đòi giết cả nhà tôi, đang cầm dao đứng ngoài cổng',
    'dam chay o cho dau moi, lan nhanh lam',
    'nhà hàng xóm bốc cháy, có người kẹt trên tầng ba',
    'bé nhà tôi bị bỏng nước sôi khắp người',
    'mẹ tôi bị ong vò vẽ đốt nhiều chỗ, giờ khó thở',
    'xe khách lật xuống vực ở đèo',
    'cây đổ đè trúng người đi đường',
    'đang có đánh nhau to ở chợ, có người bị đâm',
    'tôi bị bắt cóc, đang bị nhốt trong phòng',
    'chồng tôi dọa giết tôi, đang cầm búa',
    'ông ơi cứu cháu với, nhà cháu cháy',
    'tui bi nguoi ta danh chay mau dau, dang o truoc nha',
    'con tôi uống phải nước tẩy bồn cầu',
    'ba tui ăn nấm rừng xong nôn ói, tay chân lạnh ngắt',
    'bé uống dầu hỏa rồi',
    'ngộ độc rượu, ổng mê man',
    'vợ tôi nhốt mình trong phòng, nói sẽ uống hết lọ thuốc',
    'nó nhắn tin từ biệt rồi tắt máy, tôi sợ nó làm liều',
    'em chán lắm rồi, em sẽ kết thúc tất cả tối nay',
    'mùi khí gas nồng nặc cả hành lang chung cư',
    'bình ga xì kêu xì xì',
    'hóa chất trong xưởng bị tràn ra, công nhân ho sặc sụa',
    'có đứa đang cạy khóa xe máy trước cửa nhà tôi',
    'người lạ đang cố mở cửa nhà tôi lúc nửa đêm',
    'nước lũ tràn vào nhà cao ngang ngực, ông bà tui trên gác',
    'núi sạt sau nhà, đất đá đổ ầm ầm',
    'bão giật tốc mái nhà tôi rồi, mấy mẹ con trốn dưới gầm bàn',
    'con tui chui vô ống cống kẹt không ra được',
    'bé 2 tuổi bị kẹt trong xe ô tô khóa cửa',
    'cứu cứu cứu',
    'ông tôi ôm ngực kêu đau rồi gục xuống',
    'vợ đang mang thai bị ngã cầu thang ra máu',
    'con nít sốt 40 độ co giật trợn mắt',
    'mẹ tui lên cơn hen thở không nổi',
    'xe container cán qua người ở ngã ba',
    'có người ngã xe máy nằm bất tỉnh ở dốc cầu',
    'thằng em bị điện giật ở ổ cắm',
    'bé bị nồi nước sôi đổ vào người, phỏng hết',
    'có đứa nhỏ chới với giữa hồ',
    'ghe chìm trên sông, mấy người đang vùng vẫy',
    'cháu tôi đi tắm suối chưa về, nước lũ đang lên',
    'thằng kia đang dí dao vào cổ vợ tôi',
    'tụi nó ném đá vào nhà tôi đòi giết',
    'ông hàng xóm xách rựa qua nhà tôi chửi đòi chém',
    'ba toi bi dot quy, mieng meo xech',
    'nha ben canh boc khoi den, nghe tieng keu cuu',
    'tai nan o nga tu, 2 nguoi nam im',
    'me oi cuu con, ba dang danh con',
    'ong noi te xuong gieng roi',
    'em bi nguoi ta theo doi, no cam dao, em dang tron trong nha ve sinh',
    'dien giat con toi roi, no khong tho',
    'khẩn cấp, có người nhảy cầu Long Biên',
]

CALM = [
    'thủ tục sáp nhập xã phường mới thì đổi căn cước không',
    'sap nhap tinh roi dia chi tren so do co phai sua khong',
    'sau khi sáp nhập thì hộ khẩu ghi thế nào',
    'thẻ BHYT đi cấp cứu trái tuyến có được chi trả không',
    'the bhyt di cap cuu o benh vien tinh duoc huong bao nhieu phan tram',
    'đi cấp cứu không mang thẻ bảo hiểm y tế thì sao',
    'nộp phạt chậm thì bị tính thêm bao nhiêu',
    'nop cham thue bi phat the nao',
    'chạy nhanh bị phạt bao nhiêu tiền',
    'chay nhanh qua toc do 10km bi phat bao nhieu',
    'chạy xe không có bằng lái bị phạt gì',
    'năm ngoái tôi bị tai nạn lao động, giờ làm hồ sơ hưởng chế độ thế nào',
    'tai nạn lao động được bảo hiểm xã hội chi trả những gì',
    'người đang đóng bảo hiểm xã hội bị tai nạn chết thì vợ con được hưởng gì',
    'chong toi dang di lam o cong ty bi tai nan chet, vo con duoc huong che do gi',
    'máy lạnh chảy nước là bị gì',
    'bà tôi không muốn uống thuốc ngủ vì sợ nghiện, có thuốc nào khác không',
    'me toi nau chao cho be de an',
    'mai nha chay nuoc khi mua thi goi ai sua',
    'hôm qua nhà tôi bị trộm xe máy, báo công an ở đâu',
    'tuần trước tôi bị cướp giật điện thoại, làm đơn trình báo thế nào',
    'phường tổ chức diễn tập phòng cháy chữa cháy sáng thứ bảy',
    'diễn tập cứu nạn cứu hộ tình huống cháy nhà cao tầng',
    'đăng ký lớp tập huấn phòng cháy chữa cháy cho hộ kinh doanh',
    'giấy chứng nhận đủ điều kiện phòng cháy chữa cháy xin ở đâu',
    'học sơ cấp cứu ở đâu',
    'lớp sơ cấp cứu cho tình nguyện viên có mất phí không',
    'mua bảo hiểm tai nạn cho con đi học',
    'bảo hiểm tai nạn học sinh có bắt buộc không',
    'cháy túi rồi tháng này không đủ tiền đóng học',
    'hàng cháy hết từ sáng',
    'mệt muốn chết mà hồ sơ vẫn chưa xong',
    'đói muốn xỉu vì chờ ở phường cả buổi',
    'điện thoại chết máy không vào được VNeID',
    'web dịch vụ công bị sập hả',
    'con tôi học lớp mấy thì được đăng ký tuyển sinh trực tuyến',
    'chờ em xíu nha',
    'từ từ tôi tìm giấy tờ',
    'tôi muốn đâm đơn kiện hàng xóm lấn đất',
    'giết thời gian ở phường lúc chờ lấy số',
    'tổng đài 1900 có mất phí không',
    'lũ trẻ trong xóm muốn học bơi',
    'mua bán bất động sản thì làm sổ đỏ thế nào',
    'năm 2020 nhà tôi bị cháy, giấy tờ mất hết, giờ làm lại sổ đỏ thế nào',
    'bố tôi mất năm ngoái do đột quỵ, giờ làm giấy khai tử',
    'ông tôi bị đột quỵ mất rồi, làm tiền mai táng ở đâu',
    'chồng tôi hay đánh tôi, tôi muốn ly hôn thì làm thế nào',
    'con tôi bị bạn bắt nạt ở trường',
    'chuyển khoản nhầm thì lấy lại thế nào',
    'số điện thoại cứu hỏa là số mấy',
    'nếu nhà bị cháy thì gọi số nào',
    'khi gặp người bị đuối nước thì sơ cứu thế nào',
    'cách sơ cứu người bị điện giật',
    'có người gọi nói con tôi bị bắt cóc, đòi chuyển tiền, có phải lừa đảo không',
    'cho hỏi về sáp nhập ấp khu phố',
    'xe ô tô chết máy giữa đường có bị phạt không',
    'đổi bằng lái xe hết hạn',
    'ngắt điện cả khu từ sáng',
    'cao ngất ngưởng mà giá đất vẫn tăng',
    'cháy nắng quá',
    'chết cười với ông hàng xóm',
    'nhà tôi chuyển lên tầng 3 thì đăng ký tạm trú lại không',
    'hôm trước cháy chợ, tiểu thương được hỗ trợ gì',
    'giảm tốc độ khi chạy qua trường học',
    'ăn chay rằm tháng giêng',
    'nhà hàng chay ở gần phường',
    'tiền phạt chạy quá tốc độ nộp online được không',
    'xe máy bị lửa táp hỏng giấy đăng ký, làm lại thế nào',
    'khói bụi công trình làm phiền quá, báo ai',
    'hút khói thuốc lá nơi công cộng bị phạt không',
    'kẹt xe quá nên đến muộn',
    'tiền bị kẹt trong tài khoản ngân hàng',
    'con tôi mới sinh, làm giấy khai sinh',
    'vợ tôi sắp sinh, chuẩn bị giấy tờ gì',
    'dao kéo mang lên máy bay được không',
    'nghẹn ngào khi nhận được giấy khen',
    'câu hỏi hóc búa quá',
    'cháy vé tàu về quê tết',
    'đám cháy rừng năm ngoái được hỗ trợ trồng lại cây không',
    'phòng cháy chữa cháy cho nhà trọ cần những gì',
    'bình chữa cháy mini mua ở đâu',
    'chạy chương trình tiêm chủng ở phường',
    'khám sức khỏe đi cấp cứu có dùng căn cước gắn chip thay thẻ bhyt được không',
    'trạm y tế có xe cấp cứu không',
    'xe cứu thương có mất tiền không',
    'hồi nhỏ tôi bị chó cắn, giờ có ảnh hưởng gì không',
    'năm ngoái lũ cuốn trôi nhà, giờ xin hỗ trợ làm nhà ở đâu',
    'bảo hiểm xe máy có đền khi tai nạn không',
    'xe tôi bị đụng hôm qua, bảo hiểm có đền không',
    'tôi bị ngất xỉu năm ngoái, BHYT có chi trả phần viện phí không',
    'giá vàng tăng chóng mặt',
    'học kỹ năng phòng tránh đuối nước cho trẻ',
    'tuyên truyền phòng chống bạo lực gia đình',
    'ông bà tôi bị lừa mất tiền',
    'tôi bị lừa chuyển khoản 20 triệu',
    'người tự xưng công an gọi bảo cài app',
    'nhập hộ khẩu cho con',
    'cấp cứu ở bệnh viện tuyến huyện có cần giấy chuyển tuyến không',
    'mức phạt nồng độ cồn xe máy',
    'tôi muốn hỏi về đánh giá cán bộ phường',
    'đánh rơi căn cước ở chợ',
    'dạo này làm căn cước có lâu không',
    'con đường đó hay bị ngập khi mưa',
    'mưa to ngập nước đường vào phường, đi làm giấy tờ lối nào',
    'lửa tình khó dập',
    'sửa lại ngày sinh bị sai trên giấy khai sinh',
    'nổ máy xe mà không lên',
    'xe tôi bị nổ lốp giữa đường',
    'tôi bị mất ngủ mấy hôm nay',
    'cháy hàng khẩu trang rồi',
    'giải thích giúp tôi quy định cấm đốt rác',
    'rút bảo hiểm xã hội một lần',
    'lửa trại ngày hội thanh niên',
    'làm sao đăng ký thường trú',
    'lap thu tuc nhap khau cho me',
    'bố tôi chạy thận nhân tạo mỗi tuần 3 lần, BHYT có chi trả không',
    'chay than o benh vien tinh co phai chuyen tuyen khong',
    'chạy bộ buổi sáng ở công viên có phải đóng phí không',
    'chạy xe ôm công nghệ có cần đăng ký kinh doanh không',
    'chay grab can bang gi',
    'xe chay dien co phai dang ky bien so khong',
    'bị đau ngực trái khi leo cầu thang là bệnh gì',
    'mẹ tôi hay bị khó thở về đêm, khám ở đâu tốt',
    'cao huyết áp có nguy cơ đột quỵ không',
    'tiêm phòng dại sau khi bị chó cắn bao lâu thì tiêm',
    'thuốc chống co giật mua ở đâu',
    'dấu hiệu đột quỵ là gì',
    'xem tin cháy chung cư ở Hà Nội chưa',
    'đọc báo thấy vụ sạt lở ở Lào Cai thương quá',
    'gọi 114 có mất tiền không',
    '113 là số gì',
    'số cấp cứu là bao nhiêu',
    'gọi nhầm 115 có bị phạt không',
    'ông tôi mất do tai nạn giao thông, làm giấy chứng tử ở đâu',
    'mẹ tôi qua đời vì đột quỵ tuần trước, xin tiền mai táng',
    'phim cháy phố có hay không',
    'game bắn súng cho trẻ em có sao không',
    'nồi cơm bị cháy đáy, bảo hành ở đâu',
    'làm cơm cháy chà bông bán online có cần giấy phép',
    'giao bình ga tận nhà số mấy',
    'cúp điện từ sáng, hỏi điện lực ở đâu',
    'mua thuốc trừ sâu ở đâu',
    'bão số 3 khi nào vào đất liền',
    'dự báo lũ tuần sau thế nào',
    'chuẩn bị gì khi bão về',
    'ủng hộ đồng bào lũ lụt ở đâu',
    'tuyển lính cứu hỏa cần điều kiện gì',
    'học y sĩ cấp cứu ở trường nào',
    'cứu tôi với, tôi bị lừa mất 50 triệu',
    'có người giả công an gọi dọa bắt, tôi phải làm sao',
    'bị hack facebook, cứu em với',
    'năm ngoái bị hàng xóm đánh gãy tay, giờ kiện được không',
    'chồng cũ từng bạo hành tôi, giờ muốn giành quyền nuôi con',
    'nhà bị ngập năm ngoái được hỗ trợ không',
    'sát nhập xã thì trưởng thôn có thay không',
    'sap nhap thon co phai lam lai giay to khong',
    'bảo hiểm xe máy có bồi thường khi bị tông không',
    'bị xe tông năm 2023, bên kia không bồi thường thì kiện ở đâu',
    'xe bị chết máy lúc trời mưa ngập',
    'ngập nước đường Trần Lãm, đi lối nào lên phường',
    'mất điện mà đang làm hồ sơ online, có lưu được không',
    'cháy đơn hàng rồi, nghỉ bán',
    'đánh giá mức độ hài lòng dịch vụ công',
    'bắt cóc trực tuyến là gì, làm sao phòng',
    'con trai tôi hay đánh nhau ở trường, tôi phải làm gì',
    'con mèo nhà tôi bị chó cắn chết',
    'rơi mất hồ sơ ở bến xe',
    'rớt hồ sơ xin việc thì làm lại',
    'làm giấy khai sinh cho con, vợ tôi vừa sinh',
    'con tôi học bơi ở hồ bơi phường có an toàn không',
    'đi biển tắm có cần mua bảo hiểm không',
    'nhà tôi gần sông, mùa lũ có được hỗ trợ di dời không',
    'người già sống một mình, có nút gọi cấp cứu không',
    'thủ tục đăng ký nhận con nuôi',
    'chém gió tí thôi',
    'cháy máy in rồi, in giấy tờ ở đâu',
    'tôi bị ngã xe hôm qua, trầy xước nhẹ, có cần báo bảo hiểm không',
]


@pytest.mark.parametrize("text", DANGER_NOW)
def test_danger_now_is_caught(text: str) -> None:
    assert assess(text).level == "now", text


@pytest.mark.parametrize("text", CALM)
def test_look_alikes_are_not_an_alarm(text: str) -> None:
    assert assess(text).level != "now", text


@pytest.mark.parametrize(("text", "first"), [
    ("cháy nhà rồi cứu với", "114"), ("chồng tôi đang cầm dao đòi chém", "113"),
    ("ông tôi ngất xỉu không thở được", "115"), ("lũ quét cuốn trôi nhà, nước lên nhanh", "112"),
    ("có người bị tai nạn nằm giữa đường chảy nhiều máu", "115"),
])
def test_the_most_relevant_number_comes_first(text: str, first: str) -> None:
    d = assess(text)
    assert d.numbers[0] == first
    assert sorted(d.numbers) == sorted(NUMBERS)


@pytest.mark.parametrize(("text", "level"), [
    ("chay nha", "now"), ("chạy nhà", "none"),  # diacritics decide; none typed: assume danger
    ("sập nhà rồi", "now"), ("sáp nhập", "none"), ("sap nhap", "none"),
    ("con hoc lop 1", "none"), ("em bé bị hóc xương", "now"),
    ("tu tu roi tinh", "none"), ("tôi muốn tự tử", "now"),
])
def test_diacritics_disambiguate_and_folded_text_is_read_safely(text: str, level: str) -> None:
    assert assess(text).level == level


@pytest.mark.parametrize("text", [
    "tối qua tôi bị ngất xỉu, giờ vẫn còn chóng mặt",
    "hôm qua con tôi bị chó cắn, vết thương còn sưng",
    "chồng tôi hay đánh tôi, tôi muốn ly hôn",
    "con tôi bị sốt cao quá",
    "nếu nhà bị cháy thì gọi số nào",
    "tôi bị chồng đánh thường xuyên, muốn được trợ giúp pháp lý",
])
def test_a_calmer_setting_gets_an_answer_and_a_line_of_numbers(text: str) -> None:
    assert assess(text).level == "soft"


def test_a_calming_word_never_hides_a_present_signal() -> None:
    assert assess("hôm qua bị đánh, giờ nó lại đang đập cửa").level == "now"
    assert assess("diễn tập phòng cháy xong rồi, giờ nhà tôi cháy thật, cứu với").level == "now"
    assert assess("năm ngoái nhà tôi bị cháy").level == "none"  # over: no line of numbers


@pytest.mark.parametrize("text", [
    # A past event asked about for its paperwork, a death over, the news, a law, a general
    # health question: the answer, without a closing line of emergency numbers (issue 11:
    # 40 % of calm questions got one, too noisy for elderly readers).
    "năm ngoái nhà tôi bị cháy, giờ làm lại sổ đỏ thế nào",
    "năm ngoái tôi bị tai nạn giao thông, giờ xin bảo hiểm thế nào",
    "hồi năm ngoái nhà tôi bị cháy, giờ làm lại căn cước cần gì",
    "bị ngất phải vô cấp cứu thì bảo hiểm y tế trả bao nhiêu phần trăm",
    "hồ sơ hưởng chế độ tử tuất khi chồng mất do tai nạn điện",
    "vụ cháy xưởng gỗ hôm qua ở huyện bên có ai chết không",
    "cháy rừng là gì",
    "con tôi bị đuối nước hồi năm ngoái, giờ vẫn hay sợ nước, có lớp học bơi không",
])
def test_a_calm_question_about_a_danger_over_gets_no_line_of_numbers(text: str) -> None:
    d = assess(text)
    assert d.level == "none", (text, d)
    assert d.calmed  # the engine's own hunch of danger is not shown either (flows)


@pytest.mark.parametrize("text", [
    "thủ tục nhận tiền tử tuất khi chồng bị tai nạn giao thông mất năm ngoái",
    "chồng tôi bị tai nạn giao thông mất, con tôi được hưởng tuất không",
    "Ba tôi là giáo viên nhưng bị tai nạn giao thông mất khi mới 53 tuổi. Trước khi mất, ba "
    "tôi đã tham gia BHXH hơn 30 năm. Gia đình được hưởng chế độ tử tuất thế nào?",
    "anh tôi bị tai nạn giao thông mất ngay tại chỗ, mẹ tôi có được hưởng tử tuất không",
])
def test_a_letter_about_survivor_benefits_after_a_road_death_is_not_an_alarm(text: str) -> None:
    assert assess(text).level == "none", text


@pytest.mark.parametrize("text", [
    # Wordings the blind batches r8/r9 missed, reworded (bench/data/danger_dev_r8_*.yml).
    "xe khach lat o deo, nhieu nguoi bi thuong",
    "ông cụ nằm giữa đường ray, tàu sắp tới rồi",
    "thằng bé tắm ao bị hụt chân chìm mất rồi",
    "tụi nó tạt axit vô mặt ảnh",
    "con bị bạn trai nhốt trong phòng, không cho ra mấy ngày nay",
    "con bị người lạ dụ lên xe rồi",
    "bình gas bắt lửa rồi",
    "nhà bị sét đánh cháy mái rồi",
])
def test_wordings_the_blind_batches_missed_are_danger_now(text: str) -> None:
    assert assess(text).level == "now", text


@pytest.mark.parametrize("text", [
    "chết máy xe giữa đường, gọi cứu hộ ở đâu",
    "sạc điện thoại qua đêm có sợ cháy nổ không",
    "ba em chết đuối hồi em còn nhỏ, giờ em xin học bổng trẻ mồ côi được không",
    "giá vé xe khách tết bị chém quá, báo ai",
    "bếp không bắt lửa, gọi thợ ở đâu",
    "xăng dễ bắt lửa nên cất ở đâu",
])
def test_look_alikes_the_blind_batches_found_raise_no_alarm(text: str) -> None:
    assert assess(text).level != "now", text


def _best_of_three(text: str) -> tuple[float, str]:
    """CPU seconds of this process (the best of three), so a loaded machine does not fail it."""
    times = []
    level = "none"
    for _ in range(3):
        t0 = time.process_time()
        level = assess(text).level
        times.append(time.process_time() - t0)
    return min(times), level


def test_a_64_kib_message_is_read_whole_and_fast() -> None:
    story = ("Tôi năm nay 70 tuổi, ở phường Trần Lãm, con cái đi làm ăn xa. Năm ngoái nhà tôi "
             "bị cháy bếp, đã sửa xong. Xin hỏi thủ tục sáp nhập xã có phải đổi căn cước "
             "không, thẻ BHYT đi cấp cứu có được chi trả không? ")
    calm = (story * 400).encode()[:65536].decode(errors="ignore")
    seconds, level = _best_of_three(calm)
    assert level != "now" and seconds < 0.5
    ending = (story * 400).encode()[:65000].decode(errors="ignore") + " nhà tôi cháy, cứu với!"
    seconds, level = _best_of_three(ending)
    assert level == "now" and seconds < 0.5


@pytest.mark.parametrize("text", [
    "cháy " * 13000, "a" * 65536, "đang bị đánh, " * 5000, "cứu" * 20000,
    "((((" * 16000, "chay nha " * 7000,
])
def test_pathological_messages_stay_fast(text: str) -> None:
    seconds, _ = _best_of_three(text)
    assert seconds < 0.5


# ---------------------------------------------------------------- context rules (2026-12-03)

@pytest.mark.parametrize(("text", "level"), [
    # Typed without diacritics, "mai nha" is a roof ("mái nhà"), not tomorrow ("mai").
    ("chay roi, lua lan len mai nha hang xom", "now"),
    ("mai phuong dien tap chay o cho", "calm"),
    # A robber or an addict asks for money too; a scam is money asked for by a caller.
    ("thằng đó cầm dao đứng trước cửa đòi tiền, vợ con tôi đang trong nhà", "now"),
    ("có người gọi điện đòi tiền viện phí, nói chồng tôi bị tai nạn, có phải lừa không", "calm"),
    # Suicide as a question about other people is calm; one's own intent never is.
    ("ép người khác tự tử thì bị tội gì", "calm"),
    ("tôi muốn tự tử, có bị phạt không", "now"),
    # "tuyên bố" is to declare, not a father.
    ("làm đơn tuyên bố mất tích ông ngoại ở tòa nào", "calm"),
    # Fake liquor is a poison, not fiction.
    ("mấy ông uống rượu giả ở đám giỗ, giờ nằm li bì", "now"),
    # "tối qua" is over; "từ tối qua" counts up to now (someone missing since).
    ("tối qua có vụ va chạm ở ngã tư, có người té, sáng nay công an đã xuống chưa", "calm"),
    ("bà tôi đi chợ từ chiều qua, tới giờ vẫn không thấy về", "now"),
    # "mê man" typed in ASCII inside a message with diacritics is not teencode for "làm".
    ("chồng tôi uống rượu xong giờ mê man, gọi không biết gì", "now"),
    # Fifth conversation trial (2026-12-04). "dang ky" typed without diacritics is "đăng ký",
    # not "đang": it does not make a first-aid course happen now; "đang" still does.
    ("khoa hoc so cuu tre bi duoi nuoc o nha van hoa, dang ky o dau", "calm"),
    ("lop hoc boi cho tre tranh duoi nuoc he nay dang ky the nao", "calm"),
    ("be nha toi dang duoi nuoc o ao sau nha", "now"),
    # "cuu" before a former role is "cựu": "la cuu chien binh" is not "la cứu" (a cry).
    ("toi la cuu giao vien, gio chuyen ve que o voi con", "calm"),
    ("ngoai duong co nguoi la cuu, co ke cam dao", "now"),
    # A lifelong condition ("từ nhỏ", "bẩm sinh") is no emergency; "đi lại" (walking) is not
    # "lại" (again), the turn back to now; a present signal still is.
    ("Em gái tôi 20 tuổi, bị bại não bẩm sinh, đi lại khó, tay chân co quắp. Xin trợ cấp ở đâu?",
     "calm"),
    ("chau bi dong kinh tu nho, di lai kho khan, gio dang co giat khong tinh", "now"),
])
def test_context_rules_found_by_the_probes(text: str, level: str) -> None:
    """``calm``: no alarm (the answer, perhaps with a closing line of numbers)."""
    assert (assess(text).level == "now") == (level == "now")


@pytest.mark.parametrize(("text", "first"), [
    ("ông tôi trượt chân té đập đầu xuống nền, giờ lơ mơ", "115"),  # "đập đầu", not a dam
    ("đường ống khí ở xưởng bị bục, mùi hắc khắp nơi", "114"),
    ("bọn nó kề dao vô cổ chú bảo vệ, đang đòi mở két", "113"),
    ("mặt ba tôi xệ một bên, tay trái yếu hẳn, nói không rõ", "115"),
])
def test_the_right_number_comes_first_for_the_new_phrases(text: str, first: str) -> None:
    found = assess(text)
    assert found.level == "now" and found.numbers[0] == first


@pytest.mark.parametrize("text", [
    # Wordings no phrase of the tables matches (written after probe batch r10, like its
    # misses): the net gives the answer a closing line of numbers.
    "tụi nó vây thằng em tui ngoài bãi giữ xe, đấm đá túi bụi",
    "hàng xóm nói nghe tiếng kêu trong căn hộ tầng 5, cửa khóa trái, không ai ra mở",
])
def test_the_second_net_gives_a_line_of_numbers_to_danger_the_tables_miss(text: str) -> None:
    from nlu.danger_net import very_sure

    d = assess(text)
    assert very_sure(text)
    # A line of numbers after the answer; never the emergency screen on the net's word alone,
    # and the message is routed as calm (the level stays "none").
    assert d.hunch and d.level == "none" and d.cue == "second net"
    assert sorted(d.numbers) == sorted(NUMBERS)


@pytest.mark.parametrize("text", [
    "chạy nhà", "tu tu roi tinh",  # a look-alike; a few folded words
    "năm ngoái nhà tôi bị cháy, giờ làm lại sổ đỏ thế nào",  # a calm the tables read
    "làm căn cước cho con ở đâu", "con tôi 5 tuổi thì làm hộ chiếu thế nào",
])
def test_the_second_net_stays_quiet_on_calm_messages(text: str) -> None:
    assert not assess(text).hunch
