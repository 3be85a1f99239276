-- Runs the Argo CD health script against cases, as Argo CD does: `obj` is a global holding the
-- resource, the script returns hs = { status, message }.
--   lua5.4 argocd-health-harness.lua <health.lua> <cases.lua>
-- cases.lua returns { { name = "...", obj = {...}, want = "Healthy", message = "optional substring" }, ... }
-- Prints "ok <name>" or "FAIL <name>: ..." per case; exits 1 if any case failed.
local script, casesFile = arg[1], arg[2]
local check = assert(loadfile(script, "t"))
local cases = dofile(casesFile)
local failed = 0
for _, case in ipairs(cases) do
  obj = case.obj
  local ok, hs = pcall(check)
  if not ok then
    failed = failed + 1
    print("FAIL " .. case.name .. ": script error " .. tostring(hs))
  elseif type(hs) ~= "table" or hs.status ~= case.want then
    failed = failed + 1
    print("FAIL " .. case.name .. ": got " .. tostring(hs and hs.status) .. ", want " .. case.want)
  elseif case.message ~= nil and not string.find(hs.message or "", case.message, 1, true) then
    failed = failed + 1
    print("FAIL " .. case.name .. ": message " .. string.format("%q", hs.message or "") .. " lacks " .. string.format("%q", case.message))
  else
    print("ok " .. case.name .. " -> " .. hs.status)
  end
end
print(string.format("%d cases, %d failed", #cases, failed))
os.exit(failed == 0 and 0 or 1)
