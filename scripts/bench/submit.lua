-- wrk script for scripts/bench.sh: citizen submissions as the mobile app sends them, each with
-- its own Idempotency-Key and one of the device tokens in PHANANH_BENCH_TOKENS (comma-separated).
local tokens = {}
for t in string.gmatch(os.getenv("PHANANH_BENCH_TOKENS") or "", "[^,]+") do
  tokens[#tokens + 1] = t
end
local run = os.getenv("PHANANH_BENCH_RUN") or "0"
local streets = { "Trần Phú", "Lê Lợi", "Nguyễn Huệ", "Hùng Vương", "Điện Biên Phủ" }
local thread_id = 0
local counter = 0

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end

function request()
  counter = counter + 1
  local n = counter
  local street = streets[(n % #streets) + 1]
  local body = string.format(
    '{"category":"environment","title":"Rác thải ùn ứ trên đường %s (%d)",' ..
    '"description":"Rác thải sinh hoạt để nhiều ngày chưa được thu gom, bốc mùi khó chịu, đề nghị xử lý.",' ..
    '"location":{"lat":%.5f,"lon":%.5f},"address":"Đường %s, phường Tân Phong",' ..
    '"reporter":{"name":"Nguyễn Thị Hoa","phone":"0987654321"}}',
    street, n, 22.39 + (n % 997) * 0.00001, 103.45 + (n % 991) * 0.00001, street)
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1],
    ["Idempotency-Key"] = string.format("wrk-%s-%s-%d", run, tostring(tid), n),
  }
  return wrk.format("POST", "/v1/reports", headers, body)
end
