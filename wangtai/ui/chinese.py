"""Streamlit's own English words on our pages, in Chinese.

Streamlit's frontend has no Chinese: the tables' toolbar and column menu (Search, Fullscreen, Sort
ascending …), widget hints (Press Enter to apply, No results …) and the running status come in English. A
small inline script, drawn once by the shared setup, rewrites exactly these texts (text nodes,
``title`` / ``aria-label`` / ``placeholder``) wherever they appear, now or later (a MutationObserver: menus
and tooltips are created when opened). Nothing is fetched. The ⋮ menu (System / Light / Dark / About, "Made
with Streamlit") is not drawn at all: ``client.toolbarMode = "minimal"`` with no ``menu_items`` hides it.

``LEFTOVERS`` lists English that must never be seen on a page (tests/browser/test_rooms_browser.py).
"""

import json

WORDS = {
    # the tables (st.dataframe): toolbar, column menu, formats
    "Search": "搜索",
    "Fullscreen": "全屏",
    "Close fullscreen": "退出全屏",
    "Exit fullscreen": "退出全屏",
    "Show/hide columns": "显示/隐藏列",
    "Download as CSV": "下载 CSV",
    "Sort ascending": "升序排列",
    "Sort descending": "降序排列",
    "Format": "数字格式",
    "Autosize": "自动列宽",
    "Pin column": "固定此列",
    "Unpin column": "取消固定",
    "Hide column": "隐藏此列",
    "Automatic": "自动",
    "Localized": "本地格式",
    "Plain": "原始数字",
    "Compact": "紧凑",
    "Percent": "百分比",
    "Scientific": "科学计数",
    "Engineering": "工程计数",
    "Accounting": "会计格式",
    "Dollar": "美元",
    "Euro": "欧元",
    "Yen": "日元",
    "Relative": "相对时间",
    "Distance": "相对时间",
    "Calendar": "日历格式",
    "Duration": "时长",
    # widgets
    "Press Enter to apply": "按回车确认",
    "Press Enter to submit form": "按回车提交",
    "Press ⌘+Enter to submit form": "按 ⌘+回车提交",
    "Press Ctrl+Enter to submit form": "按 Ctrl+回车提交",
    "No results": "无匹配项",
    "Choose an option": "请选择",
    "Choose options": "请选择",
    "Clear all": "全部清除",
    "Clear value": "清除",
    "Select all": "全选",
    "Show password text": "显示密码",
    "Hide password text": "隐藏密码",
    "Open": "打开",
    "Close": "关闭",
    # the app's chrome
    "Running...": "运行中…",
    "Stop": "停止",
    "Rerun": "重新运行",
    "Collapse sidebar": "收起侧栏",
    "Expand sidebar": "展开侧栏",
    "Keyboard shortcut": "快捷键",
    "Space": "空格",
    "Connecting": "正在连接",
    "Please wait...": "请稍候…",
    "Link to heading": "本标题的链接",
    "Sidebar": "侧栏",
    "Skip to main content": "跳到正文",
    "Copy to clipboard": "复制到剪贴板",
    "Scrollable table": "可滚动的表格",
}
# Texts that start with Streamlit's English and end with ours ("Help for 登记率"); the rest is looked up too.
PREFIXES = {"Help for ": "说明：", "Shortcut: ": "快捷键：", "Shortcut ": "快捷键 "}

# English that must not be read on any page (text or tooltips), checked in the browser.
LEFTOVERS = (
    "None",
    "nan",
    "System",
    "Light",
    "Dark",
    "About",
    "Made with Streamlit",
    "Settings",
    "Print",
    "Record a screencast",
    "Running...",
    "Press Enter",
    "Sort ascending",
    "Search",
    "Fullscreen",
    "Space",
    "usage:",
    "error:",
    "quarantine/",
)
# (a column name of the files is checked apart: only in （…） after its Chinese name, 接收时间（received_at）)


def script() -> str:
    """The inline script that rewrites Streamlit's English (once per browser page)."""
    words = json.dumps(WORDS, ensure_ascii=False)
    prefixes = json.dumps(PREFIXES, ensure_ascii=False)
    return (
        "<script>(function(){"
        "if(window.__wtChinese){return;} window.__wtChinese=true;"
        f"const W={words}, P={prefixes};"
        "const ATTRS=['title','aria-label','placeholder'];"
        "function tr(v){const k=v.trim(); if(!k) return null; if(W[k]!==undefined) return v.replace(k,W[k]);"
        " for(const p in P){ if(k.startsWith(p)){const r=k.slice(p.length);"
        "  return v.replace(k, P[p]+(W[r]!==undefined?W[r]:r));}} return null;}"
        "function one(n){"
        " if(n.nodeType===3){const t=tr(n.nodeValue); if(t!==null){n.nodeValue=t;} return;}"
        " if(n.nodeType!==1||!n.getAttribute) return;"
        " for(const a of ATTRS){const v=n.getAttribute(a); const t=v&&tr(v); if(t){n.setAttribute(a,t);}}}"
        "function fix(node){ one(node); if(node.nodeType!==1) return;"
        " const w=document.createTreeWalker(node,NodeFilter.SHOW_TEXT|NodeFilter.SHOW_ELEMENT);"
        " let n=w.nextNode(); while(n){ one(n); n=w.nextNode(); }}"
        "fix(document.body);"
        "new MutationObserver(function(changes){for(const c of changes){"
        " if(c.type==='childList'){c.addedNodes.forEach(fix);} else {one(c.target);}}})"
        ".observe(document.body,{subtree:true,childList:true,characterData:true,"
        "attributes:true,attributeFilter:ATTRS});"
        "})();</script>"
    )
