"""Screenshots of every page, to look at: a real `streamlit run dashboard.py` over a data directory, the
system's headless Chromium, PNGs in artifacts/screenshots/ (git-ignored). The pages are opened as a 领导
(leadership) user of a throwaway user store, so the real one gets no screenshot users.

    python scripts/screenshots.py [--data-dir DIR] [--sizes 1920x1080,1366x768] [--theme dark|light]
                                  [--community CODE]

Never runs `playwright install`: wangtai.e2e launches /usr/bin/chromium with the arguments verified in
DESIGN.md and waits for Streamlit's readiness marker before each shot.
"""

import argparse
import os
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from wangtai import e2e, settings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(settings.get("data_dir")))
    parser.add_argument("--out", default=str(e2e.REPO / "artifacts" / "screenshots"))
    parser.add_argument("--sizes", default="1920x1080,1366x768")
    parser.add_argument("--theme", choices=("dark", "light"), default="dark")
    parser.add_argument("--community", help="shoot every page filtered to this community code")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sizes = [tuple(int(v) for v in size.split("x")) for size in args.sizes.split(",")]
    query = f"?community={args.community}" if args.community else ""
    env = {"WANGTAI_REFRESH_SECONDS": "0", **(e2e.light_theme_env() if args.theme == "light" else {})}
    data_dir = Path(args.data_dir).resolve()
    with tempfile.TemporaryDirectory(prefix="wangtai-shots-auth-") as auth_dir:
        env["WANGTAI_AUTH_DIR"] = os.environ["WANGTAI_AUTH_DIR"] = auth_dir
        token = e2e.leader_session(data_dir)
        with e2e.streamlit_server(data_dir, env=env) as url, sync_playwright() as playwright:
            browser = e2e.launch_browser(playwright)
            for size in sizes:
                for file in e2e.shoot_pages(browser, url, out, size, args.theme, query, token=token):
                    print(f"saved {file}")
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
