"""How long the review page makes a clerk wait per decision, in a real browser; prints JSON lines.

Starts a real server (SQLite, worker on) with typed suggestions in triage, opens /staff/review in
headless Chromium, and decides items with the keyboard only (a number key, then Enter). Measured:
from the Enter key to the next item on screen (the save round trip plus rendering), per decision.
The clerk's own thinking time is not included; the target is a routine decision under 2 s.

    nice -n 10 .venv-test/bin/python -m bench.review_speed --decisions 30
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from api import accounts
from api.settings import Settings
from models.db import make_session_factory, unit_of_work
from tests.server import start_server

CLERK, PASSWORD = "bench.clerk", "bench password"


def _create_clerk(data_dir: Path) -> None:
    engine = accounts.open_database(Settings(data_dir=data_dir).resolved_database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            accounts.create_staff(session, username=CLERK, password=PASSWORD, roles=[accounts.REVIEWER])
    finally:
        engine.dispose()


TEXTS = [
    "路灯坏了好几天，晚上一片漆黑",
    "村口的路坑坑洼洼，下雨天车都开不了",
    "河边有人倒垃圾，臭味很大",
    "The bus to town only comes twice a day",
    "Street lamp flickering all night on Mill Lane",
    "变压器老化，村里经常停电",
]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the timed decisions and print one JSON line each plus a summary line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--decisions", type=int, default=30)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)
    if not Path(args.chromium).exists():
        print(f"Chromium is missing at {args.chromium}", file=sys.stderr)
        return 2
    from playwright.sync_api import expect, sync_playwright

    with tempfile.TemporaryDirectory(prefix="minsheng-review-speed-") as tmp:
        server = start_server(
            Path(tmp) / "var",
            Path(tmp) / "weights",
            env={"MINSHENG_MIN_CLASSIFIER_CONFIDENCE": "1.0", "MINSHENG_RETRAIN_AFTER_REVIEWS": "0"},
        )
        try:
            _create_clerk(Path(tmp) / "var")
            ids = []
            for i in range(args.decisions + 1):
                text = f"{TEXTS[i % len(TEXTS)]} ({i})"
                ids.append(httpx.post(f"{server.url}/api/v1/suggestions", data={"text": text}).json()["id"])
            login = httpx.Client(base_url=server.url)
            form = login.get("/login")
            token = form.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
            login.post("/login", data={"username": CLERK, "password": PASSWORD, "csrf_token": token})
            cookies = dict(login.cookies)
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                queue = httpx.get(
                    f"{server.url}/api/v1/review", params={"limit": 1}, auth=None, cookies=cookies
                ).json()
                if queue["total"] >= len(ids):
                    break
                time.sleep(0.5)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium)
                page = browser.new_page(viewport={"width": 1024, "height": 768})  # a tablet
                page.goto(f"{server.url}/staff/review")
                page.fill("input[name=username]", CLERK)
                page.fill("input[name=password]", PASSWORD)
                started = time.perf_counter()
                page.click("button[type=submit]")
                page.wait_for_selector("#item-code:not(:empty)")
                load_s = time.perf_counter() - started
                print(json.dumps({"bench": "review_speed", "page_load_s": round(load_s, 3)}), flush=True)
                times = []
                for n in range(args.decisions):
                    code = page.inner_text("#item-code")
                    page.keyboard.press(str(1 + n % 5))
                    started = time.perf_counter()
                    page.keyboard.press("Enter")
                    expect(page.locator("#item-code")).not_to_have_text(code, timeout=10000)
                    seconds = time.perf_counter() - started
                    times.append(seconds)
                    print(
                        json.dumps({"bench": "review_speed", "decision": n + 1, "seconds": round(seconds, 3)})
                    )
                browser.close()
            print(
                json.dumps(
                    {
                        "bench": "review_speed",
                        "summary": True,
                        "decisions": len(times),
                        "median_s": round(statistics.median(times), 3),
                        "p90_s": round(sorted(times)[int(0.9 * (len(times) - 1))], 3),
                        "max_s": round(max(times), 3),
                        "target_s": 2.0,
                    }
                ),
                flush=True,
            )
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
