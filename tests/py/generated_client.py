"""A client generated from the served OpenAPI document trades: login → search → offer → counter → accept.

Usage: generated_client.py BASE_URL   (a `techmarket serve --demo` server; tests/api/contract.rs runs it)

openapi-python-client writes the client under target/py-client from /api/v1/openapi.json; any warning of
the generator fails the run (it means part of the document could not be turned into code). The journey
then uses only the generated functions and models, with `raise_on_unexpected_status`, so a status the
document does not list, or a body its schema does not describe, fails too.
"""
import json
import os
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "target/py-client"
PASSWORD = "demo-password-2026"
BUYER = "buyer-auto@demo.techmarket.cn"   # 示例重庆长江汽车股份有限公司 (Chongqing)
SELLER = "auto@demo.techmarket.cn"        # 示例川西智能汽车研究院 (Sichuan), lists 远程智能泊车系统


def generate(base: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    doc_path = OUT / "openapi.json"
    with urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=30) as r:
        doc_path.write_bytes(r.read())
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # its ruff
    out = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(doc_path),
         "--output-path", str(OUT / "techmarket-api-client"), "--overwrite"],
        capture_output=True, text=True, env=env, cwd=OUT)
    text = out.stdout + out.stderr
    if out.returncode != 0 or "Warning" in text or "Error" in text:
        print(text)
        raise SystemExit(f"openapi-python-client failed or warned (exit {out.returncode})")
    sys.path.insert(0, str(OUT / "techmarket-api-client"))


def main(base: str) -> None:
    generate(base)
    from techmarket_api_client import AuthenticatedClient, Client
    from techmarket_api_client.api.accounts import login, me
    from techmarket_api_client.api.listings import search_listings
    from techmarket_api_client.api.trades import get_trade
    from techmarket_api_client.api.trading import accept_offer, counter_offer, make_offer
    from techmarket_api_client.models import (CounterInput, ErrorBody, LoginInput, OfferInput,
                                              OfferInputTransactionMode, SearchListingsPricing)

    anon = Client(base_url=base, raise_on_unexpected_status=True)

    def sign_in(email: str) -> AuthenticatedClient:
        r = login.sync_detailed(client=anon, body=LoginInput(email=email, password=PASSWORD))
        assert r.status_code == 200, (r.status_code, r.content)
        return AuthenticatedClient(base_url=base, token=r.parsed.token, raise_on_unexpected_status=True)

    wrong = login.sync_detailed(client=anon, body=LoginInput(email=BUYER, password="not the password"))
    assert wrong.status_code == 401 and isinstance(wrong.parsed, ErrorBody), wrong.content
    assert wrong.parsed.error.code == "invalid_credentials", wrong.parsed

    buyer = sign_in(BUYER)
    seller = sign_in(SELLER)
    assert me.sync(client=buyer).user.email == BUYER

    found = search_listings.sync_detailed(client=anon, q="智能泊车", pricing=SearchListingsPricing.NEGOTIABLE, per_page=5)
    assert found.status_code == 200, found.content
    listing = next(i for i in found.parsed.items if i.title == "远程智能泊车系统")
    assert listing.pricing.mode == "negotiable"
    mode = OfferInputTransactionMode(listing.transaction_modes[0])

    offered = make_offer.sync_detailed(
        listing.id, client=buyer, idempotency_key=str(uuid.uuid4()),
        body=OfferInput(amount_fen=50_000_000, transaction_mode=mode, message="生成的客户端报价 / from the generated client"))
    assert offered.status_code == 201, offered.content
    offer = offered.parsed
    assert (offer.status, offer.made_by, offer.amount_fen) == ("open", "buyer", 50_000_000), offer

    countered = counter_offer.sync_detailed(offer.id, client=seller, body=CounterInput(amount_fen=80_000_000))
    assert countered.status_code == 201, countered.content
    counter = countered.parsed
    assert (counter.status, counter.made_by, counter.amount_fen) == ("open", "seller", 80_000_000), counter

    # The seller may not accept its own counter-offer: a documented 403 in the error format.
    own = accept_offer.sync_detailed(counter.id, client=seller)
    assert own.status_code == 403 and isinstance(own.parsed, ErrorBody), own.content

    accepted = accept_offer.sync_detailed(counter.id, client=buyer, idempotency_key=str(uuid.uuid4()))
    assert accepted.status_code == 201, accepted.content
    trade = accepted.parsed.trade
    assert (trade.price_fen, trade.status, trade.listing_id) == (80_000_000, "awaiting_payment", listing.id), trade

    again = get_trade.sync_detailed(trade.id, client=seller)
    assert again.status_code == 200 and again.parsed.id == trade.id, again.content
    print(json.dumps({"trade": str(trade.id), "price_fen": trade.price_fen, "buyer_fee_fen": trade.buyer_fee_fen}))


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
