-- wrk script: POST /api/v1/forms/newsletter/submissions (application/json), all four purposes,
-- name and phone filled in. Every request uses a new e-mail address (see newsletter.lua):
--   bench.<run>.<thread>.<counter>@example.com, <run> = first script argument.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local thread_id = 0
function setup(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
end

local counter = 0
local run = "0"
function init(args)
  counter = 0
  run = args[1] or tostring(os.time())
end

function request()
  counter = counter + 1
  local body = '{"fields":{"email":"bench.' .. run .. '.' .. tid .. '.' .. counter .. '@example.com",' ..
    '"name":"Jane","phone":"010-1234-5678"},' ..
    '"purposes":["service","marketing_email","marketing_sms","personalisation"],"locale":"en"}'
  return wrk.format(nil, nil, nil, body)
end
