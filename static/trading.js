// Live auction on the listing page: a countdown, and the state after every bid, at the opening of
// a scheduled auction and at the close from Server-Sent Events (GET /listings/{id}/auction/events).
// Without JavaScript the page works by reloading.
(function () {
  "use strict";
  var box = document.querySelector("[data-auction-events]");
  if (!box) { return; }
  var zh = box.getAttribute("data-zh") === "1";
  var endsEl = box.querySelector("[data-ends-at]");
  var countdown = box.querySelector("[data-countdown]");
  var endsAt = endsEl ? Date.parse(endsEl.getAttribute("data-ends-at")) : NaN;
  var closed = false;

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function money(fen) {
    var neg = fen < 0;
    fen = Math.abs(fen);
    var yuan = Math.floor(fen / 100);
    var cents = fen % 100;
    var s = String(yuan).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (neg ? "-" : "") + "\u00a5" + s + "." + pad(cents);
  }

  function yuanInput(fen) {
    var cents = fen % 100;
    return String(Math.floor(fen / 100)) + (cents ? "." + pad(cents) : "");
  }

  // Asia/Shanghai is UTC+8 all year.
  function shanghai(iso, withDate) {
    var d = new Date(Date.parse(iso) + 8 * 3600 * 1000);
    var t = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
    if (!withDate) { return t; }
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " + t.slice(0, 5);
  }

  // A bid's moment as the server writes it (PageCtx::day_time): 12月8日 14:03:05 / Dec 8 14:03:05.
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function dayTime(iso) {
    var d = new Date(Date.parse(iso) + 8 * 3600 * 1000);
    var t = shanghai(iso, false);
    return zh ? (d.getUTCMonth() + 1) + "月" + d.getUTCDate() + "日 " + t
              : MONTHS[d.getUTCMonth()] + " " + d.getUTCDate() + " " + t;
  }

  function tick() {
    if (!countdown || isNaN(endsAt)) { return; }
    var left = Math.max(0, Math.floor((endsAt - Date.now()) / 1000));
    if (left === 0 || closed) {
      countdown.textContent = box.getAttribute("data-ended");
      return;
    }
    var d = Math.floor(left / 86400);
    var h = Math.floor((left % 86400) / 3600);
    var m = Math.floor((left % 3600) / 60);
    var s = left % 60;
    countdown.textContent = (d > 0 ? d + box.getAttribute("data-days") + " " : "") + pad(h) + ":" + pad(m) + ":" + pad(s);
  }

  function setText(sel, text) {
    var el = box.querySelector(sel);
    if (el) { el.textContent = text; }
  }

  var myBidder = box.getAttribute("data-my-bidder") || "";
  var feeShownFor = null;

  function show(sel, on) {
    var el = box.querySelector(sel);
    if (el) { el.hidden = !on; }
  }

  // Who leads now. The server says so for a signed-in viewer (`you`: whether its organisation
  // leads, and whether this very bid outbid it); otherwise the newest bid's pseudonym tells.
  var hasBid = !!myBidder;
  function leader(a, you) {
    if (you) {
      if (you.outbid) { hasBid = true; }
      show("[data-you-lead]", you.lead);
      show("[data-outbid]", hasBid && !you.lead);
      if (you.lead) { hasBid = true; }
      return;
    }
    if (!myBidder || !a.bids || !a.bids.length) { return; }
    var mine = a.bids[0].bidder === myBidder;
    show("[data-you-lead]", mine);
    show("[data-outbid]", !mine);
  }

  // The buyer fee at the new minimum bid, from the public quote.
  function feeAt(fen) {
    var el = box.querySelector("[data-fee-at-min]");
    if (!el || !window.fetch || feeShownFor === fen) { return; }
    feeShownFor = fen;
    window.fetch("/api/v1/fees/quote?amount_fen=" + fen, { headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (q) { if (q && feeShownFor === fen) { el.textContent = money(q.unified.buyer_fee_fen); } })
      .catch(function () {});
  }

  function apply(a, fresh, you) {
    setText("[data-price]", money(a.current_price_fen));
    leader(a, you);
    feeAt(a.min_next_bid_fen);
    setText("[data-bid-count]", String(a.bid_count));
    setText("[data-min-next]", money(a.min_next_bid_fen));
    if (a.has_reserve) {
      var r = box.querySelector("[data-reserve]");
      if (r && r.textContent.indexOf("(") < 0) {
        r.textContent = box.getAttribute(a.reserve_met ? "data-reserve-met" : "data-reserve-not-met");
      }
    }
    var input = box.querySelector("[data-bid-input]");
    // Raise the prefilled bid to the new minimum, unless the user is typing in it.
    if (input && document.activeElement !== input) {
      var typed = Math.round(parseFloat(input.value) * 100);
      if (!(typed >= a.min_next_bid_fen)) { input.value = yuanInput(a.min_next_bid_fen); }
    }
    endsAt = Date.parse(a.ends_at);
    if (endsEl) { endsEl.textContent = shanghai(a.ends_at, true); endsEl.setAttribute("datetime", a.ends_at); }
    var tbody = box.querySelector("[data-bids]");
    // A closing event carries no bids: keep the history.
    if (tbody && a.bids && (fresh || a.bids.length || a.bid_count === 0)) {
      // The first event carries the whole recent history: it replaces what the page showed.
      if (!fresh) { while (tbody.firstChild) { tbody.removeChild(tbody.firstChild); } }
      for (var i = a.bids.length - 1; i >= 0; i--) {
        var b = a.bids[i];
        var tr = document.createElement("tr");
        [zh ? b.bidder : b.bidder_en, money(b.amount_fen)].forEach(function (text) {
          var td = document.createElement("td");
          td.textContent = text;
          tr.appendChild(td);
        });
        var when = document.createElement("td");
        when.className = "bid-time";
        var time = document.createElement("time");
        time.setAttribute("datetime", b.at);
        time.textContent = dayTime(b.at);
        when.appendChild(time);
        tr.appendChild(when);
        tbody.insertBefore(tr, tbody.firstChild);
      }
      while (tbody.children.length > 20) { tbody.removeChild(tbody.lastChild); }
      var none = box.querySelector("[data-no-bids]");
      if (none && a.bids.length) { none.parentNode.removeChild(none); }
    }
    if (a.status === "closed" && !closed) {
      closed = true;
      // The outcome (deal or not) is rendered by the server.
      window.setTimeout(function () { window.location.reload(); }, 500);
    }
    tick();
  }

  window.setInterval(tick, 1000);
  tick();

  // A scheduled auction opens at its start (the jobs open it and tell the open pages): the server
  // shows the page again, with the bid form the visitor may use.
  var rendered = box.getAttribute("data-status") || "";
  var reloading = false;
  function opened(a) {
    if (rendered !== "scheduled" || a.status === "scheduled" || reloading) { return false; }
    reloading = true;
    window.location.reload();
    return true;
  }

  // Bids shown so far; events may arrive out of order or be missed, then the whole state is fetched.
  var shown = parseInt(box.getAttribute("data-bid-count-shown"), 10) || 0;

  function refetch() {
    if (!window.fetch) { return; }
    window.fetch(box.getAttribute("data-auction-api"), { headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (a) {
        if (a && opened(a)) { return; }
        if (a && a.bid_count >= shown) { shown = a.bid_count; apply(a, false); }
      })
      .catch(function () {});
  }

  // Should the opening's event be missed (a stream reconnecting), the state is fetched just after
  // the start.
  var startsEl = box.querySelector("[data-starts-at] time");
  var startsAt = startsEl ? Date.parse(startsEl.getAttribute("datetime")) : NaN;
  if (rendered === "scheduled" && !isNaN(startsAt) && startsAt - Date.now() < 2147483647) {
    window.setTimeout(refetch, Math.max(0, startsAt - Date.now()) + 3000);
  }

  if (!window.EventSource) { return; }
  var first = true;
  var source = new EventSource(box.getAttribute("data-auction-events"));
  source.addEventListener("auction", function (e) {
    var msg;
    try { msg = JSON.parse(e.data); } catch (err) { return; }
    if (!msg || !msg.auction) { return; }
    var a = msg.auction;
    if (opened(a)) { return; }
    if (first) {
      // The first event is the whole current state.
      first = false;
      shown = a.bid_count;
      apply(a, false);
    } else if (a.status === "closed") {
      apply(a, false, msg.you);
    } else if (a.bid_count <= shown) {
      return; // older than what is shown
    } else if (a.bid_count === shown + (a.bids ? a.bids.length : 0)) {
      shown = a.bid_count;
      apply(a, true, msg.you);
    } else {
      refetch(); // a gap: some bid's event was missed or is late
    }
  });
  source.addEventListener("reload", refetch);
})();
