# ruff: noqa: E501  (JavaScript and Markdown lines are long)
"""The browser-timed benchmark (issue 17): what a viewer feels, in the system's headless Chromium.

    wangtai bench --browser [--scales 69000] [--rounds 5] [--reuse]

One real Streamlit server over the benchmark's demo data (live ingest on, its default tick), one logged-in
领导 browser, and — in the same run, click for click — a bare two-page Streamlit app (st.page_link, one
st.metric and one small plotly chart a page) as the floor Streamlit itself costs. Measured:

- every page: sidebar click → script finished, no skeleton, every plotly chart has its SVG and every map its
  canvas, then two animation frames (painted), timed inside the page from the click event;
- reload → first chart; login form submitted → first chart (a new user each round);
- a file renamed into the inbox → the shown 今日扫码 changed (the server's own live ingest picks it up);
- for every click: the websocket bytes received (by element type, decoded as Streamlit's ForwardMsg), when
  the first message and ``script_finished`` arrived, and the browser main thread's work (CDP
  ``Performance.getMetrics`` before/after).

Results go into docs/benchmarks.md between ``<!-- bench-browser:SCALE:begin/end -->``; the raw figures to
``<data root>/browser-<scale>.json``. Never part of the test suite.
"""

import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from wangtai import e2e
from wangtai.bench import BENCH_NOW
from wangtai.bench.worker import percentile

SCANS_TODAY = "今日扫码"
LINK = '[data-testid="stSidebar"] [data-testid="stPageLink-NavLink"]'
FLOOR_PAGES = (("app.py", "甲页"), ("pages/two.py", "乙页"))
FRAME_TIMEOUT_MS = 90_000

# Records every websocket message (arrival time, size) and the time of the last click, inside the page.
INIT_JS = """
(() => {
  const Native = window.WebSocket;
  window.__wt_frames = [];
  window.__wt_click = 0;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => {
        const d = e.data;
        const n = typeof d === 'string' ? d.length : (d.byteLength ?? d.size ?? 0);
        window.__wt_frames.push([performance.now(), n]);
      });
    }
  };
  document.addEventListener('click', () => { window.__wt_click = performance.now(); }, true);
})();
"""

# Waits (one check per animation frame) until the page titled `title` is finished and painted; returns
# the times (ms after the click) at which each condition first held. title null: the first chart only.
WAIT_JS = """
async ([title, timeoutMs]) => {
  const t0 = window.__wt_click;
  const raf = () => new Promise((r) => requestAnimationFrame(r));
  const q = (s) => [...document.querySelectorAll(s)];
  const seen = {};
  const stamp = (k) => { if (!(k in seen)) seen[k] = performance.now() - t0; };
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const app = document.querySelector('[data-testid="stApp"]');
    const idle = app && app.getAttribute('data-test-script-state') === 'notRunning';
    const h1 = title === null || q('h1').some((h) => h.textContent.includes(title));
    const plots = q('[data-testid="stPlotlyChart"]');
    const decks = q('[data-testid="stDeckGlJsonChart"]');
    const plotsDone = plots.every((c) => c.querySelector('.main-svg'));
    const decksDone = decks.every((c) => { const cv = c.querySelector('canvas'); return cv && cv.width > 0; });
    if (h1) stamp('title');
    if (title === null && (q('.js-plotly-plot .main-svg').length || q('[data-testid="stDeckGlJsonChart"] canvas').length)) {
      stamp('chart');
      await raf(); await raf();
      return {...seen, painted: performance.now() - t0};
    }
    if (h1 && plots.length && plotsDone) stamp('plotly');
    if (h1 && decks.length && decksDone) stamp('deck');
    if (title !== null && h1 && idle && !document.querySelector('[data-testid="stSkeleton"]') && plotsDone && decksDone) {
      stamp('ready');
      await raf(); await raf();
      return {...seen, painted: performance.now() - t0, plots: plots.length, decks: decks.length};
    }
    await raf();
  }
  return {...seen, timeout: true};
}
"""

CDP_METRICS = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")

