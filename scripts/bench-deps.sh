#!/usr/bin/env bash
# wrk is the load generator of `make bench` (C, on a core of its own).
set -eu
command -v wrk >/dev/null && exit 0
if [ "$(id -u)" = 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
else
  echo "bench: install wrk (apt-get install wrk)" >&2; exit 1
fi
