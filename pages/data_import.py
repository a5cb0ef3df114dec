"""数据导入 — for administrators: the Excel templates; a file uploaded, its preview (what ingest would do
with it, nothing written), and 确认导入, which puts it into the inbox like any other file
(wangtai/ui/upload.py)."""

import streamlit as st

from wangtai.ingest.readers import supported_suffixes
from wangtai.ui import upload
from wangtai.ui.setup import setup

filters = setup("数据导入", "📥")

st.subheader("导入模板")
st.caption(
    "每个数据源一个 Excel 模板：中文列名，身份证号、电话和编码列已设为文本格式，"
    "附一行虚构示例和「填写说明」工作表。"
    "也可以直接上传各部门导出的 Excel 或 CSV（列名可以不同，常见写法都能识别）。"
)
upload.templates()

st.subheader("上传文件")
st.caption(
    f"支持 {'、'.join(supported_suffixes())}。上传后先预览：按入库规则逐行检查，"
    "显示将入库、隔离和重复的行数及原因，此时不写入任何数据；确认后文件放入收件箱，和源系统送来的文件一样入库，记入清单（数据状态页可查）。"
)
file = st.file_uploader("选择文件", key="upload_file")
if file is None:
    st.info("请选择要导入的 Excel 或 CSV 文件。", icon="📄")
    st.stop()

content = file.getvalue()
feed = upload.choose_feed(file.name, content)
found = upload.preview_of(file.name, content, feed)
if found is None:
    st.stop()
upload.show_preview(found)
if not upload.show_outcome(found):
    if not found.confirmable:
        st.caption("这个文件入库后不会有新的行，无需导入；请按上面的原因修改后重新上传。")
    if st.button("确认导入", type="primary", disabled=not found.confirmable):
        upload.confirm(content, found)
        st.rerun()
