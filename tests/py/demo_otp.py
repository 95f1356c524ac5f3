"""The current TOTP code (RFC 6238: SHA-1, 6 digits, 30 s) of a demo administrator, whose secret the
demo publishes: SHA-256 of 'techmarket demo two-factor <email>', first 20 bytes
(techmarket::service::demo::demo_otp_secret). A code is accepted once: a second sign-in in the same
30 s takes the next step's code (the server accepts one step of skew), a third waits for the step."""
import hashlib
import hmac
import struct
import time

_last_step = {}


def demo_otp(email: str) -> str:
    secret = hashlib.sha256(f"techmarket demo two-factor {email}".encode()).digest()[:20]
    now = int(time.time()) // 30
    step = max(now, _last_step.get(email, -1) + 1)
    if step > now + 1:
        time.sleep((step - 1) * 30 - time.time() + 0.5)
    _last_step[email] = step
    mac = hmac.new(secret, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 15
    return f"{(struct.unpack('>I', mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"
