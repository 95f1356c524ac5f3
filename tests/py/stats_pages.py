"""The statistics dashboard and the home page in a real browser (Debian's chromium, headless), at
1280 and 390 px, in Chinese and English: no page is wider than the screen, and on every chart no
two texts overlap, none leaves the chart, and none is drawn smaller than 10 px (the measure of
fee_pages.py). Saves a full-page screenshot of each into SHOT_DIR for people to look at.

Usage: stats_pages.py BASE_URL SHOT_DIR   (a server with settled trades)
"""
import os
import sys

from selenium.webdriver.common.by import By

from fee_pages import MEASURE, MIN_TEXT_PX, browser, ensure_browser

WIDTHS = [1280, 390]
LANGS = ["zh-CN", "en"]
PAGES = ["/stats", "/"]


def main():
    base, shots = sys.argv[1], sys.argv[2]
    os.makedirs(shots, exist_ok=True)
    ensure_browser()
    d = browser()
    problems = []
    checked = 0
    try:
        for width in WIDTHS:
            for lang in LANGS:
                for path in PAGES:
                    d.execute_cdp_cmd(
                        "Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 500},
                    )
                    d.get(f"{base}{path}?lang={lang}")
                    where = f"{width} px {lang} {path}"
                    m = d.execute_script(MEASURE, width, MIN_TEXT_PX)
                    if m["wider"] > 0:
                        problems.append(f"{where}: {m['wider']} px wider than the screen")
                    problems.extend(f"{where}: {p}" for p in m["problems"])
                    if path == "/stats":
                        if m["charts"] != 6:
                            problems.append(f"{where}: {m['charts']} charts, not 6")
                        if not d.find_elements(By.CSS_SELECTOR, "table.chart-matrix"):
                            problems.append(f"{where}: no flow matrix")
                    height = d.execute_script("return document.documentElement.scrollHeight")
                    d.execute_cdp_cmd(
                        "Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": min(height, 12000), "deviceScaleFactor": 1, "mobile": width < 500},
                    )
                    name = ("stats" if path == "/stats" else "home") + f"-{lang}-{width}.png"
                    d.save_screenshot(os.path.join(shots, name))
                    checked += 1 + m["charts"]
    finally:
        d.quit()
    if problems:
        sys.exit("statistics pages:\n" + "\n".join(problems))
    print(f"checked {checked} pages and charts")


if __name__ == "__main__":
    main()
