"""The fee pages in a real browser (Debian's chromium, headless), at 1280 and 390 px, in Chinese
and English: no page is wider than the screen, and on every chart no two texts overlap, none
leaves the chart, and none is drawn smaller than 10 px.

Usage: fee_pages.py BASE_URL ADMIN_EMAIL ADMIN_PASSWORD   (a server started with --demo)

Installs chromium and chromium-driver with apt-get when they are missing (as root); never
downloads a browser of its own.
"""
import os
import shutil
import sys
import tempfile
import urllib.parse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from demo_otp import demo_otp
from journeys import ensure_browser

WIDTHS = [1280, 390]
LANGS = ["zh-CN", "en"]
MIN_TEXT_PX = 10.0


def browser():
    opts = webdriver.ChromeOptions()
    for flag in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--user-data-dir=" + tempfile.mkdtemp(prefix="fee-pages-"),
    ]:
        opts.add_argument(flag)
    opts.binary_location = shutil.which("chromium")
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)


# What a page looks like to the test: how much wider than the screen it is, and for each chart
# the texts that overlap, stick out, or are too small.
MEASURE = r"""
const width = arguments[0], minPx = arguments[1];
const out = {wider: document.documentElement.scrollWidth - width, charts: 0, problems: []};
for (const svg of document.querySelectorAll('svg.chart-svg')) {
  out.charts += 1;
  const box = svg.getBoundingClientRect();
  const scale = box.width / svg.viewBox.baseVal.width;
  const texts = [...svg.querySelectorAll('text')]
    .filter(t => getComputedStyle(t).display !== 'none' && t.textContent.trim() !== '')
    .map(t => ({t: t.textContent.trim(), r: t.getBoundingClientRect(),
                px: parseFloat(getComputedStyle(t).fontSize) * scale}));
  for (const a of texts) {
    if (a.r.left < box.left - 1 || a.r.right > box.right + 1 || a.r.top < box.top - 1 || a.r.bottom > box.bottom + 1)
      out.problems.push(`"${a.t}" leaves the chart`);
    if (a.px < minPx) out.problems.push(`"${a.t}" is ${a.px.toFixed(1)} px`);
  }
  for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) {
    const a = texts[i].r, b = texts[j].r;
    const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    if (w > 1 && h > 1) out.problems.push(`"${texts[i].t}" overlaps "${texts[j].t}"`);
  }
}
return out;
"""


def main():
    base, email, password = sys.argv[1], sys.argv[2], sys.argv[3]
    ensure_browser()
    d = browser()
    problems = []
    checked = 0
    try:
        d.get(base + "/login?lang=zh-CN")
        d.find_element(By.ID, "email").send_keys(email)
        d.find_element(By.ID, "password").send_keys(password)
        if email.startswith("admin-"):
            d.find_element(By.ID, "otp").send_keys(demo_otp(email))
        d.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()
        WebDriverWait(d, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "form[action='/logout']"))
        d.get(base + "/admin/fees?lang=zh-CN")
        detail = d.find_element(By.CSS_SELECTOR, "table.fee-all a").get_attribute("href")
        detail = urllib.parse.urlsplit(detail).path
        amount = urllib.parse.quote("350万")
        pages = ["/fees", f"/fees?amount={amount}", "/fees/history", "/admin/fees", "/admin/fees/new", detail]
        for width in WIDTHS:
            d.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 500},
            )
            for lang in LANGS:
                visits = [(p, None) for p in pages] + [("/admin/fees/new", "preview")]
                for path, action in visits:
                    sep = "&" if "?" in path else "?"
                    d.get(f"{base}{path}{sep}lang={lang}")
                    if action == "preview":
                        d.find_element(By.ID, "name").send_keys("v9")
                        d.find_element(By.CSS_SELECTOR, ".fee-editor-actions button[value=preview]").click()
                        try:
                            WebDriverWait(d, 10).until(
                                lambda d: d.find_elements(By.CSS_SELECTOR, ".fee-preview svg.chart-svg")
                            )
                        except TimeoutException:
                            problems.append(f"{width} {lang} preview: no chart")
                    m = d.execute_script(MEASURE, width, MIN_TEXT_PX)
                    where = f"{width} px {lang} {path}{' ' + action if action else ''}"
                    if m["wider"] > 0:
                        problems.append(f"{where}: {m['wider']} px wider than the screen")
                    problems.extend(f"{where}: {p}" for p in m["problems"])
                    checked += 1 + m["charts"]
    finally:
        d.quit()
    if problems:
        sys.exit("fee pages:\n" + "\n".join(problems))
    print(f"checked {checked} pages and charts")


if __name__ == "__main__":
    main()
