#!/usr/bin/env bash
# Make sure PostgreSQL's server binaries are installed, for the tests of the
# PostgreSQL store: they start a server of their own in a temp folder
# (tests/store/conftest.py); this only installs Debian's package.
# Idempotent, and quiet when the server is there already.
#
# The package's own cluster is not used: where nothing starts it (no
# systemd), it stays stopped; where something does, it listens on 5432 and
# the tests' server on a free port beside it.
set -euo pipefail

installed() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }

installed && exit 0

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    echo "ensure-postgres: PostgreSQL is not installed and this user cannot install it;" \
        "the PostgreSQL tests will skip (as root: apt-get install -y postgresql)" >&2
    exit 0
fi

echo "ensure-postgres: installing PostgreSQL (apt-get install postgresql) ..." >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
installed || {
    echo "ensure-postgres: postgresql is installed but /usr/lib/postgresql/*/bin/initdb is not there" >&2
    exit 1
}
echo "ensure-postgres: installed $(ls -d /usr/lib/postgresql/*/bin | tail -n 1)" >&2
