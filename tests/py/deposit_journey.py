"""Issue 16's journey in headless chromium, on the demo data's auction that asks a deposit
(车载4D毫米波成像雷达), in Chinese on a 390 px phone, every page checked as in journeys.py
(screenshot, console, axe-core, no sideways scrolling).

Phase `bid`: the car maker's owner invites a colleague on /organization and passes on the link; the
colleague registers through it, finds the auction, sees the deposit rule and that the organisation
has not paid (no bid form); the buyer's exchange's administrator records the deposit; the colleague
bids; the Chongqing energy company (deposit already paid) bids more; the colleague's inbox says it
was outbid. Prints {"listing": id, "colleague": email, "pages": n}.

Phase `close` (after the test closed the auction): the colleague sees its deposit refunded on the
auction page and in the inbox; the winner's exchange records its payment, the seller its delivery,
the winner accepts; the winner prints the certificate and a stranger following its QR code's
address reads that it is genuine; an administrator without the authenticator's code is not let in.

Usage: deposit_journey.py BASE_URL AXE_JS OUT_DIR bid
       deposit_journey.py BASE_URL AXE_JS OUT_DIR close LISTING COLLEAGUE_EMAIL TRADE_ID
"""
import json
import os
import random
import sys
import urllib.parse

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from demo_otp import demo_otp
from journeys import Journey, _stale, browser, ensure_browser

DEMO_PASSWORD = "demo-password-2026"
OWNER = "buyer-auto@demo.techmarket.cn"
ENERGY = "buyer-energy@demo.techmarket.cn"
SELLER = "auto@demo.techmarket.cn"
ADMIN = "admin-cquaee@demo.techmarket.cn"
CARMAKER_CODE = "91500000MA0B00010M"
TITLE = "车载4D毫米波成像雷达"
PASSWORD = "journey-password-2026"
WIDTH = 390


