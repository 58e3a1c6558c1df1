-- wrk script: 100 clients, each with its own opaque token, taking turns; a cache of answers can
-- help only as much as tokens repeat, and requests with one token rarely overlap.
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", nil, { ["Authorization"] = "Bearer opaque-client-" .. (n % 100) })
end
