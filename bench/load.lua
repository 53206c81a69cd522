-- wrk script for bench/run.sh.
--   wrk ... -s load.lua -- MODE TOKEN N
-- MODE is "code" (GET /v1/endpoints/NAME/code) or "claim" (POST .../claim
-- with {"wait":"0s"}); NAME walks bench-0000000 .. bench-(N-1) in turn, each
-- thread starting at its own place, so the load spreads over every endpoint.
-- done() prints one line "RESULT requests seconds p50_us p99_us ok conflict
-- other errors" that run.sh reads.

local threads = {}

setup = function(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

init = function(args)
  mode, token, n = args[1], args[2], tonumber(args[3])
  i = (id * 7919) % n
  ok, conflict, other = 0, 0, 0
  headers = { ["Authorization"] = "Bearer " .. token }
  if mode == "claim" then
    headers["Content-Type"] = "application/json"
  end
end

request = function()
  local name = string.format("bench-%07d", i)
  i = (i + 1) % n
  if mode == "claim" then
    return wrk.format("POST", "/v1/endpoints/" .. name .. "/claim", headers, '{"wait":"0s"}')
  end
  return wrk.format("GET", "/v1/endpoints/" .. name .. "/code", headers)
end

response = function(status, hdrs, body)
  if status == 200 then
    ok = ok + 1
  elseif status == 409 then
    conflict = conflict + 1
  else
    other = other + 1
  end
end

done = function(summary, latency, requests)
  local o, c, x = 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    c = c + t:get("conflict")
    x = x + t:get("other")
  end
  local e = summary.errors
  io.write(string.format("RESULT %d %.3f %d %d %d %d %d %d\n",
    summary.requests, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(99),
    o, c, x, e.connect + e.read + e.write + e.timeout))
end
