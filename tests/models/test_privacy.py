"""The personal-data scrubber on real-looking notes, Chinese and English: what goes, and what stays."""

from __future__ import annotations

import pytest

from models.privacy import scrub

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        # phone numbers, however they are written or spoken
        ("我的电话13912345678，请回电。", ["13912345678"], ["我的电话[电话]，请回电。"]),
        ("电话 +86 139-1234-5678 或 (+86)139 1234 5678", ["1234", "5678"], ["电话 [电话] 或 [电话]"]),
        ("座机0571-87654321，也可以打(0571) 8765 4321", ["8765"], ["座机[电话]，也可以打[电话]"]),
        ("手机１３９１２３４５６７８", ["１３９", "139"], ["手机[电话]"]),
        ("我的电话是一三九一二三四五六七八，打过来就行", ["一三九"], ["我的电话是[电话]，打过来就行"]),
        ("号码幺三八 一二三四 五六七八", ["幺三八", "五六七八"], ["号码[电话]"]),
        ("call me on 139 1234 5678 or 0571-87654321", ["1234", "8765"], ["call me on [phone] or [phone]"]),
        ("my number is one three nine one two three four five six seven eight", ["nine one"], ["[phone]"]),
        # ID-card and other long numbers
        (
            "身份证号33010219900307123X，复印件已交",
            ["33010219900307123X"],
            ["身份证号[身份证号]，复印件已交"],
        ),
        ("身份证 330102 19900307 1234", ["19900307"], ["身份证 [身份证号]"]),
        ("ID 33010219900307123x please", ["123x"], ["ID [ID number] please"]),
        ("电费户号 330012345678 银行卡 6222 0212 3456 7890 123", ["330012345678", "6222"], ["户号 [号码]"]),
        # e-mail and messaging accounts
        (
            "邮箱 wang.xiuying@example.com，微信号 wxid_k3m9q2",
            ["wang.xiuying", "wxid_k3m9q2"],
            ["微信号 [账号]"],
        ),
        (
            "email me at li.ming+311@mail.example.org, QQ 123456789",
            ["li.ming", "123456789"],
            ["QQ [account]"],
        ),
        # names the speaker gives: the name goes, the sentence stays
        (
            "我叫王秀英，是河西村的。王秀英家门口的路灯坏了。",
            ["王秀英"],
            ["我叫[姓名]，是河西村的。[姓名]家门口"],
        ),
        ("我是张伟，住在五星路。", ["张伟"], ["我是[姓名]，住在五星路。"]),
        ("我是老李，村口的桥裂了。", ["老李"], ["我是[姓名]，村口的桥裂了。"]),
        ("我姓陈，河道里全是垃圾。", ["陈，"], ["我姓[姓名]，河道里全是垃圾。"]),
        ("本人欧阳明华反映：公交车太少。", ["欧阳明华"], ["本人[姓名]反映：公交车太少。"]),
        ("姓名：赵丽 联系人：孙大伟", ["赵丽", "孙大伟"], ["姓名：[姓名] 联系人：[姓名]"]),
        (
            "My name is John Smith and the bus never comes.",
            ["John", "Smith"],
            ["My name is [name] and the bus"],
        ),
        ("I'm Li Ming from Hexi Village; I am Wang Fang.", ["Li Ming", "Wang Fang"], ["from Hexi Village"]),
        ("Hello, I’m Mary. The road is flooded.", ["Mary"], ["Hello, I’m [name]. The road is flooded."]),
        # house numbers: the number goes, the road stays
        ("我家在五星路12号，路面塌了。", ["12号"], ["我家在五星路[门牌号]，路面塌了。"]),
        ("住在幸福小区3幢502室，楼道灯不亮", ["3幢", "502"], ["住在幸福小区[门牌号]，楼道灯不亮"]),
        ("河西村5栋2单元301的下水道堵了", ["5栋", "301"], ["河西村[门牌号]的下水道堵了"]),
        ("三号楼前面的井盖丢了", ["三号楼"], ["[门牌号]前面的井盖丢了"]),
        ("I live at 12 Wuxing Road, Room 502.", ["12 ", "502"], ["I live at Wuxing Road, [house number]."]),
        ("The light at No. 12 is out", ["12"], ["The light at [house number] is out"]),
        ("Flat 3B, Building 7 has no water", ["3B", "7"], ["[house number], [house number] has no water"]),
    ],
)
def test_personal_data_is_scrubbed_and_the_sentence_kept(text: str, gone: list[str], kept: list[str]) -> None:
    cleaned = scrub(text)
    for part in gone:
        assert part not in cleaned, cleaned
    for part in kept:
        assert part in cleaned, cleaned


@pytest.mark.parametrize(
    "text",
    [
        "2026年12月7日下午，五星路上的路灯又坏了。",
        "12月7号下午停电了两个小时，18号晚上又停了。",
        "修路花了300元，等了3天，5路公交车还是不来。",
        "地铁5号线的站口到五星路要走20分钟。",
        "村里有120户人家，两栋楼都停电，三座桥都坏了。",
        "我是河西村村民，想反映一下村口的垃圾问题。",
        "我是周边的居民，请联系人大代表。",
        "我叫了物业，可是没人来。",
        "路牌上的名字写错了，应该是五星路。",
        "电压只有180伏，冰箱用不了。今年第2次了。",
        "The bus No. 5 has not come for 3 days; we waited 40 minutes on 2026-12-07 at 10:00.",
        "I am worried: 30 households on Wuxing Road paid 1500 yuan for nothing.",
        "I'm not sure who to ask. Route 12 is late every day.",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert scrub(text) == text


def test_what_the_submitter_gave_goes_wherever_it_appears() -> None:
    text = "路灯坏了，王秀英说的。地址河西村3组15号，电话 139 1234 5678。"
    cleaned = scrub(text, names=["王秀英"], phones=["13912345678"], addresses=["河西村3组15号"])
    assert cleaned == "路灯坏了，[姓名]说的。地址[个人信息]，电话 [电话]。"


def test_english_text_gets_english_markers_and_chinese_text_chinese_ones() -> None:
    assert scrub("call 13912345678") == "call [phone]"
    assert scrub("请打13912345678") == "请打[电话]"


def test_a_word_that_only_begins_like_a_name_is_left_alone_however_long() -> None:
    # 我是 + 马上过: three characters after a surname, but 马上 ("at once") is no name.
    assert scrub("我是马上过来反映的，路灯坏了") == "我是马上过来反映的，路灯坏了"


@pytest.mark.parametrize(
    "text",
    [
        "My name is Anna Zoe. I'm Zoe. Please write to Anna Zoe.",
        "我叫王秀英，姓名：秀英。王秀英家门口的路灯坏了",
    ],
)
def test_a_name_said_again_goes_whole_even_when_a_shorter_name_is_part_of_it(text: str) -> None:
    """The longer name is replaced first: a shorter one inside it must not leave its other half behind."""
    cleaned = scrub(text)
    assert "Anna" not in cleaned and "王" not in cleaned
    assert cleaned.count("[name]") + cleaned.count("[姓名]") == 3
