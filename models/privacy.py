"""Personal data in free text (Chinese and English): the patterns, and a scrubber for public views.

A villager's note, typed or transcribed, often carries the speaker's name ("我叫王秀英"), phone
number (also spoken as "一三八…"), ID-card number, e-mail and house number ("五星路12号3幢502室").
``scrub`` replaces those with a short marker and leaves the rest of the sentence, so a public feed
can show what the note is about without who sent it. It errs on the side of removing: a date
spoken as "7号下午" stays, but an ambiguous "12号" goes. The phone patterns are also what
api/redaction.py keeps out of the logs (one home for them).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

#: Chinese mobile numbers: 11 digits from 13x-19x, optionally +86 / (86), spaces or dashes (no dots:
#: an IP address such as 192.168.10.100 in a log line is no phone number).
MOBILE = re.compile(r"(?<!\d)(?:\(?\+?86\)?[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)")
#: Landlines with their area code: 0571-87654321, (0571) 8765 4321, 010 1234 5678.
LANDLINE = re.compile(r"(?<!\d)(?:\(0\d{2,3}\)|0\d{2,3})[\s-]?\d{3,4}[\s-]?\d{4}(?!\d)")
#: Resident ID-card numbers (18 characters, the last may be X), also typed in groups.
ID_CARD = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}[\s-]?(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    r"[\s-]?\d{3}[\dXx](?![0-9A-Za-z])"
)
#: Bank cards and account numbers typed in groups of four: 6222 0212 3456 7890 123.
DIGIT_GROUPS = re.compile(r"(?<!\d)\d{4}(?:[\s-]\d{4}){3,}(?:[\s-]\d{1,4})?(?!\d)")
#: Any other long run of digits (old 15-digit IDs, bank cards, account numbers).
LONG_NUMBER = re.compile(r"(?<!\d)\d{9,}(?!\d)")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
#: Digits spoken as Chinese numerals (一三八…, 幺 for one), seven or more in a row.
SPOKEN_DIGITS_ZH = re.compile(r"[零〇○一二三四五六七八九幺](?:[\s,，、-]?[零〇○一二三四五六七八九幺]){6,}")
_EN_DIGIT = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)"
#: Digits spelt out in English ("one three eight …"), seven or more in a row.
SPOKEN_DIGITS_EN = re.compile(rf"\b{_EN_DIGIT}(?:[\s,-]+{_EN_DIGIT}){{6,}}\b", re.IGNORECASE)
#: A messaging account given after its label (微信号 / QQ / WeChat ID): the label stays.
ACCOUNT = re.compile(
    r"(?P<lead>(?:微信号?|QQ号?|WeChat(?:\s*ID)?|wechat(?:\s*id)?)\s*(?:号码|是|为|:|：)?\s*)"
    r"(?P<value>[A-Za-z][A-Za-z0-9_-]{4,19}|\d{5,12})"
)

# --- house numbers --------------------------------------------------------------------------------

_DAY_AFTER = r"(?!线|上午|下午|晚上|早上|凌晨|中午|傍晚|那天|当天)"  # "7号下午" is a date, "5号线" a line
_UNIT = rf"(?:号楼|号院|号{_DAY_AFTER}|幢|栋|单元|室)"
_UNIT_ZH_NUMERAL = rf"(?:号楼|号院|号{_DAY_AFTER}|单元|室)"  # "两栋楼" counts buildings
_NUMBER = r"\d+(?:[-－]\d+)*"
_MEASURE = "元块角天年月日号个次人户米斤度岁小分秒辆只条路班趟层楼"  # "12号楼3天", "3号 300元"
#: 12号, 3幢502室, 5栋2单元301, 12-3号, 三号楼; not 12月7号 (a date), 5号线, 5路, 3天, 300元.
HOUSE_NUMBER_ZH = re.compile(
    rf"(?<![\d月])(?:{_NUMBER}\s*{_UNIT}|[零一二两三四五六七八九十百]+{_UNIT_ZH_NUMERAL})"
    rf"(?:\s*{_NUMBER}\s*(?:{_UNIT}|层|楼))*(?:\s*\d{{1,5}}(?![\d.]|\s*[{_MEASURE}]))?"
)
#: No. 12, #12, Room 502, Flat 3B, Apt 4-2, Unit 5, Building 3 (not "bus No. 5").
HOUSE_NUMBER_EN = re.compile(
    r"(?<!bus )(?<!Bus )(?<!line )(?<!Line )(?<!route )(?<!Route )"
    r"(?:\b(?:No|NO|no)\.?\s*|#\s*|\b(?i:room|rm|flat|apt|apartment|unit|building|bldg|block|house)\.?\s*#?\s*)"
    r"\d+[A-Za-z]?(?:-\d+)*\b"
)
_ROAD_WORD = r"(?:Road|Rd|Street|St|Lane|Ln|Avenue|Ave|Alley|Way|Drive|Dr|Lu|Jie|Xiang|Nong)"
#: The number in front of a road name: "12 Wuxing Road" keeps "Wuxing Road".
NUMBER_BEFORE_ROAD = re.compile(rf"\b\d+[A-Za-z]?(?:-\d+)*,?\s+(?=(?:[A-Z][a-z]+\s+){{1,3}}{_ROAD_WORD}\b)")

# --- names --------------------------------------------------------------------------------------

_HAN = "\u4e00-\u9fff"
# Common surnames (compound ones first). Characters that are more often ordinary words after
# 我是 (路, 农, 时, 和, 全 …) are left out on purpose.
_COMPOUND_SURNAMES = "欧阳|司马|上官|诸葛|东方|皇甫|尉迟|公孙|慕容|令狐|夏侯|长孙|宇文|司徒|端木"
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵钱严覃武戴"
    "莫孔汤康施牛樊葛邢齐乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿兰焦俞左柳甘祝包尚符舒阮柯纪梅童凌毕季裴"
    "霍涂苗谷盛曲翁冉骆蓝游辛靳柴蒙鲍喻祁蒲滕屈饶牟艾尤穆卓缪褚娄窦戚岑费卜晏瞿桂佟臧闵苟邬卞姬"
    "仇栾隋刁巫寇桑郎甄丛仲虞敖巩佘邝楼胥"
)
_SURNAME = rf"(?:{_COMPOUND_SURNAMES}|[{_SURNAMES}])"
# Characters that end a name: particles, verbs and the words of places and addresses.
_NOT_IN_NAME = (
    "的了是在住家村镇乡街路区县市省组队社户里楼号来去说想要和跟与给对向从到也都就还又很这那个们人"
    "我你他她它反映问题有没不因为所以但天年月日时点分庄屯店桥湾坝岭山河港浜弄巷湖塘埠"
)
_GIVEN = rf"(?:(?![{_NOT_IN_NAME}])[{_HAN}])"
# Two-character words that begin with a surname character but are no name after 我是/我叫.
_NOT_NAMES = frozenset(
    (
        "周边", "周围", "周末", "高中", "高龄", "高层", "黄昏", "张贴", "马上", "马路", "林区", "林场",
        "江边", "白天", "田里", "田地", "许多", "温州", "金华", "宁波", "江西", "江苏", "湖南", "石头",
        "程序", "方面", "余下", "何时", "任何", "曾经", "当地", "包括", "钟头", "毛病", "汤圆", "龙头",
        "苏州", "常州", "杨树", "柳树", "梅雨", "高速", "高压", "高兴", "康复", "齐全", "董事", "孙子",
        "夏天", "陆续", "罗列", "叶子", "韩国", "孟子", "武汉", "严重", "秦岭", "岳父", "祝贺", "甘肃",
        "包子", "申请", "范围", "金额", "石子",
    )
)  # fmt: skip

#: After these, what follows is a name (a label says so): 姓名王秀英, 名字是李明, 联系人：张伟.
_LABEL_ZH = r"(?:姓名\s*(?:是|叫|为|:|：)?|(?:名字|联系人|户主)\s*(?:是|叫|为|:|：))\s*"
#: After these, a name follows if it starts with a surname: 我叫王秀英, 我是老李, 本人张伟, 名叫李明.
_SELF_ZH = r"(?:我叫|我是|俺叫|俺是|本人是?|我这边是|名叫)\s*"
_SELF_EN = r"\b(?:I\s+am|I['’]m|Im)\s+"
_NAME_EN_LABEL = r"(?i:\bmy\s+name\s+is|\bmy\s+name's|\bname\s*:)\s*"
_EN_NAME_WORD = r"[A-Z][a-z'’-]+"
_EN_STOP = (
    "and|from|in|at|of|i|my|the|to|is|live|living|calling|here|who|with|a|an|but|so|please|"
    "village|road|street|resident|farmer|worried|not|very|writing|reporting"
)

NAME_ZH_LABELLED = re.compile(rf"(?P<lead>{_LABEL_ZH})(?P<name>[{_HAN}]{_GIVEN}{{1,3}})")
NAME_ZH_SELF = re.compile(
    rf"(?P<lead>{_SELF_ZH})(?P<name>(?:[小老阿]{_SURNAME}(?!{_GIVEN})|{_SURNAME}{_GIVEN}{{1,2}}))"
)
NAME_ZH_SURNAME = re.compile(rf"(?P<lead>我姓\s*)(?P<name>{_SURNAME})")
NAME_EN_LABELLED = re.compile(
    rf"(?P<lead>{_NAME_EN_LABEL})(?P<name>(?:[{_HAN}]{{2,4}}|(?!(?i:{_EN_STOP})\b)[A-Za-z][A-Za-z'’-]*"
    rf"(?:\s+(?!(?i:{_EN_STOP})\b)[A-Za-z][A-Za-z'’-]*){{0,2}}))"
)
NAME_EN_SELF = re.compile(
    rf"(?P<lead>{_SELF_EN})(?P<name>(?:[{_HAN}]{{2,4}}|(?!(?i:{_EN_STOP})\b){_EN_NAME_WORD}"
    rf"(?:\s+(?!(?i:{_EN_STOP})\b){_EN_NAME_WORD}){{0,2}}))"
)
_HAN_TEXT = re.compile(rf"[{_HAN}]")


@dataclass(frozen=True)
class Markers:
    """What stands in for each kind of personal data (in the language of the text)."""

    name: str
    phone: str
    id_number: str
    number: str
    email: str
    account: str
    house_number: str
    personal: str


ZH = Markers("[姓名]", "[电话]", "[身份证号]", "[号码]", "[邮箱]", "[账号]", "[门牌号]", "[个人信息]")
EN = Markers("[name]", "[phone]", "[ID number]", "[number]", "[email]", "[account]", "[house number]",
             "[personal data]")  # fmt: skip


def ascii_digits(text: str) -> str:
    """``text`` with every decimal digit (full-width １２３, other scripts) written as 0-9."""
    return re.sub(r"\d", lambda m: str(unicodedata.decimal(m.group(), 0)), text)


def markers_for(text: str) -> Markers:
    """Chinese markers for a text with Chinese characters in it, else English ones."""
    return ZH if _HAN_TEXT.search(text) else EN


def _keep_lead(marker: str, names: list[str] | None = None) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name in _NOT_NAMES or name[:2] in _NOT_NAMES:
            return match.group(0)
        if names is not None and len(name) >= 2:
            names.append(name)
        return match.group("lead") + marker

    return replace


def _replace_known(text: str, values: Iterable[str | None], marker: str) -> str:
    known = {ascii_digits(v.strip()) for v in values if v and len(v.strip()) >= 2}
    for value in sorted(known, key=len, reverse=True):
        text = text.replace(value, marker)
    return text


def scrub(
    text: str,
    *,
    names: Iterable[str | None] = (),
    phones: Iterable[str | None] = (),
    addresses: Iterable[str | None] = (),
) -> str:
    """``text`` without phone numbers, ID-card and other long numbers, e-mails, messaging accounts,
    names given by the speaker and house numbers. Known ``names``, ``phones`` and ``addresses``
    (what the submitter gave in the form) go wherever they appear. The rest of each sentence stays.
    """
    text = unicodedata.normalize("NFC", ascii_digits(text))
    m = markers_for(text)
    text = _replace_known(text, addresses, m.personal)
    text = _replace_known(text, phones, m.phone)
    text = _replace_known(text, names, m.name)
    text = EMAIL.sub(m.email, text)
    text = ACCOUNT.sub(lambda x: x.group("lead") + m.account, text)
    text = ID_CARD.sub(m.id_number, text)
    text = DIGIT_GROUPS.sub(m.number, text)
    text = MOBILE.sub(m.phone, text)
    text = LANDLINE.sub(m.phone, text)
    text = LONG_NUMBER.sub(m.number, text)
    text = SPOKEN_DIGITS_ZH.sub(m.phone, text)
    text = SPOKEN_DIGITS_EN.sub(m.phone, text)
    said: list[str] = []
    for pattern in (NAME_ZH_LABELLED, NAME_ZH_SELF, NAME_EN_LABELLED, NAME_EN_SELF):
        text = pattern.sub(_keep_lead(m.name, said), text)
    text = NAME_ZH_SURNAME.sub(_keep_lead(m.name), text)
    for name in sorted(set(said), key=len, reverse=True):  # the same name said again later
        text = text.replace(name, m.name)
    text = HOUSE_NUMBER_ZH.sub(m.house_number, text)
    text = HOUSE_NUMBER_EN.sub(m.house_number, text)
    return NUMBER_BEFORE_ROAD.sub("", text)


__all__ = [
    "DIGIT_GROUPS",
    "EMAIL",
    "EN",
    "ID_CARD",
    "LANDLINE",
    "LONG_NUMBER",
    "MOBILE",
    "ZH",
    "Markers",
    "ascii_digits",
    "markers_for",
    "scrub",
]
