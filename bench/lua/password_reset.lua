-- (i), (j) POST /api/auth/password-reset: a random address of the file per request, known
-- accounts' for (i), addresses that name no account for (j); the answer is 202 for both.
-- args: the file of addresses (one a line).

local emails = {}
local headers = {["Content-Type"] = "application/json"}

function init(args)
  for line in io.lines(args[1]) do
    emails[#emails + 1] = line
  end
  math.randomseed(os.time() * 100 + thread_id)
end

function request()
  local body = string.format('{"email":"%s"}', emails[math.random(#emails)])
  return wrk.format("POST", "/api/auth/password-reset", headers, body)
end
