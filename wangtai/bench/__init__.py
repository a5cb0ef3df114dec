"""The benchmark (issue 6): demo data at subdistrict, district and city scale, ingest, every named query,
every page, and a plain-pandas baseline of the page figures, side by side in one run.

    wangtai bench [--scales 69000,2000000,10000000] [--out docs/benchmarks.md] [--data-root bench-data]

Each phase runs in its own process (``python -m wangtai.bench.worker PHASE``) so that its peak RSS is its
own: generate, ingest, serve (our runner and the Streamlit pages through AppTest) and baseline (pandas).
Never part of the test suite.
"""

DEFAULT_SCALES = (69_000, 2_000_000, 10_000_000)
# The demo's clock, frozen, so that every run measures the same data set.
BENCH_NOW = "2026-11-27T10:30:00"
