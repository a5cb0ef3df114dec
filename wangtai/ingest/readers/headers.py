"""The column names each feed accepts in an Excel or CSV file, in one place (README: 接入 Excel / CSV).

Every column of a feed (wangtai/contract.py) is recognised by its contract name and by the Chinese names
below; an administrator adds more in ``reference/column_names.toml`` (or ``.csv``). Names are compared
after normalisation (``header_key``): full-width → half-width, spaces and line breaks removed, a required
marker ``*`` and a trailing ``(说明)`` dropped, letters lower-cased — so ``联系电话（手机）``, ``* 姓名`` and
``身份\\n证号`` are recognised as written in real sheets.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from wangtai.contract import FEEDS, Feed
from wangtai.ingest.errors import IngestError

ID_NAMES = ("身份证号", "公民身份号码", "证件号码", "身份证", "身份证号码")
ID_TEXT = "18 位公民身份号码，末位可为 X"
COMMUNITY_NAMES = ("社区代码", "村居代码", "社区编码", "村居编码")
COMMUNITY_TEXT = "12 位村（居）代码，须在社区参考数据中"
UNIT_TEXT = "管理单元编码，须在管理单元参考数据中"

# feed → column → (accepted Chinese names, the first one is the column's label; what the column holds)
COLUMNS: dict[str, dict[str, tuple[tuple[str, ...], str]]] = {
    "residents": {
        "id_number": (ID_NAMES, ID_TEXT),
        "name": (("姓名",), "姓名"),
        "phone": (
            ("联系电话", "手机号码", "电话", "手机号", "手机", "联系方式"),
            "11 位手机号码（可带空格、短横线或 +86）",
        ),
        "population_type": (("人口类型",), "户籍人口或流动人口（流动人口即新市民）"),
        "community_code": (COMMUNITY_NAMES, COMMUNITY_TEXT),
        "unit_id": (("管理单位编码", "管理单元编码", "管理单位代码"), UNIT_TEXT),
        "house_id": (("房屋编号", "房屋编码"), "所住房屋的编号"),
        "lat": (("纬度",), "居住地纬度（WGS84 小数，如 36.05）"),
        "lon": (("经度",), "居住地经度（WGS84 小数，如 120.01）"),
        "reason": (("来源原因", "流入原因", "来本地原因"), "流动人口来本地的原因"),
        "arrival_date": (("来到本地日期", "到达日期", "来本地日期", "流入日期"), "流动人口来到本地的日期"),
        "status": (("居住状态",), "在住或离开"),
        "updated_at": (("更新时间",), "这条记录最后更新的时间，不能晚于现在"),
    },
    "houses": {
        "house_id": (("房屋编号", "房屋编码"), "房屋编号，文件内不重复"),
        "community_code": (COMMUNITY_NAMES, COMMUNITY_TEXT),
        "estate": (("楼盘", "楼盘名称", "小区", "小区名称"), "所属楼盘（小区），没有可空"),
        "address": (("地址", "房屋地址", "详细地址"), "房屋地址"),
        "lat": (("纬度",), "房屋纬度（WGS84 小数，如 36.05）"),
        "lon": (("经度",), "房屋经度（WGS84 小数，如 120.01）"),
        "house_type": (("房屋类型", "房屋用途"), "房屋用途"),
        "archive_status": (("建档状态", "档案状态"), "一户一档的建档状态"),
        "occupants": (("居住人数", "实住人数"), "实际居住人数，不小于 0 的整数"),
        "surveyed_at": (("调查日期", "核查日期", "走访日期"), "最近一次调查的日期，不能晚于今天"),
    },
    "registrations": {
        "scan_id": (("扫码编号", "登记编号"), "每次扫码登记的编号，不重复"),
        "scanned_at": (("扫码时间", "登记时间"), "扫码（登记）的时间，不能晚于现在"),
        "id_number": (ID_NAMES, ID_TEXT),
        "unit_id": (("单位编码", "管理单位编码", "管理单元编码"), UNIT_TEXT),
        "channel": (("渠道", "登记渠道"), "登记渠道"),
        "site": (("场所", "扫码场所", "登记场所"), "扫码的场所"),
    },
    "source_records": {
        "record_id": (("记录编号",), "部门记录的编号，不重复"),
        "source": (("来源部门", "来源"), "共享数据的部门"),
        "id_number": (ID_NAMES, ID_TEXT),
        "received_at": (("接收时间",), "部门收到或登记的时间，不能晚于现在"),
        "detail": (("事项", "事项内容"), "办理的事项，如 暂住登记、就业登记、就诊建档、入学登记"),
    },
}

EXTRA_FILES = ("column_names.toml", "column_names.csv")  # in reference/: the administrator's extra names

_PARENTHETICAL = re.compile(r"(\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】)$")


def header_key(text: object) -> str:
    """A header cell as compared: NFKC (full-width → half-width), no whitespace, no ``*``/``:`` at the
    ends, lower case."""
    key = unicodedata.normalize("NFKC", str(text))
    key = re.sub(r"\s+", "", key)
    return key.strip("*:").lower()


def header_keys(text: object) -> tuple[str, ...]:
    """The keys a header cell is looked up by: as written, then without a trailing ``(说明)``."""
    key = header_key(text)
    bare = _PARENTHETICAL.sub("", key).strip("*:")
    return (key, bare) if bare and bare != key else (key,)


def label(feed: str, column: str) -> str:
    """The column's Chinese name (the first accepted name)."""
    return COLUMNS[feed][column][0][0]


