"""Which files can be read: by name (the extension) and by content (the first bytes)."""

from __future__ import annotations

import zipfile
from pathlib import Path

# extension → format read
SUPPORTED = {
    ".parquet": "parquet",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
}
FORMAT_LABELS = {
    "parquet": "Parquet",
    "xlsx": "Excel 工作簿（.xlsx）",
    "xls": "Excel 97-2003 工作簿（.xls）",
    "csv": "CSV 文本",
}
SAVE_AS = "请另存为 Excel（.xlsx）或 CSV"

_KINDS = {  # extension → (what it is, what to do)
    **dict.fromkeys((".doc", ".docx", ".wps", ".rtf", ".odt"), ("文件", SAVE_AS)),
    ".pdf": ("文件", "PDF 里的表格无法可靠读出，请向来源部门索取 Excel（.xlsx）或 CSV 原文件"),
    **dict.fromkeys(
        (".zip", ".rar", ".7z", ".gz", ".tar", ".tgz", ".bz2", ".xz"),
        ("压缩包", "请解压后把其中的 Excel（.xlsx）或 CSV 文件分别放入"),
    ),
    **dict.fromkeys(
        (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".webp"),
        ("图片", "照片和截图无法读取，请提供 Excel（.xlsx）或 CSV 文件"),
    ),
    **dict.fromkeys(
        (".et", ".ett", ".ods", ".xlsb", ".numbers"), ("表格文件", "请在表格软件中另存为 Excel（.xlsx）")
    ),
}  # fmt: skip


def supported_suffixes() -> tuple[str, ...]:
    return tuple(SUPPORTED)


def unsupported_reason(name: str | Path) -> str | None:
    """None when a file of this name can be read; else the Chinese reason, saying what to do.

    >>> unsupported_reason("登记表.doc")
    '不支持 .doc 文件：请另存为 Excel（.xlsx）或 CSV'
    """
    suffix = Path(name).suffix.lower()
    if suffix in SUPPORTED:
        return None
    if not suffix:
        return f"文件没有扩展名，无法判断是什么文件：{SAVE_AS}"
    what, todo = _KINDS.get(suffix, ("文件", SAVE_AS))
    return f"不支持 {suffix} {what}：{todo}"


def is_temporary(name: str | Path) -> bool:
    """Files never to be read nor quarantined: hidden files (a writer's temporary name), Excel's lock file
    ``~$登记表.xlsx`` (there while someone has the workbook open), partial downloads, and the files Windows
    Explorer leaves in a shared folder by itself (``Thumbs.db``, ``desktop.ini``)."""
    name = Path(name).name
    lower = name.lower()
    return (
        name.startswith((".", "~$"))
        or lower.endswith((".tmp", ".part", ".crdownload"))
        or lower in ("thumbs.db", "desktop.ini")
    )


_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMAGES = (b"\x89PNG", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")


def sniff(path: Path) -> tuple[str | None, str | None]:
    """What the content is: (format, None) for a readable one — "parquet", "xlsx", "xls", "csv" (any other
    bytes: text is decided by the CSV reader) — or (None, what it is) for one that is not a table."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(b"PAR1"):
        return "parquet", None
    if head.startswith(_OLE):
        return "xls", None  # also Word 97 or an encrypted workbook: the Excel reader tells
    if head.startswith(b"%PDF"):
        return None, "PDF 文件"
    if head.startswith(_IMAGES):
        return None, "图片"
    if head.startswith((b"Rar!", b"7z\xbc\xaf", b"\x1f\x8b")):
        return None, "压缩包"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    return "csv", None


def _zip_kind(path: Path) -> tuple[str | None, str | None]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return "xlsx", None  # a truncated workbook: the Excel reader reports it unreadable
    if any(n.startswith("xl/") for n in names):
        return "xlsx", None
    if any(n.startswith("word/") for n in names):
        return None, "Word 文档"
    return None, "压缩包"
