-- wrk script: POSTs one ~1 KiB `tools/call` of a tool that has a per-operation rule, with the
-- bearer token from BENCH_TOKEN. The same request goes to the endpoint-only app, which reads
-- the body too, so the difference is the classification and the decision.
local args = string.rep("x", 900)
wrk.method = "POST"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"tool-7","arguments":{"note":"'
  .. args .. '","n":7,"flag":true}}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Mcp-Method"] = "tools/call"
wrk.headers["Mcp-Name"] = "tool-7"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
