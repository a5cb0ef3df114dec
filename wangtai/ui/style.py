"""CSS for a projector and a big screen: large tabular figures, high contrast, little chrome.

Only sizes, weights and spacing are set here; colours come from the Streamlit theme (.streamlit/config.toml),
so the dark default and the light theme both stay readable.
"""

# Before printing, every expander opens (the 指标口径 belong on paper); a closed <details> cannot be opened
# by CSS alone. Sortable tables are drawn on a canvas in the theme's colours, which print CSS cannot restyle:
# on a dark page they are marked (wt-dark-paper) and printed inverted, dark text on white like the rest.
PRINT_SCRIPT = (
    "<script>(function(){ if(window.__wtPrint){return;} window.__wtPrint=true;"
    " const doc = document;"
    " function dark(){ const c = getComputedStyle(doc.querySelector('.stApp') || doc.body).backgroundColor;"
    "  const v = (c.match(/[\\d.]+/g) || [255,255,255]).slice(0,3).map(Number);"
    "  return 0.2126*v[0] + 0.7152*v[1] + 0.0722*v[2] < 128; }"
    " addEventListener('beforeprint', function(){"
    "  doc.querySelectorAll('[data-testid=stExpander] details').forEach(d => { d.open = true; });"
    "  doc.body.classList.toggle('wt-dark-paper', dark());"
    " });})();</script>"
)


CSS = """
<style>
.block-container { padding-top: 2.6rem; padding-bottom: 1rem; max-width: 100%; }
[data-testid="stSidebarContent"] { padding-top: 0.4rem; }
[data-testid="stMetric"] { padding: 0.55rem 0.9rem; }
[data-testid="stMetricLabel"] p { font-size: 1.05rem !important; font-weight: 600; opacity: 0.85; }
[data-testid="stMetricValue"] {
  font-size: clamp(1.9rem, 2.35vw, 3.3rem) !important; font-weight: 800; line-height: 1.15;
  font-variant-numeric: tabular-nums; letter-spacing: -0.01em; white-space: nowrap;
}
[data-testid="stMetricDelta"] { font-size: 0.95rem; font-weight: 600; }
h1 { font-size: 2.0rem !important; padding: 0 !important; margin: 0 !important; }
h3 { font-size: 1.3rem !important; padding-top: 0.2rem !important; }
.wt-brand { font-size: 1.55rem; font-weight: 800; letter-spacing: 0.08em; margin: 0.2rem 0 0.1rem; }
.wt-sub { font-size: 0.85rem; opacity: 0.7; margin-bottom: 0.5rem; }
.wt-legend { font-size: 0.95rem; line-height: 1.8; }
.wt-legend span.sw { vertical-align: middle; margin-right: 0.2rem; }
.wt-legend span.it { white-space: nowrap; margin-right: 0.4rem; }
.wt-legend span.sw { display: inline-block; width: 1.4rem; height: 0.9rem; border-radius: 2px; }
@media (max-width: 1600px) {
  /* a 1366 px laptop with the sidebar open: 1002 px for the page instead of 906 (5rem of air each side) */
  .block-container, [data-testid="stMainBlockContainer"] { padding-left: 2rem; padding-right: 2rem; }
  [data-testid="stMetric"] { padding: 0.45rem 0.6rem; }
  [data-testid="stMetricLabel"] [data-testid="stTooltipIcon"] { display: none; }
  [data-testid="stMetricLabel"] p { font-size: 0.9rem !important; }
  /* a label with its plan ("登记人数（计划 13,512）") wraps on a laptop instead of ending in "…" */
  [data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {
    white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  }
  [data-testid="stMetricDelta"] { font-size: 0.82rem; }
}
[data-testid="stPageLink"] p { font-size: 1.08rem; font-weight: 600; }
.wt-print { display: none; }
/* static tables wrap long text (reasons, file names) but never squeeze a short column to one character */
[data-testid="stTable"] th, [data-testid="stTable"] td { min-width: 3.6em; }
[data-testid="stTable"] td { overflow-wrap: anywhere; }
/* Paper (Ctrl+P): A4 landscape, light, no sidebar or controls, the whole page (not the scrolled window),
   the filter and the data time on it; figures are not cut between pages. */
@media print {
  @page { size: A4 landscape; margin: 10mm; }
  [data-testid="stSidebar"], header[data-testid="stHeader"], [data-testid="stToolbar"],
  [data-testid="stDecoration"], [data-testid="stStatusWidget"], [data-testid="stSidebarCollapsedControl"],
  [data-testid="stExpandSidebarButton"], [data-testid="stDownloadButton"], [data-testid="stElementToolbar"],
  [data-testid="stButton"], .stDownloadButton { display: none !important; }
  html, body, .stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"],
  [data-testid="stMainBlockContainer"], .block-container {
    background: #FFFFFF !important; overflow: visible !important; height: auto !important;
    position: static !important; }
  .block-container, [data-testid="stMainBlockContainer"] {
    padding: 0 !important; max-width: 100% !important; }
  .stApp, .stApp * {
    color: #111111 !important; border-color: #B8C4D0 !important; box-shadow: none !important; }
  [data-testid="stMetric"], [data-testid="stExpander"], [data-testid="stTable"] {
    background: #FFFFFF !important; }
  .js-plotly-plot .main-svg text { fill: #111111 !important; }
  .js-plotly-plot .main-svg, .js-plotly-plot .bg { fill: #FFFFFF !important; background: #FFFFFF !important; }
  [data-testid="stMetric"], [data-testid="stPlotlyChart"], [data-testid="stDeckGlJsonChart"],
  [data-testid="stTable"] tr, .wt-legend { break-inside: avoid; }
  .wt-print { display: block !important; font-size: 0.85rem; margin-bottom: 0.3rem; }
  body.wt-dark-paper [data-testid="stDataFrame"] canvas { filter: invert(1) hue-rotate(180deg); }
  [data-baseweb="select"] > div, [data-baseweb="input"] { background: #FFFFFF !important; }
}
/* the inline scripts (Chinese words, cookie) take no room */
[data-testid="stElementContainer"]:has(> [data-testid="stHtml"] > script:first-child),
[data-testid="stElementContainer"]:has(> .stHtml > script:first-child) { display: none; }
</style>
"""
