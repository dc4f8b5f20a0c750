-- Appended by the harness to every scenario script. Each thread counts its responses by status
-- class; done() prints one line of JSON (prefixed BENCH_JSON) that the harness parses, rather
-- than wrk's text summary, whose units change with magnitude.

local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

non_2xx = 0
first_failure = ""

function response(status, headers, body)
  if status < 200 or status > 299 then
    non_2xx = non_2xx + 1
    if first_failure == "" then
      first_failure = tostring(status) .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

local function json_string(value)
  local escaped = string.gsub(value, '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end)
  return '"' .. escaped .. '"'
end

function done(summary, latency, requests)
  local failed, failure = 0, ""
  for _, thread in ipairs(threads) do
    failed = failed + (thread:get("non_2xx") or 0)
    local sample = thread:get("first_failure") or ""
    if failure == "" then
      failure = sample
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status_ge_400":%d,' ..
    '"non_2xx":%d},"first_failure":%s}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean,
    e.connect, e.read, e.write, e.timeout, e.status, failed, json_string(failure)))
end
