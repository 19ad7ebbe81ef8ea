-- wrk script: POST /api/v1/consents/query with an API key, 100 seeded addresses per request
-- (cycling through the addresses the benchmark seeded). Arguments: <run tag> <API key> <address
-- count>. Lookups per second = requests per second x 100.
--   addresses are seed.<n>@example.com, n = 1 … count
wrk.method = "POST"

local key = ""
local count = 1
local counter = 0
local per_request = 100
function init(args)
  key = args[2] or ""
  count = tonumber(args[3] or "1")
  counter = 0
end

function request()
  local ids = {}
  for i = 1, per_request do
    counter = counter + 1
    ids[i] = '{"email":"seed.' .. ((counter % count) + 1) .. '@example.com"}'
  end
  local body = '{"identifiers":[' .. table.concat(ids, ",") .. ']}'
  return wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }, body)
end
