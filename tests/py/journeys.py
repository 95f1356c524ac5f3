"""Browser journeys in headless chromium (Debian's chromium and chromedriver), in Chinese and in
English, each on a 1280 px desktop and on a 390 px phone: register two organisations, an exchange
admin verifies them, the seller lists an achievement, the admin approves it, the buyer finds it by
search, offers, the seller counters, the buyer accepts, the admin records the payment, the seller
records the delivery, the buyer confirms acceptance and reads the statement; then a live auction
where a second browser sees the first one's bid without reloading.

On every page: a screenshot under OUT_DIR/<width>/<lang>/, no console errors (CSP violations are
reported there too), axe-core finds no serious or critical accessibility violation, and the page
does not scroll sideways outside its tables (layout.py).

Usage: journeys.py BASE_URL ADMIN_EMAIL ADMIN_PASSWORD AXE_JS OUT_DIR [LANG...]
(a server started with --demo; ADMIN is the demo admin of suaee, the exchange both organisations
join; AXE_JS is axe.min.js from the pinned npm package, tests/js).

Installs chromium, chromium-driver and fonts-noto-cjk with apt-get when chromium is missing (as
root); never downloads a browser of its own.
"""
import datetime
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from demo_otp import demo_otp
from layout import MEASURE, screenshot

PASSWORD = "journey-password-2026"
CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CODE_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def has_chinese_font():
    """Whether fontconfig knows a font with Chinese glyphs: without one, chromium draws Chinese as
    empty boxes and printed PDFs carry no Chinese text (the pages test looks for 大写 amounts)."""
    try:
        out = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    except OSError:
        return False
    return bool(out.strip())


def ensure_browser():
    if shutil.which("chromium") and shutil.which("chromedriver") and has_chinese_font():
        return
    if os.geteuid() != 0:
        sys.exit("chromium, chromedriver or a Chinese font is missing: apt-get install -y chromium chromium-driver fonts-noto-cjk")
    # Browser tests start together on a fresh machine: the second apt-get waits for the first's lock.
    cmd = ["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "-q", "chromium", "chromium-driver",
           "fonts-noto-cjk"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.run(cmd, stdout=subprocess.DEVNULL, env=env).returncode != 0:
        subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=600", "update", "-q"], stdout=subprocess.DEVNULL,
                       check=True)
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True, env=env)


def credit_code():
    """A valid unified social credit code (GB 32100) for a fresh organisation."""
    body = "91510100MA" + "".join(random.choice("0123456789") for _ in range(7))
    total = sum(CODE_CHARS.index(c) * w for c, w in zip(body, CODE_WEIGHTS))
    return body + CODE_CHARS[(31 - total % 31) % 31]


def browser(width):
    opts = webdriver.ChromeOptions()
    for flag in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size={width},1000",
    ]:
        opts.add_argument(flag)
    opts.binary_location = shutil.which("chromium")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # Starting a browser can fail on a machine busy with other browsers (chromedriver gives up waiting
    # for chromium's DevTools port): that is not the journey's fault, so try again before giving up.
    for attempt in range(3):
        opts.arguments[:] = [a for a in opts.arguments if not a.startswith("--user-data-dir=")]
        opts.add_argument("--user-data-dir=" + tempfile.mkdtemp(prefix="journeys-"))
        try:
            d = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
            break
        except WebDriverException as e:
            if attempt == 2:
                raise
            print(f"starting chromium failed ({type(e).__name__}: {str(e)[:200]}); trying again",
                  file=sys.stderr)
            time.sleep(3)
    d.set_script_timeout(60)
    # A phone's screen (a window this narrow is not guaranteed), as the page sees it: its width,
    # touch and the mobile viewport.
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": 1000, "deviceScaleFactor": 1, "mobile": width < 500})
    return d


