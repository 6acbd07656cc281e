-- wrk script for scripts/bench.sh.
--
--   wrk ... -s wrk.lua URL                      GET the URL as given (headers from -H)
--   wrk ... -s wrk.lua URL -- post              POST a new, distinct apiKey on every request
--
-- In both modes `done` prints one parseable line:
--   RESULT requests=<n> seconds=<s> rps=<r> p50_ms=<ms> p99_ms=<ms> non2xx=<n> socket_errors=<n>
-- (wrk counts a response as a status error when its status is 400 or above.)

local thread_count = 0

function setup(thread)
   thread_count = thread_count + 1
   thread:set("thread_id", thread_count)
end

-- Each thread's Lua state computes its own tag; it differs between wrk runs, so a warm-up and
-- the run after it never send the same key.
math.randomseed(os.time())
local run_tag = string.format("%x%06d", os.time(), math.random(0, 999999))

local post = false
local counter = 0

function init(args)
   if args[1] == "post" then
      post = true
      wrk.method = "POST"
      wrk.headers["Content-Type"] = "application/json"
   end
end

function request()
   if not post then
      return wrk.format()
   end
   counter = counter + 1
   -- Unique per run (tag), per thread (thread_id) and per request (counter).
   local body = string.format('{"apiKey":"sk-bench-%s-t%d-%010d"}', run_tag, thread_id, counter)
   return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
   local seconds = summary.duration / 1e6
   local errors = summary.errors
   io.write(string.format(
      "RESULT requests=%d seconds=%.2f rps=%.1f p50_ms=%.2f p99_ms=%.2f non2xx=%d socket_errors=%d\n",
      summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
