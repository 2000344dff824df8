#!/usr/bin/env bash
# System packages the test suite needs on a bare Debian machine: Chromium for
# the browser tests and the PostgreSQL client tools. Run as root.
set -eu
need=""
[ -x /usr/bin/chromium ] || need="$need chromium"
command -v pg_isready >/dev/null || need="$need postgresql-client"
fc-list 2>/dev/null | grep -qi dejavu || need="$need fonts-dejavu-core"
if [ -n "$need" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $need
fi