class Journey:
    def __init__(self, base, lang, width, axe_js, out_dir):
        self.base, self.lang, self.width, self.axe_js, self.out = base, lang, width, axe_js, out_dir
        self.problems = []
        self.pages = 0
        os.makedirs(out_dir, exist_ok=True)

    # ------------------------------------------------------------------ checks of every page
    def check(self, d, name):
        """Screenshot, console errors, CSP violations and axe-core on the page `d` shows now."""
        self.pages += 1
        where = f"[{self.lang} {self.width} px] {name} ({urllib.parse.urlsplit(d.current_url).path})"
        screenshot(d, os.path.join(self.out, f"{self.pages:02d}-{name}.png"))
        layout = d.execute_script(MEASURE, self.width < 500)
        if layout["wider"] > 0:
            self.problems.append(f"{where}: the page is {layout['wider']} px wider than the screen")
        self.problems.extend(f"{where}: {p}" for p in layout["problems"])
        for entry in d.get_log("browser"):
            if entry.get("level") == "SEVERE":
                self.problems.append(f"{where}: console: {entry.get('message')}")
        found = self.axe(d)
        for v in found:
            self.problems.append(f"{where}: axe {v['impact']} {v['id']}: {v['help']} at {v['nodes']}")

    def axe(self, d):
        """axe-core's serious and critical violations on the current page. Injected and run once the
        document has loaded; should the browser still commit a navigation between the injection and
        the run (a form's redirect seen stale early, on a loaded machine), it is injected again into
        the page that is there now: the injected script belongs to the document, not the tab."""
        run = """
            const done = arguments[arguments.length - 1];
            if (typeof axe === 'undefined') { done(null); return; }
            axe.run(document, {resultTypes: ['violations']})
              .then(r => done(r.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => ({id: v.id, impact: v.impact, help: v.help,
                            nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))
              .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
            """
        for _ in range(3):
            WebDriverWait(d, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
            d.execute_script(self.axe_js)
            found = d.execute_async_script(run)
            if found is not None:
                return found
        return [{"id": "axe-missing", "impact": "critical", "help": "axe-core could not be run on the page", "nodes": []}]

    def go(self, d, path, name):
        d.get(self.base + path)
        self.check(d, name)

    def submit(self, d, form_css, name, fields=None, selects=None, checks=(), button=None):
        """Fills a form on the current page, submits it, waits for the next page and checks it.

        A form found while the page was still being replaced (CI saw a stale element in the deposit
        journey, 2026-12-08) is found again and filled again, up to three times; the submit itself is
        never repeated."""
        for attempt in range(3):
            try:
                WebDriverWait(d, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
                form = d.find_element(By.CSS_SELECTOR, form_css)
                for field, value in (fields or {}).items():
                    el = form.find_element(By.NAME, field)
                    el.clear()
                    el.send_keys(value)
                for field, value in (selects or {}).items():
                    Select(form.find_element(By.NAME, field)).select_by_value(value)
                for css in checks:
                    box = form.find_element(By.CSS_SELECTOR, css)
                    if not box.is_selected():
                        box.click()
                break
            except StaleElementReferenceException:
                if attempt == 2:
                    raise
        old = d.find_element(By.TAG_NAME, "html")
        (form.find_element(By.CSS_SELECTOR, button) if button else
         form.find_element(By.CSS_SELECTOR, "button[type=submit]")).click()
        WebDriverWait(d, 30).until(lambda d: _stale(old))
        alerts = [e.text for e in d.find_elements(By.CSS_SELECTOR, ".alert.error, [aria-invalid=true]")]
        if alerts:
            self.problems.append(f"[{self.lang} {self.width} px] {name}: the form answered with errors: {alerts}")
        self.check(d, name)

    def sign_in(self, d, email, password, name):
        self.go(d, "/login", f"{name}-login")
        self.submit(d, "form[action='/login']", f"{name}-signed-in",
                    fields={"email": email, "password": password,
                            **({"otp": demo_otp(email)} if email.startswith("admin-") else {})})
        assert d.find_elements(By.CSS_SELECTOR, "form[action='/logout']"), f"{email} signed in"

    def register(self, d, who, tag):
        email = f"{who}-{tag}@journey.example.cn"
        org = f"旅程测试机构 {who} {tag}" if self.lang == "zh-CN" else f"Journey test org {who} {tag}"
        self.go(d, "/register", f"{who}-register")
        self.submit(d, "form[action='/register']", f"{who}-registered",
                    fields={"email": email, "password": PASSWORD, "display_name": who,
                            "organization.name": org, "organization.credit_code": credit_code()},
                    selects={"organization.kind": "enterprise", "organization.province": "sichuan",
                             "organization.exchange": "suaee"})
        assert d.find_elements(By.CSS_SELECTOR, "form[action='/logout']"), f"{who} registered and signed in"
        return email, org

    # ------------------------------------------------------------------ the journey
    def run(self, admin_email, admin_password, width):
        tag = f"{self.lang}-{width}-{random.randrange(10**6):06d}"
        a, s, b = browser(width), browser(width), browser(width)
        try:
            for d in (a, s, b):
                d.get(f"{self.base}/?lang={self.lang}")
                d.get_log("browser")
            self.go(b, "/", "home")
            seller, seller_org = self.register(s, "seller", tag)
            buyer, buyer_org = self.register(b, "buyer", tag)

            # The exchange's admin verifies both organisations.
            self.sign_in(a, admin_email, admin_password, "admin")
            for org in (seller_org, buyer_org):
                self.go(a, "/admin", "admin-verification")
                row = a.find_element(By.XPATH, f"//tr[contains(., '{org}')]")
                form = row.find_element(By.CSS_SELECTOR, "form[action$='/verify']")
                action = urllib.parse.urlsplit(form.get_attribute("action")).path
                self.submit(a, f"form[action='{action}']", "admin-verified")

            # The seller lists an achievement and submits it for review.
            title = f"微波等离子体刻蚀装置 {tag}"
            listing = self.new_listing(s, title, "negotiable", {})
            # The admin approves it.
            self.review(a, listing)

            # The buyer finds it, offers; the seller counters; the buyer accepts.
            self.go(b, "/listings?q=" + urllib.parse.quote(title), "search")
            b.find_element(By.XPATH, f"//a[contains(., '{tag}')]").click()
            WebDriverWait(b, 20).until(lambda d: d.find_elements(By.ID, "listing-title"))
            self.check(b, "listing")
            self.submit(b, f"form[action='/listings/{listing}/offers']", "offer-confirm",
                        fields={"amount": "120万", "message": "希望洽谈 / we would like to talk"})
            # Every money form shows its amounts (元, 万元, 大写) and fees first; then it is sent.
            self.submit(b, f"form[action='/listings/{listing}/offers']", "offer-made")
            thread = urllib.parse.urlsplit(b.current_url).path
            assert thread.startswith("/offers/"), b.current_url
            self.go(s, "/my/offers", "seller-offers")
            self.go(s, thread, "seller-thread")
            self.submit(s, "form[action$='/counter']", "counter-confirm", fields={"amount": "150万"})
            self.submit(s, "form[action$='/counter']", "countered")
            self.go(b, thread, "buyer-thread")
            self.submit(b, "form[action$='/accept']", "accept-confirm")
            self.submit(b, "form[action$='/accept']", "accepted")
            trade = urllib.parse.urlsplit(b.current_url).path
            assert trade.startswith("/trades/"), b.current_url

            # Payment recorded by the admin, delivery recorded by the seller, accepted by the buyer,
            # the statement.
            self.go(a, trade, "admin-trade")
            self.submit(a, "form[action$='/payment-received']", "paid", checks=["input[name=confirm]"])
            self.go(s, trade, "seller-trade")
            self.submit(s, "form[action$='/delivery']", "delivered",
                        fields={"note": "资料与样机已交付 / documents and prototype handed over"})
            note = s.find_element(By.CSS_SELECTOR, "[data-delivery-note]").text
            assert "documents and prototype" in note, note
            self.go(b, trade, "buyer-trade")
            assert b.find_elements(By.CSS_SELECTOR, "[data-delivery-note]"), "the buyer sees the delivery"
            self.submit(b, "form[action$='/confirm-delivery']", "settled", checks=["input[name=confirm]"])
            status = b.find_element(By.TAG_NAME, "main").text
            assert ("已结算" in status) or ("Settled" in status) or ("settled" in status), status[:500]
            self.go(b, trade + "/statement", "statement")
            self.go(s, "/trades", "seller-trades")

            # A live auction: the seller watches, the buyer bids; the seller's page shows it unreloaded.
            ends = (datetime.datetime.now() + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
            auction = self.new_listing(s, f"齿轨列车转向架 {tag}", "auction",
                                       {"pricing.auction.start_price_fen": "100万",
                                        "pricing.auction.increment_fen": "1万",
                                        "pricing.auction.ends_at": ends})
            self.review(a, auction)
            self.go(s, f"/listings/{auction}", "auction-watch")
            s.execute_script("window.__notReloaded = true;")
            before = s.find_element(By.CSS_SELECTOR, "[data-bid-count]").text.strip()
            assert before == "0", f"a fresh auction shows {before!r} bids"
            self.go(b, f"/listings/{auction}", "auction-bidder")
            # The first bid at the start price, then one raised by hand: the watcher sees both.
            self.submit(b, f"form[action='/listings/{auction}/bids']", "bid-confirm")
            self.submit(b, f"form[action='/listings/{auction}/bids']", "bid-placed")
            self.submit(b, f"form[action='/listings/{auction}/bids']", "raise-confirm",
                        fields={"amount": "105万"})
            self.submit(b, f"form[action='/listings/{auction}/bids']", "bid-raised")
            try:
                WebDriverWait(s, 20).until(
                    lambda d: d.find_element(By.CSS_SELECTOR, "[data-bid-count]").text.strip() == "2"
                    and "1,050,000" in d.find_element(By.CSS_SELECTOR, "[data-price]").text)
            except Exception:
                self.problems.append(
                    f"[{self.lang} {self.width} px] the watching browser did not see the bids: "
                    f"{s.find_element(By.CSS_SELECTOR, '[data-bid-count]').text} bids, "
                    f"price {s.find_element(By.CSS_SELECTOR, '[data-price]').text}")
            if not s.execute_script("return window.__notReloaded === true;"):
                self.problems.append(f"[{self.lang} {self.width} px] the watching page was reloaded")
            rows = s.find_elements(By.CSS_SELECTOR, "[data-bids] tr")
            if len(rows) != 2:
                self.problems.append(f"[{self.lang} {self.width} px] the watching browser lists {len(rows)} bids, not 2")
            self.check(s, "auction-seen")
        finally:
            for d in (a, s, b):
                d.quit()

    def new_listing(self, s, title, mode, pricing):
        self.go(s, "/listings/new", "listing-new")
        form = s.find_element(By.CSS_SELECTOR, "form.form")
        Select(form.find_element(By.NAME, "field")).select_by_index(1)
        Select(form.find_element(By.NAME, "trl")).select_by_index(6)
        Select(form.find_element(By.NAME, "ip_type")).select_by_value("know_how")
        form.find_element(By.CSS_SELECTOR, "input[name='transaction_modes'][value='transfer']").click()
        form.find_element(By.CSS_SELECTOR, f"input[name='pricing.mode'][value='{mode}']").click()
        for name, value in pricing.items():
            el = form.find_element(By.NAME, name)
            if el.get_attribute("type") == "datetime-local":
                s.execute_script("arguments[0].value = arguments[1];", el, value)
            else:
                el.send_keys(value)
        self.submit(s, "form.form", "listing-draft",
                    fields={"title": title, "summary": "用于半导体刻蚀的微波等离子体装置。",
                            "description": "详细说明 / details: 刻蚀速率高，均匀性好。",
                            "keywords": "等离子体, 刻蚀, plasma"})
        listing = urllib.parse.urlsplit(s.current_url).path.split("/")[2]
        self.submit(s, f"form[action='/listings/{listing}/submit']", "listing-submitted")
        return listing

    def review(self, a, listing):
        self.go(a, "/admin/listings", "review-queue")
        self.go(a, f"/admin/listings/{listing}", "review")
        forms = a.find_elements(By.CSS_SELECTOR, f"form[action='/admin/listings/{listing}/review']")
        approve = forms[0]
        old = a.find_element(By.TAG_NAME, "html")
        approve.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        WebDriverWait(a, 30).until(lambda d: _stale(old))
        self.check(a, "reviewed")


def _stale(el):
    try:
        el.is_enabled()
        return False
    except Exception:
        return True


def main():
    base, email, password, axe_path, out = sys.argv[1:6]
    langs = sys.argv[6:] or ["zh-CN", "en"]
    ensure_browser()
    with open(axe_path, encoding="utf-8") as f:
        axe_js = f.read()
    problems, pages = [], 0
    for width in (1280, 390):
        for lang in langs:
            j = Journey(base, lang, width, axe_js, os.path.join(out, str(width), lang))
            try:
                j.run(email, password, width)
            except Exception as e:  # the journey broke off: say where, with what was found so far
                j.problems.append(f"[{lang} {width} px] journey stopped after {j.pages} pages: {type(e).__name__}: {e}")
            problems += j.problems
            pages += j.pages
    print(json.dumps({"pages": pages, "problems": len(problems)}))
    if problems:
        sys.exit("journeys:\n" + "\n".join(problems))


if __name__ == "__main__":
    main()
