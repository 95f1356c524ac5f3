"""Every page of tests/py/pages.toml in headless chromium (Debian's), at 390 and 1280 px, in Chinese
and in English: a full-page screenshot under OUT_DIR/<width>/<lang>/, and on every page
- nothing reaches past the right edge of the screen except inside a table that scrolls sideways
  (the page itself never scrolls sideways), and a table that scrolls shows a cue (a shadow);
- status tags stay on one line; on a phone the search filters are folded away (the search form is
  short);
- charts keep readable labels (no text under 10 px, overlapping another or leaving its chart);
- it is the page, not an error page (a row the visitor may not see would pass everything else).
Pages marked `print` are also printed to PDF (A4 portrait): one page, the short trade number
(TM-…), amounts in capital numerals (大写), no navigation.

Usage: pages.py BASE_URL PASSWORD OUT_DIR   (a server started with --demo; PASSWORD the demo's)
Prints one JSON line: {"pages": N, "printed": M}; exits non-zero with the problems found.
"""
import base64
import io
import json
import os
import re
import sys
import tomllib
import urllib.parse

from pypdf import PdfReader
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from demo_otp import demo_otp
from fee_pages import MEASURE as MEASURE_CHARTS
from journeys import _stale, browser, ensure_browser
from layout import MEASURE, screenshot

WIDTHS = [390, 1280]
LANGS = ["zh-CN", "en"]
CAPITALS = re.compile("[零壹贰叁肆伍陆柒捌玖][零壹贰叁肆伍陆柒捌玖拾佰仟万亿]*元")

# Printing: the navigation is hidden and nothing shows a scrollbar.
PRINT_MEASURE = r"""
const shown = sel => [...document.querySelectorAll(sel)].filter(e => e.getBoundingClientRect().height > 0);
const problems = [];
if (shown('.site-header, .site-footer, nav, .no-print').length) problems.push('navigation is printed');
for (const el of document.querySelectorAll('main *'))
  if (['auto', 'scroll'].includes(getComputedStyle(el).overflowX) && el.scrollWidth > el.clientWidth + 1)
    problems.push(`<${el.tagName.toLowerCase()} class="${el.className}"> prints a scrollbar`);
return problems;
"""


