-- wrk script: GET /mcp with the fixtures' DPoP-bound token (BENCH_DPOP_TOKEN) and one fresh
-- proof per request from BENCH_DPOP_PROOFS (dpop_proofs.py, one per line). A proof is good once:
-- a run that outlasts its file starts over and its replays count as non-2xx answers.
local proofs = {}
for line in io.lines(os.getenv("BENCH_DPOP_PROOFS")) do
  proofs[#proofs + 1] = line
end
local auth = "DPoP " .. os.getenv("BENCH_DPOP_TOKEN")
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", nil, { ["Authorization"] = auth, ["DPoP"] = proofs[(n - 1) % #proofs + 1] })
end
