-- (a) GET /api/users/{id}: a random loaded account per request, read by the bench admin.
-- args: the file of user ids (one a line), the admin's access token.

local ids = {}
local headers = {}

function init(args)
  for line in io.lines(args[1]) do
    ids[#ids + 1] = line
  end
  headers["Authorization"] = "Bearer " .. args[2]
  math.randomseed(os.time() * 100 + thread_id)
end

function request()
  return wrk.format("GET", "/api/users/" .. ids[math.random(#ids)], headers)
end
