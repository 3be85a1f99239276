-- Argo CD health check for OceanSite, EmrIntegration and SyncSchedule (cloudconnect.dev).
-- Install it as resource.customizations.health.cloudconnect.dev_<Kind> (see files/README.md).
-- It reads only what the operator writes: status.observedGeneration and the conditions Ready,
-- Stalled and Reconciling (kstatus/Flux conventions; Stalled and Reconciling exist only while True).
--   Progressing  the operator has not yet seen the latest spec, or is working, or waits for
--                something that comes by itself (EMR or Vault reachable, the site Ready)
--   Suspended    Ready=True with reason Suspended (spec.suspend)
--   Healthy      Ready=True
--   Degraded     Stalled=True, or Ready=False for a reason only a person can fix
local hs = { status = "Progressing", message = "Waiting for the operator to report status" }

-- Reasons of Ready=False that need a person: the spec, a Secret or the EMR account must change.
local terminal = {
  InvalidCredentials = true, Deauthorized = true, Expired = true, SecretNotFound = true,
  CredentialConflict = true, InvalidSchedule = true, InvalidTimeZone = true,
  ImportSecretKeyMissing = true, KeyFieldMissing = true, UnknownVaultMount = true,
  KeyLocationNotAllowed = true, ImportSecretNotMarked = true,
  EndpointNotAllowed = true, ResponseTooLarge = true,
}

local function condition(conditions, type)
  for _, c in ipairs(conditions or {}) do
    if c.type == type then return c end
  end
  return nil
end

local function describe(c)
  if c.message ~= nil and c.message ~= "" then return c.reason .. ": " .. c.message end
  return c.reason or ""
end

if obj.status == nil then return hs end

local generation = obj.metadata and obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local conditions = obj.status.conditions
local stalled = condition(conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled)
  return hs
end
local reconciling = condition(conditions, "Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  hs.message = describe(reconciling)
  return hs
end
local ready = condition(conditions, "Ready")
if ready == nil then return hs end
if ready.status == "True" then
  hs.status = ready.reason == "Suspended" and "Suspended" or "Healthy"
  hs.message = describe(ready)
elseif ready.status == "False" and terminal[ready.reason] then
  hs.status = "Degraded"
  hs.message = describe(ready)
else
  hs.message = describe(ready)
end
return hs
