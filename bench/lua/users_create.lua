-- (b) POST /api/users: a new account per request (the whole cross-database saga), by the admin.
-- args: the admin's access token, a tag unique to this run, the password.
-- Names are unique by run tag + thread + counter, with a random tail in case a tag repeats.

local headers = {["Content-Type"] = "application/json"}
local tag, password
local counter = 0

function init(args)
  headers["Authorization"] = "Bearer " .. args[1]
  tag = args[2]
  password = args[3]
  math.randomseed(os.time() * 100 + thread_id)
end

function request()
  counter = counter + 1
  local name = string.format("bn%s%d_%d_%d", tag, thread_id, counter, math.random(1000, 9999))
  local body = string.format(
    '{"email":"bench-new-%s@example.com","username":"%s","password":"%s",' ..
    '"first_name":"Bench","last_name":"Created"}',
    name, name, password)
  return wrk.format("POST", "/api/users", headers, body)
end
