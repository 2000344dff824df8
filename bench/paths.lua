-- wrk script of `make bench` for scenarios that rotate through several
-- paths (bench/wrk.py passes a file with one path per line after "--"):
-- every request asks for the next path, so a run measures a realistic mix
-- of queries instead of one query served from warm caches over and over.
-- Each thread starts at a different place in the list.
--
-- Counting and the result line come from report.lua (same folder).

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local report_setup = setup
local report_init = init
local paths = {}
local index = 0
local started = 0 -- threads set up so far (main state)

function setup(thread)
  report_setup(thread)
  thread:set("bench_thread_number", started) -- a global of the thread's state
  started = started + 1
end

function init(args)
  report_init(args)
  local file = assert(io.open(args[1], "r"), "bench/paths.lua: no paths file given")
  for line in file:lines() do
    if line ~= "" then
      table.insert(paths, line)
    end
  end
  file:close()
  assert(#paths > 0, "bench/paths.lua: the paths file is empty")
  -- Spread the threads over the list.
  index = ((bench_thread_number or 0) * 7) % #paths
end

function request()
  index = index % #paths + 1
  return wrk.format("GET", paths[index])
end
