-- wrk script of bench/tiles_bench.py (http_bench.lua asking for gzip, as browsers do): rotates through the request paths of a file (one per line,
-- args[1]) so every request is a different query, and prints the run as one JSON line (times in us)
-- after the marker HTTPBENCH, because wrk's own text report has no machine-readable form.
local paths = {}
local next_index = 0

function init(args)
  for line in io.lines(args[1]) do
    paths[#paths + 1] = line
  end
  -- threads start at different offsets so they do not send the same query at the same time
  next_index = (id or 0) * 997 % #paths
end

local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function request()
  next_index = next_index % #paths + 1
  return wrk.format("GET", paths[next_index], {["Accept-Encoding"] = "gzip"})
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'HTTPBENCH {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "non_2xx": %d, "timeouts": %d, "p50_us": %d, ' ..
    '"p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
