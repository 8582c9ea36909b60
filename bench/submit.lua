-- wrk script for `python -m bench` (bench/backoffice.py): each request is a new buyer submission with its own
-- valid IMEI and submission key. BODY holds the rest of the form; TOKEN the CSRF secret.
local counter = 0

function setup(thread)
  thread:set("tid", (thread_count or 0) + 1)
  thread_count = (thread_count or 0) + 1
end

local function luhn(digits)
  local sum, double = 0, true
  for i = #digits, 1, -1 do
    local d = tonumber(digits:sub(i, i))
    if double then d = d * 2; if d > 9 then d = d - 9 end end
    sum = sum + d
    double = not double
  end
  return tostring((10 - sum % 10) % 10)
end

request = function()
  counter = counter + 1
  local n = tid * 100000000 + counter
  local body14 = string.format("35%012d", n)
  local body = os.getenv("BODY") .. "&imei=" .. body14 .. luhn(body14) .. "&submission_key=wrk-" .. n
  return wrk.format("POST", os.getenv("FORM_PATH"), {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. os.getenv("TOKEN"),
  }, body)
end
