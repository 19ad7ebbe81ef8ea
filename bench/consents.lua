-- wrk script: GET /api/v1/consents?email=… with an API key, cycling through the addresses the
-- benchmark seeded before the load. Arguments: <run tag> <API key> <address count>.
--   addresses are seed.<n>@example.com, n = 1 … count
wrk.method = "GET"

local key = ""
local count = 1
local counter = 0
function init(args)
  key = args[2] or ""
  count = tonumber(args[3] or "1")
  counter = 0
end

function request()
  counter = counter + 1
  local n = (counter % count) + 1
  return wrk.format(nil, "/api/v1/consents?email=seed." .. n .. "%40example.com",
    { ["Authorization"] = "Bearer " .. key })
end