class DepositJourney(Journey):
    def __init__(self, base, axe_js, out_dir):
        super().__init__(base, "zh-CN", WIDTH, axe_js, out_dir)

    def fail(self, message):
        self.problems.append(f"[{self.lang} {self.width} px] {message}")

    def open(self):
        d = browser(WIDTH)
        d.get(f"{self.base}/?lang={self.lang}")
        d.get_log("browser")
        return d

    def demo_sign_in(self, d, email, name):
        self.sign_in(d, email, DEMO_PASSWORD, name)

    def text(self, d, css):
        return " ".join(e.text for e in d.find_elements(By.CSS_SELECTOR, css))

    def bid(self, d, listing, amount, name):
        """The bid form, then its confirmation (amounts in 元, 万元 and 大写) and the bid."""
        form_css = f"form[action='/listings/{listing}/bids']"
        form = d.find_element(By.CSS_SELECTOR, form_css)
        modes = form.find_elements(By.CSS_SELECTOR, "select[name=transaction_mode]")
        if modes:
            Select(modes[0]).select_by_value("transfer")
        self.submit(d, form_css, f"{name}-confirm", fields={"amount": amount})
        self.submit(d, form_css, f"{name}-placed")

    # ------------------------------------------------------------------ phase 1
    def bid_phase(self):
        tag = f"{random.randrange(10**6):06d}"
        colleague = f"colleague-{tag}@journey.example.cn"
        o, c, e, a = self.open(), self.open(), self.open(), self.open()
        try:
            # The owner invites a colleague and passes the link on.
            self.demo_sign_in(o, OWNER, "owner")
            self.go(o, "/organization", "organization")
            self.submit(o, "form[action='/organization/invitations']", "invited",
                        fields={"email": colleague}, selects={"role": "member"})
            link = o.find_element(By.ID, "invitation-link").get_attribute("value")
            path = urllib.parse.urlsplit(link).path
            assert path.startswith("/join/"), link

            # The colleague registers through it.
            self.go(c, path, "join")
            self.submit(c, f"form[action='{path}']", "joined",
                        fields={"password": PASSWORD, "display_name": "周采购"})
            assert c.find_elements(By.CSS_SELECTOR, "form[action='/logout']"), "the colleague is signed in"

            # The colleague finds the auction: the rule, and no bid form before the deposit.
            self.go(c, "/listings?q=" + urllib.parse.quote("4D毫米波成像雷达"), "search")
            c.find_element(By.XPATH, f"//a[contains(., '{TITLE}')]").click()
            WebDriverWait(c, 20).until(lambda d: d.find_elements(By.ID, "listing-title"))
            self.check(c, "auction-no-deposit")
            listing = urllib.parse.urlsplit(c.current_url).path.split("/")[2]
            deposit = self.text(c, "[data-deposit]")
            if "¥500,000.00" not in deposit or "尚未缴纳" not in deposit:
                self.fail(f"the deposit rule and state are not shown: {deposit!r}")
            if c.find_elements(By.CSS_SELECTOR, f"form[action='/listings/{listing}/bids']"):
                self.fail("a bid form is offered before the deposit is paid")

            # The exchange records the deposit that reached its account.
            self.demo_sign_in(a, ADMIN, "admin")
            self.go(a, f"/admin/listings/{listing}/deposits", "deposits")
            self.submit(a, f"form[action='/admin/listings/{listing}/deposits']", "deposit-recorded",
                        fields={"organization": CARMAKER_CODE})

            # The colleague bids; the energy company bids more.
            self.go(c, f"/listings/{listing}", "auction-deposit-paid")
            if "已缴纳" not in self.text(c, "[data-deposit]"):
                self.fail(f"the paid deposit is not shown: {self.text(c, '[data-deposit]')!r}")
            self.bid(c, listing, "600万", "colleague-bid")
            self.demo_sign_in(e, ENERGY, "rival")
            self.go(e, f"/listings/{listing}", "rival-auction")
            self.bid(e, listing, "650万", "rival-bid")

            # The colleague is told.
            self.go(c, "/inbox", "outbid-inbox")
            inbox = self.text(c, "main")
            if TITLE not in inbox or "超过" not in inbox:
                self.fail(f"the inbox does not tell the colleague it was outbid: {inbox[:300]!r}")
            return {"listing": listing, "colleague": colleague}
        finally:
            for d in (o, c, e, a):
                d.quit()

    # ------------------------------------------------------------------ phase 2
    def close_phase(self, listing, colleague, trade):
        c, e, a, s, x, y = (self.open() for _ in range(6))
        try:
            # The loser sees its deposit refunded.
            self.sign_in(c, colleague, PASSWORD, "colleague")
            self.go(c, f"/listings/{listing}", "auction-closed")
            if "已退还" not in self.text(c, "[data-deposit]"):
                self.fail(f"the refund is not shown on the auction: {self.text(c, '[data-deposit]')!r}")
            self.go(c, "/inbox", "refund-inbox")
            if "已全额退还" not in self.text(c, "main"):
                self.fail("the inbox does not say the deposit was refunded")

            # The winner pays (its exchange records it), the seller delivers, the winner accepts.
            demo_otp(ADMIN)  # the first phase may have used this step's code: take the next
            self.demo_sign_in(a, ADMIN, "admin")
            self.go(a, f"/trades/{trade}", "admin-trade")
            self.submit(a, "form[action$='/payment-received']", "paid", checks=["input[name=confirm]"])
            self.demo_sign_in(s, SELLER, "seller")
            self.go(s, f"/trades/{trade}", "seller-trade")
            self.submit(s, "form[action$='/delivery']", "delivered",
                        fields={"note": "量产工艺文件与标定工装已交付"})
            self.demo_sign_in(e, ENERGY, "winner")
            self.go(e, f"/trades/{trade}", "winner-trade")
            self.submit(e, "form[action$='/confirm-delivery']", "settled", checks=["input[name=confirm]"])

            # The winner prints the certificate; a stranger follows its QR code's address.
            self.go(e, f"/trades/{trade}/certificate", "certificate")
            if not e.find_elements(By.CSS_SELECTOR, "svg"):
                self.fail("the certificate has no QR code")
            href = e.find_element(By.CSS_SELECTOR, "a.verify-url").get_attribute("href")
            self.go(x, urllib.parse.urlsplit(href).path, "verification")
            if not x.find_elements(By.CSS_SELECTOR, ".verdict.genuine"):
                self.fail(f"the stranger is not told the certificate is genuine: {self.text(x, 'main')[:300]!r}")

            # An administrator without the authenticator's code stays outside.
            self.go(y, "/login", "admin-login")
            form = y.find_element(By.CSS_SELECTOR, "form[action='/login']")
            form.find_element(By.NAME, "email").send_keys("admin-suaee@demo.techmarket.cn")
            form.find_element(By.NAME, "password").send_keys(DEMO_PASSWORD)
            old = y.find_element(By.TAG_NAME, "html")
            form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            WebDriverWait(y, 30).until(lambda d: _stale(old))
            # The refusal is a 401, which the console reports: expected here, not a page error.
            y.get_log("browser")
            self.check(y, "admin-login-refused")
            if not y.find_elements(By.CSS_SELECTOR, "form[action='/login'] input[name=otp]"):
                self.fail("the login page does not ask for the authenticator's code")
            if y.find_elements(By.CSS_SELECTOR, "form[action='/logout']"):
                self.fail("an administrator signed in without the authenticator's code")
            return {}
        finally:
            for d in (c, e, a, s, x, y):
                d.quit()


def main():
    base, axe_path, out, phase = sys.argv[1:5]
    ensure_browser()
    with open(axe_path, encoding="utf-8") as f:
        axe_js = f.read()
    j = DepositJourney(base, axe_js, os.path.join(out, phase))
    result = {}
    try:
        if phase == "bid":
            result = j.bid_phase()
        else:
            result = j.close_phase(*sys.argv[5:8])
    except Exception as e:  # the journey broke off: say where, with what was found so far
        j.fail(f"journey stopped after {j.pages} pages: {type(e).__name__}: {e}")
    print(json.dumps({**result, "pages": j.pages, "problems": len(j.problems)}))
    if j.problems:
        sys.exit("deposit journey:\n" + "\n".join(j.problems))


if __name__ == "__main__":
    main()
