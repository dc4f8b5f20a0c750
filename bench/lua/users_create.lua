-- (b) POST /api/users: a new account per request (the whole cross-database saga), by the admin.
-- args: the admin's access token, a tag unique to this run, the password.
-- Names are unique by run tag, thread, the second the thread started (the warm-up and the
-- measurement are separate wrk runs) and a counter.

local headers = {["Content-Type"] = "application/json"}
local prefix, password
local counter = 0

function init(args)
  headers["Authorization"] = "Bearer " .. args[1]
  prefix = string.format("bn%s%d%05d", args[2], thread_id, os.time() % 100000)
  password = args[3]
end

function request()
  counter = counter + 1
  local name = prefix .. "_" .. counter
  local body = string.format(
    '{"email":"bench-new-%s@example.com","username":"%s","password":"%s",' ..
    '"first_name":"Bench","last_name":"Created"}',
    name, name, password)
  return wrk.format("POST", "/api/users", headers, body)
end
