"""First start on an empty data directory: generate and ingest the synthetic demo.

Set WANGTAI_AUTO_DEMO=0 to turn that off.

Otherwise show what is missing and how to fill it — "尚无数据" — instead of empty charts.
"""

import tomllib

import streamlit as st

from wangtai import settings
from wangtai.paths import DataPaths

DEMO_RESIDENTS_ENV = "WANGTAI_DEMO_RESIDENTS"


def has_reference(paths: DataPaths) -> bool:
    return paths.reference.is_dir() and any(
        p for p in paths.reference.iterdir() if not p.name.startswith(".")
    )


def has_warehouse(paths: DataPaths) -> bool:
    manifest = paths.warehouse / "manifest"
    return manifest.is_dir() and any(p for p in manifest.iterdir() if not p.name.startswith("."))


def auto_demo_enabled() -> bool:
    return settings.get("auto_demo")


def generate_demo(paths: DataPaths) -> None:
    """Write the synthetic demo into reference/ and inbox/, then ingest it."""
    from wangtai.demo import generate
    from wangtai.ingest import ingest_all

    paths.ensure()
    residents = settings.get("demo_residents")
    generate(paths, residents=residents)
    ingest_all(paths)


def ensure_data(paths: DataPaths) -> bool:
    """True when the warehouse has data to show; otherwise explain (or build the demo) and return False."""
    if has_warehouse(paths):
        return True
    if not has_reference(paths) and auto_demo_enabled():
        with st.spinner("首次启动：正在生成并入库演示数据（合成数据，约需 1 分钟）……"):
            try:
                generate_demo(paths)
            except Exception as error:  # shown, not raised: the page explains what to do
                st.error(f"生成演示数据失败：{error}", icon="⚠️")
                no_data_message(paths)
                return False
        st.toast("已生成演示数据（合成数据，不是真实人员）", icon="✅")
        return has_warehouse(paths)
    no_data_message(paths)
    return False


def no_data_message(paths: DataPaths) -> None:
    pending = has_reference(paths)
    st.warning("### 尚无数据\n数据仓库还是空的，所以暂时没有可显示的指标。", icon="📭")
    if pending:
        st.markdown("参考数据已就位，但还没有入库。请运行：\n\n```bash\nwangtai ingest\n```")
    else:
        st.markdown(
            "请任选其一：\n\n"
            "1. **演示**：生成合成演示数据并入库 —— `wangtai prepare`"
            "（或 `wangtai demo` 后 `wangtai ingest`）；\n"
            "2. **真实数据**：把社区、单位、边界和 `campaign.toml` 放到 `reference/`，"
            "各源系统的导出文件放到 `inbox/<feed>/`，再运行 `wangtai ingest`。\n\n"
            f"当前数据目录：`{paths.root}`（环境变量 `WANGTAI_DATA_DIR` 可改）。"
        )
        if st.button("现在生成演示数据", type="primary"):
            with st.spinner("正在生成并入库演示数据……"):
                generate_demo(paths)
            st.rerun()


def reference_says_demo(paths: DataPaths) -> bool:
    """True when reference/campaign.toml is the synthetic demo's (``demo = true``)."""
    try:
        with (paths.reference / "campaign.toml").open("rb") as file:
            return bool(tomllib.load(file).get("demo", False))
    except (OSError, tomllib.TOMLDecodeError):
        return False