FLOOR_APP = """import plotly.graph_objects as go
import streamlit as st

TITLE = "{title}"
with st.sidebar:
    st.page_link("app.py", label="甲页")
    st.page_link("pages/two.py", label="乙页")
st.title(TITLE)
st.metric("人数", {value})
st.plotly_chart(go.Figure(go.Bar(x=["一", "二", "三"], y=[3, 1, {value}])), use_container_width=True)
"""


# ---- pure helpers (unit-tested) ----------------------------------------------------------------------


def frame_kind(payload: bytes | str) -> str:
    """What a websocket message from the server carries: the ForwardMsg type, for a new element its
    element type, and markdown/html that injects ``<style>``/``<script>`` as ``css/js``."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    if isinstance(payload, str):
        payload = payload.encode()
    try:
        msg = ForwardMsg.FromString(payload)
    except Exception:  # not a ForwardMsg (should not happen): counted, not dropped
        return "other"
    kind = msg.WhichOneof("type") or "other"
    if kind != "delta":
        return kind
    delta = msg.delta.WhichOneof("type") or "delta"
    if delta != "new_element":
        return delta
    element = msg.delta.new_element
    etype = element.WhichOneof("type") or "element"
    body = element.markdown.body if etype == "markdown" else element.html.body if etype == "html" else ""
    if "<style" in body or "<script" in body:
        return "css/js"
    return etype


def stats(values: list[float]) -> dict:
    """p50 / p95 (nearest rank) / max of a non-empty list, rounded."""
    return {
        "n": len(values),
        "p50": round(statistics.median(values), 1),
        "p95": round(percentile(values, 95), 1),
        "max": round(max(values), 1),
    }


def multiple(value: float, floor: float) -> str:
    """``value`` as a multiple of the bare-Streamlit floor ("3.2×")."""
    return f"{value / floor:.1f}×" if floor > 0 else "—"


def kb(n: float) -> str:
    return f"{n / 1024:,.1f} KB" if n >= 1024 else f"{n:.0f} B"


# ---- the browser side --------------------------------------------------------------------------------


class Tab:
    """One browser page with the websocket recorders and a CDP session."""

    def __init__(self, context, url: str) -> None:
        context.add_init_script(INIT_JS)
        self.page = context.new_page()
        self.page.set_default_timeout(FRAME_TIMEOUT_MS)
        self.frames: list[tuple[str, int]] = []  # (kind, bytes) in arrival order, decoded in Python
        self.page.on("websocket", self._on_ws)
        self.cdp = context.new_cdp_session(self.page)
        self.cdp.send("Performance.enable")
        self.url = url

    def _on_ws(self, ws) -> None:
        self.frames.clear()  # a reload opens a new websocket: the browser's list starts again too
        ws.on("framereceived", lambda payload: self.frames.append((frame_kind(payload), len(payload))))

    def metrics(self) -> dict:
        got = self.cdp.send("Performance.getMetrics")["metrics"]
        return {m["name"]: m["value"] for m in got if m["name"] in CDP_METRICS}

    def browser_frames(self) -> list:
        return self.page.evaluate("window.__wt_frames")

    def click(self, label: str, title: str) -> dict:
        """Click the sidebar link ``label``; wait until the page titled ``title`` is painted."""
        before_n = len(self.browser_frames())
        before_cdp = self.metrics()
        self.page.locator(LINK, has_text=label).first.click()
        seen = self.page.evaluate(WAIT_JS, [title, FRAME_TIMEOUT_MS])
        if seen.get("timeout"):
            raise TimeoutError(f"{title}: not painted within {FRAME_TIMEOUT_MS} ms ({seen})")
        after_cdp = self.metrics()
        frames = self.browser_frames()[before_n:]
        click_t = self.page.evaluate("window.__wt_click")
        for _ in range(40):  # Playwright's frame events may trail the evaluate's answer by a little
            if len(self.frames) >= before_n + len(frames):
                break
            self.page.wait_for_timeout(25)
        kinds = self.frames[before_n : before_n + len(frames)]
        # a live tick's messages may land between the count above and the click: not this click's
        pairs = [(f, k) for f, k in zip(frames, kinds, strict=False) if f[0] >= click_t]
        frames, kinds = [f for f, _ in pairs], [k for _, k in pairs]
        by_kind: dict[str, int] = {}
        for kind, size in kinds:
            by_kind[kind] = by_kind.get(kind, 0) + size
        finished = [t for (t, _), (k, _) in zip(frames, kinds, strict=False) if k == "script_finished"]
        return {
            **{k: round(v, 1) for k, v in seen.items() if isinstance(v, float | int)},
            "bytes": sum(n for _, n in frames),
            "messages": len(frames),
            "by_kind": by_kind,
            "first_msg": round(frames[0][0] - click_t, 1) if frames else None,
            # the last one: switching pages first ends the old page's run (or a live tick) early
            "script_finished": round(finished[-1] - click_t, 1) if finished else None,
            "cdp_ms": {k: round((after_cdp.get(k, 0) - before_cdp.get(k, 0)) * 1000, 1) for k in CDP_METRICS},
        }


def first_chart_ms(page, action) -> tuple[float, int]:
    """``action()`` (a reload, a login submit), then wait for the first chart: (ms, websocket bytes)."""
    t0 = time.perf_counter()
    action()
    for attempt in range(5):  # the page may navigate (a reload, a login that reloads): evaluate again
        try:
            page.wait_for_function("() => window.__wt_frames !== undefined")
            page.evaluate("window.__wt_click = performance.now()")  # only an origin for WAIT_JS
            seen = page.evaluate(WAIT_JS, [None, FRAME_TIMEOUT_MS])
            break
        except Exception as exc:  # playwright's Error: "Execution context was destroyed"
            if "context was destroyed" not in str(exc) or attempt == 4:
                raise
    if seen.get("timeout"):
        raise TimeoutError("no chart within the time limit")
    ms = (time.perf_counter() - t0) * 1000
    return ms, sum(n for _, n in page.evaluate("window.__wt_frames"))


def shown_scans(page) -> int:
    metric = page.locator('[data-testid="stMetric"]', has_text=SCANS_TODAY).first
    return int(re.sub(r"[^\d]", "", metric.locator('[data-testid="stMetricValue"]').inner_text()))


# ---- servers -----------------------------------------------------------------------------------------


@contextmanager
def floor_server(folder: Path, timeout: float = 60) -> Iterator[str]:
    """The bare two-page app, with the dashboard's own .streamlit/config.toml (same server settings)."""
    (folder / "pages").mkdir(parents=True, exist_ok=True)
    (folder / ".streamlit").mkdir(exist_ok=True)
    shutil.copy(e2e.REPO / ".streamlit" / "config.toml", folder / ".streamlit" / "config.toml")
    (folder / "app.py").write_text(FLOOR_APP.format(title="甲页", value=7), encoding="utf-8")
    (folder / "pages" / "two.py").write_text(FLOOR_APP.format(title="乙页", value=5), encoding="utf-8")
    with e2e.running_app(folder, "app.py", folder / "streamlit.log", timeout=timeout) as url:
        yield url


