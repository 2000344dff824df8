#!/usr/bin/env bash
# Make sure what the test suite talks to is running: PostgreSQL (started with
# the machine's own cluster tools if it is installed but stopped) and a
# Chromium for the browser tests. Under CI=true anything missing is an error;
# on a developer machine it is a warning and the tests that need it fail
# loudly (they never skip under CI).
set -u
PG_URL="${SIGAP_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
hostport="${PG_URL#*@}"; hostport="${hostport%%/*}"
host="${hostport%%:*}"; port="${hostport##*:}"
problems=0

pg_ready() { pg_isready -q -h "$host" -p "$port" 2>/dev/null; }
if command -v pg_isready >/dev/null && ! pg_ready; then
  if command -v pg_ctlcluster >/dev/null; then
    echo "test-services: starting PostgreSQL"
    for v in $(ls /etc/postgresql 2>/dev/null); do
      pg_ctlcluster --skip-systemctl-redirect "$v" main start 2>/dev/null || true
    done
    for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
  fi
fi
if ! command -v pg_isready >/dev/null || ! pg_ready; then
  echo "test-services: PostgreSQL is not reachable at $host:$port" >&2
  problems=1
fi
REDIS_URL="${SIGAP_TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
rhostport="${REDIS_URL#redis://}"; rhostport="${rhostport%%/*}"
redis_ready() { (exec 3<>"/dev/tcp/${rhostport%%:*}/${rhostport##*:}") 2>/dev/null; }
if ! redis_ready && command -v redis-server >/dev/null; then
  echo "test-services: starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port "${rhostport##*:}" --save "" --appendonly no >/dev/null
  for _ in $(seq 1 20); do redis_ready && break; sleep 0.5; done
fi
if ! redis_ready; then
  echo "test-services: Redis is not reachable at $rhostport" >&2
  problems=1
fi
if [ ! -x "${SIGAP_CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "test-services: Chromium not found at ${SIGAP_CHROMIUM:-/usr/bin/chromium} (scripts/install-system-deps.sh installs it)" >&2
  problems=1
fi
if [ "$problems" -ne 0 ] && [ "${CI:-}" = "true" ]; then
  echo "test-services: CI=true and a service is missing: failing" >&2
  exit 1
fi
exit 0
