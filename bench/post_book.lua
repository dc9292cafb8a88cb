-- wrk script for book_appointment on the demo salon's local calendar: every request books
-- a slot no earlier request of the run asked for (10:00-17:30, half-hourly, day after day),
-- so the calls book instead of being answered "unavailable" once the first day is full.
-- Slots stay within the next 300 days (the booking horizon); a run starts at a slot derived
-- from the clock, so consecutive runs mostly ask for different slots.
counter = 0
local span = 300 * 16
local first = (os.time() * 37) % span
local tomorrow = os.time() + 86400
request = function()
  counter = counter + 1
  local slot = (first + counter) % span
  local day = os.date("!%Y-%m-%d", tomorrow + math.floor(slot / 16) * 86400)
  local minutes = 600 + (slot % 16) * 30
  local ph = string.format("+4915101%05d", (counter * 7919) % 5000)
  local body = string.format('{"name":"book_appointment","call":{"call_id":"wrkb-%d-%d","agent_id":"agent_demo","from_number":"%s"},"args":{"customer_name":"Max Muster","service":"Haarschnitt","date":"%s","time":"%02d:%02d"}}', os.time(), counter, ph, day, math.floor(minutes / 60), minutes % 60)
  return wrk.format("POST", "/retell/functions/book_appointment", {["Content-Type"]="application/json"}, body)
end
