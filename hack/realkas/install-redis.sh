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

if [ "$(id -u)" -eq 0 ]; then
	as_root=
elif command -v sudo >/dev/null 2>&1; then
	as_root=sudo
else
	say "redis-server is missing; install it as root: apt-get install redis-server"
	exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
	say "redis-server is missing; install Redis with your package manager"
	exit 1
fi
say "installing redis-server"
# The tests start their own Redis on a free port; a service the package may
# start on 6379 does not disturb them.
if ! $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=120 --no-install-recommends redis-server >&2; then
	say "install failed; refreshing the package lists and trying again"
	$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=120 >&2
	$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=120 --no-install-recommends redis-server >&2
fi
command -v redis-server >/dev/null 2>&1 || { say "redis-server is still not on PATH"; exit 1; }
