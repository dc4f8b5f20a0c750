-- (k) GET /api/files/{id}: a random one of the uploaded 5 MB files, whole.
-- args: the file of file ids (one a line), the admin's access token.

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
  return wrk.format("GET", "/api/files/" .. ids[math.random(#ids)], headers)
end
