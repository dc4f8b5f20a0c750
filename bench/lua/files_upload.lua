-- (j) POST /api/files: the same 5 MB audio file uploaded as lesson media, again and again.
-- args: the multipart body's file, its boundary, the admin's access token, the request path.

local body
local headers = {}
local path

function init(args)
  local file = assert(io.open(args[1], "rb"))
  body = file:read("*a")
  file:close()
  headers["Content-Type"] = "multipart/form-data; boundary=" .. args[2]
  headers["Authorization"] = "Bearer " .. args[3]
  path = args[4]
end

function request()
  return wrk.format("POST", path, headers, body)
end
