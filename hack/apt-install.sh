#!/bin/sh
# apt-install.sh PACKAGE...
#
# Installs Debian packages that a test script needs: as root, or with sudo;
# without recommends; once more after refreshing the package lists if the
# first try fails. Says what to do instead where there is no apt-get or no
# way to become root. Used by hack/keyring/with-secret-service.sh and
# hack/realkas/install-redis.sh, which decide what is missing.
set -eu

say() { printf 'apt-install: %s\n' "$*" >&2; }

if [ $# -eq 0 ]; then
	echo "usage: $0 PACKAGE..." >&2
	exit 2
fi
if [ "$(id -u)" -eq 0 ]; then
	as_root=
elif command -v sudo >/dev/null 2>&1; then
	as_root=sudo
else
	say "missing packages: $*; install them as root: apt-get install $*"
	exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
	say "missing: $* (Debian package names); install the equivalents with your package manager"
	exit 1
fi
say "installing $*"
# shellcheck disable=SC2086 # word splitting of $as_root is wanted
if ! $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=120 --no-install-recommends "$@" >&2; then
	say "install failed; refreshing the package lists and trying again"
	$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=120 >&2
	$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=120 --no-install-recommends "$@" >&2
fi
