-- patch.lua - wrk script: durable school updates.
--
--   wrk -t T -c C -d 10s -s patch.lua http://127.0.0.1:PORT -- /api/schools/ID COOKIE CSRF
--
-- Every request is PATCH /api/schools/ID {"enrollment": N} with the session
-- cookie and CSRF token. N differs on every request of the run (each wrk
-- thread takes its own range of 20000 values, below the school's starting
-- enrollment of 100000), so every PATCH really changes the record and must
-- write one audit entry: the server answers an unchanged PATCH without a
-- write. done() prints the 2xx and other status counts for run.sh to check
-- against the audit table.

local threads = {}

function setup(thread)
	thread:set("tid", #threads)
	table.insert(threads, thread)
end

function init(args)
	path = args[1]
	cookie = args[2]
	csrf = args[3]
	n = 0
	ok = 0
	bad = 0
	first_bad = ""
	base = (tid % 5) * 20000
end

function request()
	n = n + 1
	local body = string.format('{"enrollment": %d}', base + (n % 20000))
	return wrk.format("PATCH", path, {
		["Cookie"] = "xiaoan_session=" .. cookie,
		["X-CSRF-Token"] = csrf,
		["Content-Type"] = "application/json",
	}, body)
end

function response(status, headers, body)
	if status >= 200 and status < 300 then
		ok = ok + 1
	else
		bad = bad + 1
		if first_bad == "" then
			first_bad = tostring(status) .. " " .. string.sub(body or "", 1, 200)
		end
	end
end

function done(summary, latency, requests)
	local tok, tbad, fb = 0, 0, ""
	for _, t in ipairs(threads) do
		tok = tok + t:get("ok")
		tbad = tbad + t:get("bad")
		local f = t:get("first_bad")
		if fb == "" and f ~= nil then fb = f end
	end
	io.write(string.format("PATCH_2XX %d\nPATCH_OTHER %d\n", tok, tbad))
	if fb ~= "" then
		io.write("PATCH_FIRST_OTHER " .. fb .. "\n")
	end
end
