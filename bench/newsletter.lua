-- wrk script: POST /f/newsletter as a browser would (application/x-www-form-urlencoded),
-- all four purposes ticked, name and phone filled in. Every request uses a new e-mail address:
--   bench.<run>.<thread>.<counter>@example.com
-- <run> is the first script argument (wrk ... -- <run>) and must differ between wrk invocations
-- (warm-up and measurement included), so that no address is ever submitted twice and every request
-- creates a new subject (a repeated address would take Assent's "existing subject" path instead).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

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
  local body = "email=bench." .. run .. "." .. tid .. "." .. counter .. "%40example.com" ..
    "&name=Jane+Q.+Example" ..
    "&phone=010-1234-5678" ..
    "&purpose=service&purpose=marketing_email&purpose=marketing_sms&purpose=personalisation"
  return wrk.format(nil, nil, nil, body)
end
