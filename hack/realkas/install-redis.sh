#!/bin/sh
# install-redis.sh
#
# Makes sure redis-server is on PATH: the end-to-end tests against the real
# GitLab agent server (internal/testing/realkas) start a private Redis for
# it, on 127.0.0.1 with persistence off. Installs Debian's redis-server
# package when missing (as root, or with sudo); does nothing when it is
# there. `make test` runs it.
set -eu

say() { printf 'install-redis: %s\n' "$*" >&2; }

command -v redis-server >/dev/null 2>&1 && exit 0

# The tests start their own Redis on a free port; a service the package may
# start on 6379 does not disturb them.
"$(dirname "$0")/../apt-install.sh" redis-server
command -v redis-server >/dev/null 2>&1 || { say "redis-server is still not on PATH"; exit 1; }
