-- wrk script: GET /me as a signed-in person. Arguments: <run tag> <cookie as name=value>.
local req
function init(args)
  req = wrk.format("GET", nil, { ["Cookie"] = args[2] or "" })
end

function request()
  return req
end
