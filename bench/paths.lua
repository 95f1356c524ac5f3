-- wrk script for bench/run: GET (or POST with a body) requests over the paths of a file, round-robin,
-- each thread starting at another place. Arguments after `--`: the paths file, then optional
-- "METHOD", "BODY" and "HEADER: value" items. Counts 5xx apart from other non-2xx answers.
local threads = {}
local nthreads = 0

function setup(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in io.lines(args[1]) do
    if #line > 0 then table.insert(paths, line) end
  end
  method = args[2] or "GET"
  body = args[3]
  if body == "" then body = nil end
  headers = {}
  for i = 4, #args do
    local k, v = string.match(args[i], "^([^:]+):%s*(.*)$")
    if k then headers[k] = v end
  end
  if body then headers["Content-Type"] = "application/json" end
  counter = tid
  fives = 0
  others = 0
end

function request()
  counter = counter + 1
  local p = paths[(counter % #paths) + 1]
  return wrk.format(method, p, headers, body)
end

function response(status, hdrs, b)
  if status >= 500 then
    fives = fives + 1
  elseif status >= 300 then
    others = others + 1
  end
end

function done(summary, latency, requests)
  local f, o = 0, 0
  for _, t in ipairs(threads) do
    f = f + t:get("fives")
    o = o + t:get("others")
  end
  local secs = summary.duration / 1e6
  io.write(string.format("BENCH rps=%.1f p50=%.3f p99=%.3f requests=%d fives=%d non2xx=%d sockerr=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, f, o,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