def description(feed: str, column: str) -> str:
    return COLUMNS[feed][column][1]


@dataclass(frozen=True)
class FeedNames:
    """One feed's accepted names: normalised key → contract column, and each column's names in order."""

    feed: Feed
    lookup: dict[str, str]
    names: dict[str, tuple[str, ...]]

    def column_for(self, cell: object) -> str | None:
        """The contract column a header cell names, or None."""
        if cell is None or isinstance(cell, bool) or cell == "":
            return None
        for key in header_keys(cell):
            if key in self.lookup:
                return self.lookup[key]
        return None


@dataclass(frozen=True)
class HeaderNames:
    """Every feed's accepted names (built in, plus the administrator's extension)."""

    feeds: dict[str, FeedNames]
    source: str | None = None  # the administrator's file that extended them, if any

    def __getitem__(self, feed: str) -> FeedNames:
        return self.feeds[feed]


def _feed_names(feed: Feed, extra: dict[str, list[str]], origin: str) -> FeedNames:
    lookup: dict[str, str] = {}
    names: dict[str, tuple[str, ...]] = {}
    for column in feed.column_names:
        listed = [*COLUMNS[feed.name][column][0], *extra.get(column, []), column]
        names[column] = tuple(dict.fromkeys(listed))
        for name in names[column]:
            key = header_key(name)
            if not key:
                raise IngestError(f"{origin}：{feed.name}.{column} 的列名为空。")
            other = lookup.get(key)
            if other is not None and other != column:
                raise IngestError(
                    f"{origin}：列名 “{name}” 同时对应 {feed.name} 的 {other} 和 {column}，"
                    "同一数据源里一个列名只能对应一列，请修改。"
                )
            lookup[key] = column
    return FeedNames(feed, lookup, names)


def builtin_names() -> HeaderNames:
    return HeaderNames({name: _feed_names(feed, {}, "内置列名") for name, feed in FEEDS.items()})


def _read_extra(path: Path) -> dict[str, dict[str, list[str]]]:
    """The administrator's file as feed → column → names; IngestError (Chinese) when it is malformed."""
    origin = f"reference/{path.name}"
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise IngestError(f"{origin} 不是 UTF-8 或 GB18030 编码的文本，请另存为 UTF-8。") from None
    entries: list[tuple[str, str, object]] = []
    if path.suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise IngestError(f"{origin} 格式错误：{error}。") from None
        for feed, columns in data.items():
            if not isinstance(columns, dict):
                raise IngestError(
                    f'{origin}：[{feed}] 应是一个表，例如 [residents] 下写 id_number = ["证件号"]。'
                )
            entries += [(feed, column, names) for column, names in columns.items()]
    else:
        rows = list(csv.reader(io.StringIO(text)))
        if not rows or [header_key(c) for c in rows[0][:3]] != ["feed", "column", "name"]:
            raise IngestError(f"{origin} 的第一行应为 feed,column,name。")
        for number, row in enumerate(rows[1:], start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < 3:
                raise IngestError(f"{origin} 第 {number} 行应有 3 列：feed,column,name。")
            entries.append((row[0].strip(), row[1].strip(), [row[2]]))
    out: dict[str, dict[str, list[str]]] = {}
    for feed, column, names in entries:
        if feed not in FEEDS:
            raise IngestError(f"{origin}：未知的数据源 {feed}（应为 {'、'.join(FEEDS)}）。")
        if column not in FEEDS[feed].column_names:
            known = "、".join(FEEDS[feed].column_names)
            raise IngestError(f"{origin}：{feed} 没有列 {column}（应为 {known}）。")
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise IngestError(f'{origin}：{feed}.{column} 应是列名的列表，例如 ["证件号", "证件号码"]。')
        out.setdefault(feed, {}).setdefault(column, []).extend(n.strip() for n in names)
    return out


def load_header_names(reference: Path | None) -> HeaderNames:
    """The built-in names, extended by ``reference/column_names.toml`` (or ``.csv``) when there is one.

    Raises IngestError (Chinese) when the administrator's file is malformed or makes a name ambiguous."""
    path = None
    if reference is not None:
        path = next((reference / n for n in EXTRA_FILES if (reference / n).is_file()), None)
    if path is None:
        return builtin_names()
    extra = _read_extra(path)
    origin = f"reference/{path.name}"
    return HeaderNames(
        {name: _feed_names(feed, extra.get(name, {}), origin) for name, feed in FEEDS.items()}, path.name
    )


def _type_text(column) -> str:
    from wangtai.ingest.validate import TYPE_LABELS

    if column.enum:
        return "、".join(column.enum)
    return TYPE_LABELS[column.type]


def markdown_table() -> str:
    """README's table of accepted names (``tests/test_readers.py`` keeps the two in step)."""
    lines = []
    for name, feed in FEEDS.items():
        lines += [
            f"**{feed.label}**（`inbox/{name}/`）",
            "",
            "| 字段 | 可用的列名 | 必填 | 内容 | 格式或取值 |",
            "|---|---|---|---|---|",
        ]
        for column in feed.columns:
            names = "、".join(COLUMNS[name][column.name][0])
            required = "可空" if column.nullable else "必填"
            what = COLUMNS[name][column.name][1]
            lines.append(f"| `{column.name}` | {names} | {required} | {what} | {_type_text(column)} |")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
