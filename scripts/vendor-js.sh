#!/usr/bin/env bash
# The browser libraries (package.json, pinned with their sha512 integrity in
# package-lock.json): `npm ci` installs exactly the locked versions, checking
# every tarball against its hash, then each package's dist/ is copied to
# static/vendor/NAME/ (git-ignored), served as /static/vendor/NAME/...
# Without npm nothing breaks: the map page lists the LKS in a table and says
# the map library is missing (Debian: apt-get install npm, then run this again).
set -eu
cd "$(dirname "$0")/.."
stamp=static/vendor/.installed
if ! command -v npm >/dev/null; then
  echo "vendor-js: npm not found; the map page shows its table only. Install npm (Debian: apt-get install npm) and run: make vendor" >&2
  exit 0
fi
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
staging=$(mktemp -d static/.vendor.XXXXXX)
trap 'rm -rf "$staging"' EXIT
for pkg in $(node -e 'console.log(Object.keys(require("./package.json").dependencies).join(" "))'); do
  cp -R "node_modules/$pkg/dist" "$staging/$pkg"
  cp "node_modules/$pkg/LICENSE"* "$staging/$pkg/" 2>/dev/null || cp "node_modules/$pkg/MIT-LICENCE"* "$staging/$pkg/" 2>/dev/null || true
done
rm -rf static/vendor
mv "$staging" static/vendor
chmod 755 static/vendor
touch "$stamp"
echo "vendor-js: $(ls static/vendor | tr '\n' ' ')in static/vendor/"
