-- (c)–(f): requests made by logged-in learners, a random line of a request file each time.
-- args: the file of the learners' access tokens (one a line), the request file, the method.
-- A request line: the learner's line number in the token file, a tab, the path (with its query
-- string), and for requests with a body a tab and the JSON body. Every request is formatted
-- once, in init, so that wrk's threads spend nothing on it while they measure.

local requests = {}

function init(args)
  local tokens = {}
  for line in io.lines(args[1]) do
    tokens[#tokens + 1] = line
  end
  local method = args[3]
  for line in io.lines(args[2]) do
    local learner, path, body = string.match(line, "^(%d+)\t([^\t]+)\t?(.*)$")
    local headers = {["Authorization"] = "Bearer " .. tokens[tonumber(learner)]}
    if body == "" then
      body = nil
    else
      headers["Content-Type"] = "application/json"
    end
    requests[#requests + 1] = wrk.format(method, path, headers, body)
  end
  math.randomseed(os.time() * 100 + thread_id)
end

function request()
  return requests[math.random(#requests)]
end
