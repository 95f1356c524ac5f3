-- wrk script for bench/bids.sh: every request bids a fresh, higher amount on one hot auction.
-- Each thread counts up on its own; amounts interleave across threads, so some bids lose (409),
-- which is a served request like any other. Counts 201s and 5xx per thread, summed in done().
local threads = {}
local nthreads = 0

function setup(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
  table.insert(threads, thread)
end

function init(args)
  tokens = args
  counter = 0
  accepted = 0
  fives = 0
  path = wrk.path
  base = tonumber(os.getenv("BID_BASE") or "100000")
end

function request()
  counter = counter + 1
  local token = tokens[(counter % #tokens) + 1]
  local amount = base + counter * 100 + tid
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, '{"amount_fen":' .. amount .. '}')
end

function response(status, headers, body)
  if status == 201 then
    accepted = accepted + 1
  elseif status >= 500 then
    fives = fives + 1
  end
end

function done(summary, latency, requests)
  local a, f = 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("accepted")
    f = f + t:get("fives")
  end
  local secs = summary.duration / 1e6
  io.write(string.format("requests/s:        %.0f\n", summary.requests / secs))
  io.write(string.format("p50 latency ms:    %.2f\n", latency:percentile(50) / 1000))
  io.write(string.format("p99 latency ms:    %.2f\n", latency:percentile(99) / 1000))
  io.write(string.format("requests:          %d in %.1f s\n", summary.requests, secs))
  io.write(string.format("accepted bids 201: %d\n", a))
  io.write(string.format("lost bids (409):   %d\n", summary.errors.status - f))
  io.write(string.format("5xx:               %d\n", f))
  io.write(string.format("socket errors:     %d connect, %d read, %d write, %d timeout\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
  io.write(string.format("BENCH rps=%.1f p50=%.3f p99=%.3f requests=%d fives=%d non2xx=0 sockerr=%d accepted=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests, f,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, a))
end
