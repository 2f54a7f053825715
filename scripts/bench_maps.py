#!/usr/bin/env python
"""Benchmark of the maps: page sizes and first paint in headless Chromium.

Builds the layers of a region, writes OUT/map.html and the published site
(with the analyses found in --analyses DIR, e.g. the outputs of ``plan.py
access`` and ``plan.py scenario``; else the small sample frames of
maps.samples, so the analysis pages exist),
serves the site on 127.0.0.1 and opens every page in headless Chromium with
the cache disabled, several times. Reports per page: bytes of HTML with its
inline data, first paint / first contentful paint, and the time the map
script finished (``window.bgReady``), each against a baseline page in the same
run (an empty Leaflet map with the same vendored assets). Budgets of issue 5:
≤ 5 MB per page, first paint ≤ 3 s.

    python scripts/bench_maps.py --data ../shared/data [--repeats 5] [--json bench_maps.json]

Tile requests fail without network; that is the offline case the maps must
handle, and it makes the numbers independent of a tile server.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo import settings  # noqa: E402

BUDGET_BYTES = 5_000_000
BUDGET_FIRST_PAINT_MS = 3000
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1400,900")


def baseline_html() -> str:
    from maps import vendor

    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><link rel='icon' href='data:,'>" + vendor.head_html("site")
            + "<style>html,body,#m{height:100%;margin:0}</style></head><body><div id='m'></div><script>"
            "var m = L.map('m', {preferCanvas: true}).setView([21.37, 106.45], 10);"
            "L.tileLayer('https://tile.openstreetmap.org/{z}/{x}/{y}.png').addTo(m);"
            "window.bgReady = performance.now();</script></body></html>")


def measure(driver, url: str, repeats: int) -> dict:
    rows = []
    for _ in range(repeats):
        driver.get("about:blank")
        driver.get(url)
        deadline = time.time() + 30
        while time.time() < deadline and driver.execute_script("return window.bgReady === undefined && !!window.L"):
            time.sleep(0.02)
        while time.time() < deadline and not driver.execute_script(
                "return performance.getEntriesByName('first-contentful-paint').length > 0"):
            time.sleep(0.02)
        m = driver.execute_script("""
            var p = {}; performance.getEntriesByType('paint').forEach(function (e) { p[e.name] = e.startTime; });
            var n = performance.getEntriesByType('navigation')[0];
            return {fp: p['first-paint'] || null, fcp: p['first-contentful-paint'] || null,
                    ready: window.bgReady || null, dcl: n ? n.domContentLoadedEventEnd : null};""")
        rows.append(m)
    out = {}
    for key in ("fp", "fcp", "ready", "dcl"):
        values = [r[key] for r in rows if r[key] is not None]
        out[key] = round(statistics.median(values), 1) if values else None
    return out


def main(argv=None) -> int:
    from layers.build import build_layers
    from layers.region import DEFAULT_DATA_DIR, load_region
    from maps import vendor
    from maps.planner import planner_map, read_analyses, save_map
    from maps.publish import publish_site
    from maps.samples import sample_analyses

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--region", default="bac-giang")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: a temporary folder)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--analyses", type=Path, default=None, metavar="DIR",
                    help="a folder with the real analysis outputs (access.gpkg, scenario.gpkg, analyses.gpkg); "
                         "default: the small sample frames of maps.samples")
    args = ap.parse_args(argv)
    settings.progress = False
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-maps-"))

    t0 = time.perf_counter()
    built = build_layers(load_region(args.region, data_dir=args.data))
    t_layers = time.perf_counter() - t0
    t0 = time.perf_counter()
    analyses_for_map = read_analyses(args.analyses) if args.analyses else {}
    m = planner_map(built.layers, population=built.population, summary=built.summary, analyses=analyses_for_map)
    planner_path = save_map(m, out / "map.html")
    t_planner = time.perf_counter() - t0
    t0 = time.perf_counter()
    analyses = read_analyses(args.analyses) if args.analyses else sample_analyses(built.layers)
    site = publish_site(out, layers=built.layers, population=built.population, analyses=analyses, summary=built.summary)
    t_publish = time.perf_counter() - t0
    (site["site"] / "_baseline.html").write_text(baseline_html(), encoding="utf-8")

    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    handler = functools.partial(_Quiet, directory=str(site["site"]))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    options = Options()
    options.binary_location = args.chromium
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="bench-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.page_load_strategy = "eager"     # failed tile requests (offline) must not hold the measurement
    driver = webdriver.Chrome(service=Service(args.chromedriver), options=options)
    results = {}
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        measure(driver, f"{base}/_baseline.html", 1)       # warm-up (browser start)
        results["_baseline.html"] = measure(driver, f"{base}/_baseline.html", args.repeats)
        for page in sorted(site["pages"]):
            results[page] = measure(driver, f"{base}/{page}", args.repeats)
        results["map.html (file://, inline assets)"] = measure(driver, planner_path.resolve().as_uri(), args.repeats)
    finally:
        driver.quit()
        httpd.shutdown()
        (site["site"] / "_baseline.html").unlink()

    sizes = dict(site["pages"])
    sizes["map.html (file://, inline assets)"] = planner_path.stat().st_size
    sizes["_baseline.html"] = len(baseline_html().encode())
    base_fcp = results["_baseline.html"]["fcp"] or 1
    print(f"layers built in {t_layers:.1f} s; OUT/map.html written in {t_planner:.1f} s; site published in {t_publish:.1f} s")
    print(f"vendored assets loaded by each site page: {vendor.asset_bytes() / 1e3:.0f} kB (shared, cached by browsers)")
    print(f"{'page':38} {'bytes':>10} {'FP ms':>7} {'FCP ms':>7} {'FCP/base':>8} {'ready ms':>8}  budget")
    ok = True
    for page, r in results.items():
        size = sizes.get(page, 0)
        within = size <= BUDGET_BYTES and (r["fp"] or 1e9) <= BUDGET_FIRST_PAINT_MS
        ok &= within or page.startswith("_")
        ratio = (r["fcp"] or 0) / base_fcp
        print(f"{page:38} {size:>10,} {r['fp'] or 0:>7.0f} {r['fcp'] or 0:>7.0f} {ratio:>8.2f} {r['ready'] or 0:>8.0f}  "
              f"{'ok' if within else 'OVER'}")
    report = {"region": args.region, "seconds": {"layers": round(t_layers, 2), "planner_map": round(t_planner, 2),
                                                 "publish": round(t_publish, 2)},
              "asset_bytes": vendor.asset_bytes(), "sizes": sizes, "browser_ms": results,
              "budgets": {"bytes": BUDGET_BYTES, "first_paint_ms": BUDGET_FIRST_PAINT_MS}, "within_budget": ok}
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0 if ok else 1


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


if __name__ == "__main__":
    sys.exit(main())
