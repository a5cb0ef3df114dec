"""Word lists for the synthetic demo data: names, home regions, companies, estates, phone prefixes.

Everything here is made up or generic; no entry names a real person or a real company.
"""

import numpy as np


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def numbers(text: str) -> np.ndarray:
    return np.array(text.split(), dtype=float)


def _weighted(text: str) -> tuple[tuple[int, float], ...]:
    """'code:weight code:weight …' (# starts a comment to the end of the line)."""
    pairs = " ".join(line.split("#")[0] for line in text.splitlines()).split()
    return tuple((int(code), float(weight)) for code, weight in (p.split(":") for p in pairs))


# Surnames, roughly weighted as in Shandong villages (the local ones — 逄, 雒, 薛, 臧 — included).
SURNAMES = _words(
    "王 张 李 刘 陈 杨 赵 孙 徐 于 高 马 宋 薛 丁 姜 韩 周 吴 郭 胡 朱 林 何 董 逄 臧 袁 邢 殷 "
    "庄 崔 迟 魏 雒 唐 石 郎 田 法 宗 邱 岳 柴 曹 冯 程 蒋 罗 谢 梁 许 邓 彭 曾 萧 潘 杜 范 贾"
)
SURNAME_WEIGHTS = np.array(
    _words(
        "9 7.5 7 6.5 4 3.5 3.5 3 3 2.8 2.6 2.2 2 1.8 1.8 1.8 1.6 1.6 1.5 1.5 "
        "1.4 1.3 1.3 1.2 1.2 0.9 0.8 1 0.8 0.7 0.8 0.9 0.6 0.8 0.4 0.8 0.9 0.4 1 0.3 "
        "0.5 0.6 0.6 0.4 1 1 0.8 0.8 0.8 0.7 0.8 0.9 0.6 0.6 0.7 0.4 0.7 0.7 0.6 0.7"
    ),
    dtype=float,
)
COMPOUND_SURNAMES = _words("欧阳 司马 上官 诸葛 公孙 东方")
COMPOUND_SHARE = 0.004

GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉鹏宇浩晨欣怡佳子涵梓轩思雨博鑫"
    "俊凯旭东海波峰春燕丹梅琳晓婷雪慧颖志国成立新亮斌飞林庆永福生泽瑞嘉铭昊然宁安心悦诗可一诺晴"
)

# Mobile phone number prefixes (first three digits).
PHONE_PREFIXES = np.array(
    _words(
        "130 131 132 133 134 135 136 137 138 139 150 151 152 155 156 157 158 159 166 171 "
        "173 175 176 177 178 180 181 182 183 185 186 187 188 189 191 198 199"
    ),
    dtype=np.int64,
)

# Locals: Wangtai was part of 胶南市 (370284) until 2012, then of 黄岛区 (370211); id numbers keep the
# code of first registration, so most locals born before 2012 carry 370284.
LOCAL_OLD_REGION = 370284
LOCAL_REGION = 370211
LOCAL_OTHER_REGIONS = _weighted("370211:0.6 370281:0.15 370283:0.1 370202:0.05 370214:0.1")

# Newcomers' home regions (county-level division codes) with weights.
NEWCOMER_REGIONS = _weighted(
    """
    371302:3 371321:2.5 371322:2 371323:2.5 371324:2  # 临沂
    371325:1.8 371326:2 371327:2.4 371328:1.5 371329:1.5  # 临沂
    370702:1.2 370725:1 370781:1.2 370782:2.2 370784:1.4 370785:1.6 370786:0.8  # 潍坊
    371702:1.4 371721:1.6 371722:1.5 371723:0.9 371724:1 371725:1.3 371726:1 371728:0.8  # 菏泽
    371102:1.2 371121:1.6 371122:2.4  # 日照
    370811:0.8 370883:0.6 370826:0.5 370902:0.5 370982:0.5  # 济宁, 泰安
    370102:0.3 370112:0.3 370302:0.4 370402:0.4 370502:0.3 370602:0.4 371002:0.2 371402:0.6 371502:0.7
    371602:0.4 370281:0.8 370283:1 370285:0.6  # other Shandong cities, other parts of Qingdao
    411302:1.2 411602:1.3 411621:0.9 411402:1 411421:0.7 411702:1 411721:0.6 410102:0.3 411502:0.7  # 河南
    341202:1 341221:1 341222:0.8 341302:0.9 341321:0.5 341602:0.8 340102:0.2  # 安徽
    320302:0.6 320321:0.5 320322:0.5 321302:0.8 320703:0.4 320722:0.5  # 江苏
    130402:0.6 130502:0.5 130902:0.6 130102:0.3  # 河北
    230102:0.6 230202:0.6 231202:0.7 230302:0.5  # 黑龙江
    511302:0.6 511702:0.5 511602:0.5 510107:0.2  # 四川
    620102:0.4 620502:0.6 621102:0.6  # 甘肃
    140105:0.4 140212:0.3 220102:0.4 220202:0.3 210102:0.3 210402:0.2 520102:0.3 530102:0.2
    420102:0.3 430102:0.2 360102:0.2 150102:0.2 610102:0.3 500101:0.3 450102:0.1 350102:0.1
    """
)

# Company names: 青岛 + a fictitious brand + the industry (textile machinery dominates Wangtai).
BRANDS = _words(
    "恒泰 鑫隆 华纺 宏达 昌盛 瑞丰 金泰 永盛 海润 佳诚 凯航 润泽 德昌 广源 信诚 盛世 万通 嘉禾 同创 宏图 "
    "锦华 联创 晟泰 汇通 泰和 乾元 天诚 鼎盛 博远 中正 兴业 明辉 新航 丰源 华泰 聚力 远航 东升 祥瑞 福润 "
    "鸿运 腾飞 九洲 安泰 益丰 合力 正阳 创达 荣昌 宝丰 大成 诚信 立邦 康达 美嘉 奥华 科创 海川 银河 金桥 "
    "长城 百川 胜利 恒昌 华鑫 顺达 骏马 天宇 东岳 齐鲁 琅琊 泰山 崂峰 珠山 灵山 琅琊台 铁橛 藏马"
)
INDUSTRIES = (
    ("纺织机械有限公司", 22),
    ("纺机配件有限公司", 14),
    ("服装有限公司", 7),
    ("服饰有限公司", 5),
    ("光电显示科技有限公司", 6),
    ("电子科技有限公司", 6),
    ("精密机械有限公司", 6),
    ("新材料有限公司", 4),
)

ESTATE_PREFIXES = _words(
    "台东 王台 金台 祥和 幸福 阳光 锦绣 和谐 滨河 东城 西城 新城 康乐 丰泽 福泰 紫荆 盛景 绿苑 翠湖 惠民"
)
ESTATE_SUFFIXES = _words("花园 小区 家园 佳苑 名居 新苑 雅居 公寓 嘉园 华府")

AREA_TOWN = "驻地片区"
AREAS_BY_DIRECTION = ("东部片区", "北部片区", "西部片区", "东南片区", "西南片区")  # E, N, W, S east/west half
