"""Fixtures for the classifier tests: a small hand-written bilingual training set and models on it."""

from __future__ import annotations

import pytest

from classify.model import Classifier
from classify.train import Example, read_labelled_csv, seed_paths, train

# Hand-written villagers' suggestions, six per category and language: enough for the obvious cases.
HAND_WRITTEN: dict[str, list[str]] = {
    "transport": [
        "村口的公路坑坑洼洼，下雨天电瓶车经常摔倒，希望尽快修路。",
        "公交车太少了，我们村到镇上一个小时才一班，能不能加几班车？",
        "学校门口没有红绿灯，放学时车辆太多，孩子过马路很危险。",
        "菜市场门口车辆乱停乱放，道路堵得走不过去。",
        "桥面太窄，两辆货车会车非常困难，建议拓宽桥梁。",
        "山路急弯处没有护栏和减速带，晚上开车容易出事故。",
        "The road at the village entrance is full of potholes and cyclists keep falling off.",
        "The bus to town only comes once an hour, please add more buses.",
        "We need a traffic light outside the primary school, crossing the road is dangerous.",
        "Cars park all over the road at the market and block the traffic every morning.",
        "The bridge is too narrow for two trucks to pass, please widen it.",
        "There is no guard rail or speed bump on the sharp bend of the mountain road.",
    ],
    "urban_construction": [
        "老旧小区的房屋墙体开裂，下雨天漏水，请求改造危房。",
        "村里的自来水管道老化，经常停水，水压也很低。",
        "新建的安置房迟迟不能交房，工地停工半年了。",
        "村道边的公共空地被人盖了违章建筑，请尽快拆除。",
        "小区的下水道经常堵塞，污水漫到楼道里。",
        "希望村里建一个文化广场，让老人有地方活动。",
        "The walls of the old flats are cracked and the roof leaks when it rains.",
        "The water pipes in our village are old and the water pressure is very low.",
        "The resettlement housing still has not been handed over, building work stopped months ago.",
        "Someone put up an illegal building on the public land next to the village road.",
        "The drains in our estate keep getting blocked and sewage comes into the stairwell.",
        "Please build a small square in the village so old people have somewhere to meet.",
    ],
    "environment": [
        "河里漂满了垃圾，水发黑发臭，夏天蚊子特别多。",
        "附近的化工厂晚上偷偷排放废气，气味刺鼻，大家都不敢开窗。",
        "养猪场的粪水直接排进小溪，污染了农田。",
        "垃圾桶好几天没人清运，垃圾堆成小山，臭气熏天。",
        "有人在山上乱砍树木，还偷偷焚烧秸秆，烟雾很大。",
        "工厂的机器夜里噪音太大，吵得大家睡不着觉。",
        "The river is full of rubbish and the water is black and smells terrible.",
        "The chemical factory releases fumes at night and the smell is awful.",
        "The pig farm dumps manure straight into the stream and pollutes the fields.",
        "Nobody has collected the bins for days and the rubbish is piling up.",
        "People are cutting down trees on the hill and burning straw, the smoke is heavy.",
        "The factory machines are so noisy at night that nobody can sleep.",
    ],
    "power": [
        "我们村这个月已经停电三次了，冰箱里的东西都坏了。",
        "电压太低，晚上空调和电饭煲都带不动。",
        "村口的电线杆歪了，电线垂得很低，很危险。",
        "停电了也不提前通知，家里的养殖场损失很大。",
        "变压器老化，一到夏天用电高峰就跳闸。",
        "路边的电线被树枝压着，刮风的时候冒火花。",
        "Our village has had three power cuts this month and the food in the fridge went off.",
        "The voltage is too low in the evening to run the air conditioner.",
        "The electricity pole at the village entrance is leaning and the wires hang very low.",
        "They cut the power without any notice and my farm lost a lot.",
        "The old transformer trips every summer when everyone uses electricity.",
        "Tree branches are pressing on the power lines and they spark in the wind.",
    ],
    "other": [
        "我家的低保申请交上去三个月了，一直没有消息。",
        "村里的卫生室医生太少，老人看病要跑到县城。",
        "孩子上学的学费补助什么时候发放？",
        "希望镇上多组织一些老年人的文体活动。",
        "养老保险的缴费标准是多少，去哪里办理？",
        "村委会的账目不公开，村民有意见。",
        "My application for the minimum living allowance has had no answer for three months.",
        "The village clinic has too few doctors and old people must go to the county town.",
        "When will the school fee subsidy for the children be paid?",
        "Please organise more cultural activities for the elderly in the township.",
        "How much is the pension contribution and where do I apply?",
        "The village committee does not publish its accounts and villagers are unhappy.",
    ],
}

# Sentences not in the training set whose category is obvious, in both languages.
OBVIOUS: list[tuple[str, str]] = [
    ("又停电了，村里一晚上都没有电。", "power"),
    ("Another power cut last night, the whole village had no electricity.", "power"),
    ("河里都是垃圾，水又黑又臭。", "environment"),
    ("The stream is full of rubbish and smells.", "environment"),
    ("公交车太少了，希望增加班次。", "transport"),
    ("Please add more buses to town.", "transport"),
]


def hand_written_examples() -> list[Example]:
    """The hand-written set as Examples."""
    return [Example(text, label) for label, texts in HAND_WRITTEN.items() for text in texts]


@pytest.fixture(scope="session")
def small_examples() -> list[Example]:
    """60 hand-written examples, 12 per category, half Chinese, half English."""
    return hand_written_examples()


@pytest.fixture(scope="session")
def small_classifier(small_examples: list[Example]) -> Classifier:
    """A classifier trained on the hand-written set."""
    return train(small_examples)


@pytest.fixture(scope="session")
def seed_examples() -> list[Example]:
    """The shipped seed data (classify/seed/*.csv): part of the package, so its absence is a failure."""
    paths = seed_paths()
    if not paths:
        pytest.fail("no seed CSVs in classify/seed/: the package ships them")
    return read_labelled_csv(paths)


@pytest.fixture(scope="session")
def seed_classifier(seed_examples: list[Example]) -> Classifier:
    """A classifier trained on the seed data."""
    return train(seed_examples)