def prepare(scale: int, data_root: Path, args) -> Path:
    """The benchmark's data set at ``scale`` (generated and ingested by the harness's phases unless
    reused), with the harness's frozen clock."""
    from wangtai.bench import harness

    root = data_root / f"r{scale}"
    if args.reuse and (root / "warehouse" / "manifest").is_dir():
        return root
    shutil.rmtree(root, ignore_errors=True)
    env = {**os.environ, "WANGTAI_DATA_DIR": str(root), "WANGTAI_AUTO_DEMO": "0"}
    tmp = data_root / f"browser-prep-{scale}"
    tmp.mkdir(parents=True, exist_ok=True)
    harness.run_phase(
        "generate", root, tmp / "g.json", env, ["--residents", str(scale), "--seed", str(args.seed)]
    )
    harness.run_phase("ingest", root, tmp / "i.json", env, [])
    return root


# ---- one scale -----------------------------------------------------------------------------------------


def _log(text: str) -> None:
    print(f"[browser] {text}", file=sys.stderr, flush=True)


def bench_scale(scale: int, data_root: Path, args) -> dict:
    from playwright.sync_api import sync_playwright

    from wangtai.auth.testing import make_user, session_token
    from wangtai.bench import harness
    from wangtai.bench.worker import write_batch
    from wangtai.paths import DataPaths

    os.environ.update(
        WANGTAI_NOW=BENCH_NOW,
        WANGTAI_SECRET_FILE=str(data_root / "bench-secret.key"),
        WANGTAI_AUTH_DIR=str(data_root / "browser-auth"),
    )
    root = prepare(scale, data_root, args)
    paths = DataPaths(root)
    os.environ["WANGTAI_DATA_DIR"] = str(root)
    rounds = args.rounds
    out: dict = {"scale": scale, "rounds": rounds, "started": datetime.now().isoformat(timespec="seconds")}
    out["load_before"] = harness._loadavg()
    out["others_before"] = harness._others()
    clicks: dict[str, list[dict]] = {title: [] for _, _, title in e2e.PAGES}
    floor: list[dict] = []
    server_env = {"WANGTAI_LIVE_INGEST": "1", "WANGTAI_REFRESH_SECONDS": "2"}
    with (
        tempfile.TemporaryDirectory(prefix="wt-floor-") as tmp,
        floor_server(Path(tmp)) as floor_url,
        e2e.streamlit_server(root, env=server_env, timeout=300) as url,
        sync_playwright() as pw,
    ):
        browser = e2e.launch_browser(pw)
        viewport = {"width": 1600, "height": 900}
        from wangtai.auth.testing import browser_cookie

        ours_ctx = browser.new_context(viewport=viewport, locale="zh-CN")
        ours_ctx.add_cookies([browser_cookie(session_token(paths, "领导"), url)])
        ours = Tab(ours_ctx, url)
        bare = Tab(browser.new_context(viewport=viewport, locale="zh-CN"), floor_url)
        _log(f"{scale:,}: opening the overview and the floor app")
        ours.page.goto(url)
        e2e.wait_ready(ours.page, 'h1:has-text("总览")', timeout_ms=300_000)
        e2e.wait_painted(ours.page)
        bare.page.goto(floor_url)
        e2e.wait_ready(bare.page, 'h1:has-text("甲页")')
        # one unmeasured tour: every page's code imported and its caches warm, as on a server in use
        for _, _, title in (*e2e.PAGES[1:], e2e.PAGES[0]):
            ours.click(title, title)
        for _, title in (*FLOOR_PAGES[1:], FLOOR_PAGES[0]):
            bare.click(title, title)
        for r in range(rounds):
            for _, title in (*FLOOR_PAGES[1:], FLOOR_PAGES[0]):
                floor.append(bare.click(title, title))
            for _, _, title in (*e2e.PAGES[1:], e2e.PAGES[0]):
                clicks[title].append(ours.click(title, title))
            _log(
                f"round {r + 1}/{rounds}: "
                + ", ".join(f"{t} {c[-1]['painted']:.0f}" for t, c in clicks.items())
                + f" · floor {floor[-1]['painted']:.0f} ms"
            )
        out["clicks"], out["floor"] = clicks, floor

        reloads = []
        for _ in range(rounds):
            reloads.append(first_chart_ms(ours.page, lambda: ours.page.reload(wait_until="commit")))
        out["reload"] = reloads
        _log(f"reload → first chart: {[round(ms) for ms, _ in reloads]} ms")

        logins = []
        for _ in range(rounds):
            username, password = make_user(paths, "领导")
            ctx = browser.new_context(viewport=viewport, locale="zh-CN")
            tab = Tab(ctx, url)
            tab.page.goto(url)
            tab.page.get_by_label("用户名").fill(username)
            tab.page.get_by_label("密码").fill(password)

            def submit(tab=tab):
                tab.page.get_by_role("button", name="登录").click()

            logins.append(first_chart_ms(tab.page, submit))
            ctx.close()
        out["login"] = logins
        _log(f"login → first chart: {[round(ms) for ms, _ in logins]} ms")

        ours.page.wait_for_selector(f'[data-testid="stMetric"]:has-text("{SCANS_TODAY}")')
        live = []
        for _ in range(max(rounds, 5)):
            before = shown_scans(ours.page)
            write_batch(paths, rows=20)
            t0 = time.monotonic()
            while shown_scans(ours.page) == before and time.monotonic() - t0 < 30:
                ours.page.wait_for_timeout(50)
            live.append((time.monotonic() - t0) * 1000)
            ours.page.wait_for_timeout(700 + 600 * (len(live) % 3))  # de-phase from the 2 s tick
        out["live"] = live
        _log(f"inbox file → counter: {[round(ms) for ms in live]} ms")
        browser.close()
    out["load_after"] = harness._loadavg()
    out["others_after"] = harness._others()
    out["finished"] = datetime.now().isoformat(timespec="seconds")
    (data_root / f"browser-{scale}.json").write_text(
        json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return out


# ---- the Markdown --------------------------------------------------------------------------------------


def _median_of(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(values) if values else None


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def page_rows(results: dict) -> list[str]:
    """The per-page table: click → painted p50/p95 (ms and × the floor), bytes and messages per click."""
    floor = stats([c["painted"] for c in results["floor"]])
    lines = [
        "| page | click → painted p50 | p95 | max | p50 × floor | p95 × floor | target p95 (3 × floor p95 + 300) | websocket bytes per click (median) | messages |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    target = 3 * floor["p95"] + 300
    for title, rows in results["clicks"].items():
        s = stats([c["painted"] for c in rows])
        mark = "✅" if s["p95"] <= target else "❌"
        lines.append(
            f"| {title} | {_fmt(s['p50'])} | {_fmt(s['p95'])} {mark} | {_fmt(s['max'])} | {multiple(s['p50'], floor['p50'])} | "
            f"{multiple(s['p95'], floor['p95'])} | {_fmt(target)} | {kb(_median_of(rows, 'bytes') or 0)} | {_fmt(_median_of(rows, 'messages'))} |"
        )
    lines.append(
        f"| *bare two-page Streamlit (floor)* | {_fmt(floor['p50'])} | {_fmt(floor['p95'])} | {_fmt(floor['max'])} | 1.0× | 1.0× | | "
        f"{kb(_median_of(results['floor'], 'bytes') or 0)} | {_fmt(_median_of(results['floor'], 'messages'))} |"
    )
    return lines


def breakdown(results: dict, title: str) -> list[str]:
    """Where one page's click time goes: timeline, main-thread work, bytes by element type."""
    rows = results["clicks"][title]
    med = {
        k: _median_of(rows, k) for k in ("first_msg", "script_finished", "plotly", "deck", "ready", "painted")
    }
    cdp = {k: statistics.median([r["cdp_ms"][k] for r in rows]) for k in CDP_METRICS}
    lines = [
        f"**{title}** (medians over {len(rows)} clicks, ms after the click): first message from the server "
        f"{_fmt(med['first_msg'])} · `script_finished` arrived {_fmt(med['script_finished'])} · every plotly SVG "
        f"there {_fmt(med['plotly'])} · map canvas there {_fmt(med['deck'])} · all ready {_fmt(med['ready'])} · "
        f"painted {_fmt(med['painted'])}. Browser main thread during the click (CDP): tasks {_fmt(cdp['TaskDuration'])}, "
        f"of which JavaScript {_fmt(cdp['ScriptDuration'])}, style {_fmt(cdp['RecalcStyleDuration'])}, layout "
        f"{_fmt(cdp['LayoutDuration'])}.",
        "",
        "| sent over the websocket (one click, median) | bytes |",
        "|---|---:|",
    ]
    kinds: dict[str, list[int]] = {}
    for r in rows:
        for k in {k for r2 in rows for k in r2["by_kind"]}:
            kinds.setdefault(k, []).append(r["by_kind"].get(k, 0))
    for k, sizes in sorted(kinds.items(), key=lambda kv: -statistics.median(kv[1])):
        if statistics.median(sizes) >= 1:
            lines.append(f"| {k} | {kb(statistics.median(sizes))} |")
    lines.append("")
    return lines


def section(results: dict, command: str, info: dict) -> str:
    scale = results["scale"]
    reload_ms = stats([ms for ms, _ in results["reload"]])
    login_ms = stats([ms for ms, _ in results["login"]])
    live = stats(results["live"])
    lines = [
        f"### {scale:,} residents, in the browser",
        "",
        f"Run {results['started']} – {results['finished']} · `{command}` · {info['cpu']}, {info['cores']} cores · "
        f"headless Chromium (software WebGL, no GPU), viewport 1600×900 · {info['versions']}",
        "",
        f"**Shared, loaded machine**: load average before {results['load_before']}, after {results['load_after']}; "
        f"other busy processes before: {', '.join(results['others_before']) or 'nothing notable'}; after: "
        f"{', '.join(results['others_after']) or 'nothing notable'}. The figures are this machine's under that load, "
        f"not a quiet machine's; the floor was measured click for click in the same run, under the same load.",
        "",
        f"**Page switch** ({results['rounds']} rounds; sidebar click → script finished, no skeleton, every chart's SVG "
        f"and the map's canvas there, two animation frames; timed inside the page from the click event)",
        "",
        *page_rows(results),
        "",
        "| session | p50 ms | p95 ms | max ms | target | websocket bytes (median) |",
        "|---|---:|---:|---:|---:|---:|",
        f"| reload (总览) → first chart | {_fmt(reload_ms['p50'])} | {_fmt(reload_ms['p95'])} | {_fmt(reload_ms['max'])} | 2,000 {'✅' if reload_ms['p95'] <= 2000 else '❌'} | {kb(statistics.median([b for _, b in results['reload']]))} |",
        f"| login submit → first chart | {_fmt(login_ms['p50'])} | {_fmt(login_ms['p95'])} | {_fmt(login_ms['max'])} | 2,000 {'✅' if login_ms['p95'] <= 2000 else '❌'} | {kb(statistics.median([b for _, b in results['login']]))} |",
        f"| inbox file → 今日扫码 changed (live, {live['n']} files) | {_fmt(live['p50'])} | {_fmt(live['p95'])} | {_fmt(live['max'])} | 2,000 {'✅' if live['p95'] <= 2000 else '❌'} | |",
        "",
        "**Where the time goes**, for the two slowest pages (by p50):",
        "",
    ]
    slowest = sorted(
        results["clicks"], key=lambda t: -statistics.median(c["painted"] for c in results["clicks"][t])
    )
    for title in slowest[:2]:
        lines += breakdown(results, title)
    return "\n".join(lines)


def write_block(out: Path, scale: int, text: str) -> None:
    """Replace (or add, before ``<!-- bench-browser:results -->``) this scale's block in the file."""
    doc = out.read_text(encoding="utf-8") if out.exists() else "# Benchmarks\n"
    begin, end = f"<!-- bench-browser:{scale}:begin -->", f"<!-- bench-browser:{scale}:end -->"
    block = f"{begin}\n{text}\n{end}"
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    marker = "<!-- bench-browser:results -->"
    if pattern.search(doc):
        doc = pattern.sub(lambda _: block, doc)
    elif marker in doc:
        doc = doc.replace(marker, f"{block}\n\n{marker}")
    else:
        doc = doc.rstrip("\n") + f"\n\n{block}\n\n{marker}\n"
    out.write_text(doc, encoding="utf-8")


def main(args) -> int:
    from wangtai.bench import harness

    data_root = Path(args.data_root).resolve()
    data_root.mkdir(parents=True, exist_ok=True)
    scales = [int(s.replace("_", "")) for s in str(args.scales).split(",") if s.strip()]
    info = harness.machine()
    command = "wangtai bench " + " ".join(args.argv)
    for scale in scales:
        started = time.monotonic()
        results = bench_scale(scale, data_root, args)
        text = section(results, command.strip(), info)
        if args.out:
            write_block(Path(args.out), scale, text)
        print(text)
        _log(f"{scale:,} done in {time.monotonic() - started:.0f} s")
    return 0
