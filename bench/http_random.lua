-- wrk script of bench/http_random.py: sends the request paths of a file (one per line, args[1]) in
-- order, thread i taking lines i, i + T, i + 2T, ... so no two requests of a run repeat while the file
-- lasts (the Python side writes each run's own slice of a large pool). Prints the run as one JSON line
-- after HTTPBENCH (times in us) and the whole latency histogram as "value:count" pairs after HTTPHIST,
-- so windows can be combined into exact percentiles.
local paths = {}
local next_index = 0
local step = 1

function init(args)
  for line in io.lines(args[1]) do
    paths[#paths + 1] = line
  end
  step = tonumber(args[2]) or 1
  next_index = id or 0
end

local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function request()
  local path = paths[next_index % #paths + 1]
  next_index = next_index + step
  return wrk.format("GET", path)
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
  -- latency(i) is the i-th distinct recorded value (us) and its count; #latency how many there are
  local pairs_ = {}
  for i = 1, #latency do
    local value, count = latency(i)
    pairs_[#pairs_ + 1] = string.format("%d:%d", value, count)
  end
  io.write("HTTPHIST " .. table.concat(pairs_, " ") .. "\n")
end
