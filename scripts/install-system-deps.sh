#!/usr/bin/env bash
# System packages the test suite needs on a bare Debian machine: Chromium for
# the browser tests, the PostgreSQL client tools (backups too), poppler's
# pdftoppm, a font for PDFs and screenshots, and npm for the map's Leaflet. As root they are installed;
# otherwise the exact command is printed (and scripts/test-services.sh reports what is still missing).
set -eu
need=""
[ -x "${SIGAP_CHROMIUM:-/usr/bin/chromium}" ] || need="$need chromium"
command -v pg_isready >/dev/null || need="$need postgresql-client"
command -v pdftoppm >/dev/null || need="$need poppler-utils"  # the visit report PDF test renders a page
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need="$need fonts-dejavu-core"
command -v npm >/dev/null || need="$need npm"  # the map's Leaflet (scripts/vendor-js.sh)
[ -n "$need" ] || exit 0
if [ "$(id -u)" = 0 ]; then
  echo "install-system-deps: installing$need"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $need
else
  echo "install-system-deps: missing$need; install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends$need" >&2
fi
