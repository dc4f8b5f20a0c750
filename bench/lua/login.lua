-- (g) POST /api/auth/login: a random loaded account per request, always the right password, so
-- the per-account throttle (failures only) never triggers.
-- args: the file of emails (one a line), the password.

local emails = {}
local headers = {["Content-Type"] = "application/json"}
local password

function init(args)
  for line in io.lines(args[1]) do
    emails[#emails + 1] = line
  end
  password = args[2]
  math.randomseed(os.time() * 100 + thread_id)
end

function request()
  local body = string.format('{"email":"%s","password":"%s"}', emails[math.random(#emails)], password)
  return wrk.format("POST", "/api/auth/login", headers, body)
end