class Pages:
    def __init__(self, base, password, out, plan):
        self.base, self.password, self.out, self.plan = base, password, out, plan
        self.drivers = {}
        self.found = {}
        self.problems = []
        self.pages = self.printed = 0

    def driver(self, who):
        """One browser per kind of visitor, signed in once."""
        if who in self.drivers:
            return self.drivers[who]
        d = browser(1280)
        self.drivers[who] = d
        d.get(self.base + "/login")
        if who != "anon":
            email = self.plan["role"][who]["email"]
            d.find_element(By.ID, "email").send_keys(email)
            d.find_element(By.ID, "password").send_keys(self.password)
            if email.startswith("admin-"):
                d.find_element(By.ID, "otp").send_keys(demo_otp(email))
            old = d.find_element(By.TAG_NAME, "html")
            d.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()
            WebDriverWait(d, 30).until(lambda d: _stale(old))
            assert d.find_elements(By.CSS_SELECTOR, "form[action='/logout']"), f"{email} signed in"
        return d

    def resolve(self, path):
        """The path with its `{name}` placeholders replaced by the links [find.name] finds."""
        def one(m):
            key = m.group(1)
            if key not in self.found:
                rule = self.plan["find"][key]
                d = self.driver(rule["as"])
                d.get(self.base + self.resolve(rule["page"]))
                if "submit" in rule:
                    # A link made by a form (an invitation's, shown once): fill it in and send it.
                    form = d.find_element(By.CSS_SELECTOR, f"form[action='{rule['submit']}']")
                    for name, value in rule.get("fields", {}).items():
                        form.find_element(By.NAME, name).send_keys(value)
                    old = d.find_element(By.TAG_NAME, "html")
                    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
                    WebDriverWait(d, 30).until(lambda d: _stale(old))
                pattern = re.compile(rule["link"])
                hrefs = [a.get_attribute("href") or "" for a in d.find_elements(By.CSS_SELECTOR, "a[href]")]
                hrefs += [i.get_attribute("value") or ""
                          for i in d.find_elements(By.CSS_SELECTOR, "input[readonly]")]
                links = [urllib.parse.urlsplit(h).path for h in hrefs]
                hit = next((p for p in links if pattern.fullmatch(p)), None)
                if hit is None:
                    raise LookupError(f"no link matching {rule['link']} on {rule['page']}")
                self.found[key] = hit
            return self.found[key]
        return re.sub(r"\{([a-z_]+)\}", one, path)

    def visit(self, d, url, width, lang, label):
        d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                          {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 500})
        sep = "&" if "?" in url else "?"
        d.get(f"{self.base}{url}{sep}lang={lang}")
        where = f"{width} px {lang} {url} ({label})"
        # A page the visitor may not see, or that broke, would pass every measure below.
        for e in d.find_elements(By.CSS_SELECTOR, ".error-page"):
            self.problems.append(f"{where}: an error page: {e.text[:120]!r}")
        m = d.execute_script(MEASURE, width < 500)
        if m["wider"] > 0:
            self.problems.append(f"{where}: the page is {m['wider']} px wider than the screen")
        self.problems.extend(f"{where}: {p}" for p in m["problems"])
        charts = d.execute_script(MEASURE_CHARTS, width, 10.0)
        self.problems.extend(f"{where}: chart: {p}" for p in charts["problems"])
        folder = os.path.join(self.out, str(width), lang)
        os.makedirs(folder, exist_ok=True)
        self.pages += 1
        file = re.sub(r"[^a-z0-9]+", "-", f"{label} {url}".lower()).strip("-")[:80]
        screenshot(d, os.path.join(folder, f"{self.pages:03d}-{file}.png"))

    def print_pdf(self, d, url, lang, label):
        """Prints the page on A4 portrait as chromium's print dialog would."""
        d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        d.get(f"{self.base}{url}{'&' if '?' in url else '?'}lang={lang}")
        where = f"print {lang} {url} ({label})"
        d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        self.problems.extend(f"{where}: {p}" for p in d.execute_script(PRINT_MEASURE))
        d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        pdf = d.execute_cdp_cmd("Page.printToPDF", {
            "paperWidth": 8.27, "paperHeight": 11.69, "landscape": False, "preferCSSPageSize": True,
            "printBackground": False})
        data = base64.b64decode(pdf["data"])
        folder = os.path.join(self.out, "print")
        os.makedirs(folder, exist_ok=True)
        file = re.sub(r"[^a-z0-9]+", "-", f"{label} {lang} {url}".lower()).strip("-")[:80]
        with open(os.path.join(folder, f"{file}.pdf"), "wb") as f:
            f.write(data)
        reader = PdfReader(io.BytesIO(data))
        self.printed += 1
        if len(reader.pages) != 1:
            self.problems.append(f"{where}: prints on {len(reader.pages)} pages, not one")
        text = "".join(p.extract_text() or "" for p in reader.pages)
        if not re.search(r"TM-\d{4}-\d{6}", text):
            self.problems.append(f"{where}: no TM- trade number in the printout")
        if not CAPITALS.search(text):
            self.problems.append(f"{where}: no amount in capital numerals (大写) in the printout")
        trade_id = re.search(r"/trades/([0-9a-f-]{36})", url)
        if trade_id and trade_id.group(1) in text.replace("\n", ""):
            self.problems.append(f"{where}: the printout shows the trade's internal id")

    def run(self):
        rows = self.plan["page"]
        for width in WIDTHS:
            for lang in LANGS:
                for row in rows:
                    label = row["as"]
                    try:
                        url = self.resolve(row["path"])
                        self.visit(self.driver(row["as"]), url, width, lang, label)
                    except Exception as e:  # one page breaking off does not hide the others
                        self.problems.append(f"{width} px {lang} {row['path']} ({label}): {type(e).__name__}: {e}")
        for row in (r for r in rows if r.get("print")):
            for lang in LANGS:
                try:
                    self.print_pdf(self.driver(row["as"]), self.resolve(row["path"]), lang, row["as"])
                except Exception as e:
                    self.problems.append(f"print {lang} {row['path']}: {type(e).__name__}: {e}")

    def close(self):
        for d in self.drivers.values():
            d.quit()


def main():
    base, password, out = sys.argv[1:4]
    ensure_browser()
    with open(os.path.join(os.path.dirname(__file__), "pages.toml"), "rb") as f:
        plan = tomllib.load(f)
    p = Pages(base, password, out, plan)
    try:
        p.run()
    finally:
        p.close()
    print(json.dumps({"pages": p.pages, "printed": p.printed, "problems": len(p.problems)}))
    if p.problems:
        sys.exit("pages:\n" + "\n".join(p.problems))


if __name__ == "__main__":
    main()
