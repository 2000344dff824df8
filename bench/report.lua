-- wrk script of `make bench`: counts responses outside 2xx and, when the run
-- ends, prints one machine-readable line that bench/wrk.py parses:
--
--   BENCH_RESULT {"requests": ..., "duration_us": ..., "p50_us": ..., ...}
--
-- wrk's own --latency table has no p95, and wrk counts only statuses > 399 as
-- errors: a 303 redirect to /login (an expired session) would look like a
-- success there. Hence the response() hook below.

-- Each wrk thread runs this script in its own Lua state; setup() runs in the
-- main state once per thread, so we keep the thread handles to read their
-- counters in done().
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non2xx = 0 -- global: read from the main state with thread:get("non2xx")
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local non2xx_total = 0
  for _, thread in ipairs(threads) do
    non2xx_total = non2xx_total + (thread:get("non2xx") or 0)
  end
  local e = summary.errors
  -- Times are in microseconds, as wrk measures them.
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d, ' ..
    '"non2xx": %d, "errors_connect": %d, "errors_read": %d, "errors_write": %d, ' ..
    '"errors_timeout": %d, "errors_status": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.mean, latency.max,
    non2xx_total, e.connect, e.read, e.write, e.timeout, e.status))
end
