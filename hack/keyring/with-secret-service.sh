#!/bin/sh
# with-secret-service.sh CMD [ARG...]
#
# Runs CMD inside a private D-Bus session bus that has a running, unlocked
# gnome-keyring Secret Service, so that go-keyring (and `secret-tool`) work on
# a headless machine, as root or as a normal user. For the tests that need the
# real OS keyring, e.g.
#
#   hack/keyring/with-secret-service.sh go test -tags secretservice -count=1 ./pkg/tokenstore/
#
# Isolation: the bus has no service activation and the daemon keeps its
# keyrings in a throw-away directory, so a real desktop keyring of the user is
# never read, unlocked or written. CMD keeps the caller's environment (HOME,
# Go caches ...) plus DBUS_SESSION_BUS_ADDRESS and
# KUBECTL_GITLAB_SECRET_SERVICE=1. When CMD ends, the daemon and the bus are
# stopped and the directory removed; the exit status is CMD's.
#
# Environment: KEYRING_PASSWORD (default "pass") unlocks the throw-away keyring.
set -eu

say() { printf 'with-secret-service: %s\n' "$*" >&2; }

# ---------------------------------------------------------------------------
# Inside the private bus (the script calls itself through dbus-run-session).
# ---------------------------------------------------------------------------
if [ "${1-}" = "--inside-bus" ]; then
	shift
	state=$WITH_SECRET_SERVICE_STATE
	unset WITH_SECRET_SERVICE_STATE

	stop_daemon() {
		[ -n "${daemon_pid-}" ] || return 0
		kill -TERM "$daemon_pid" 2>/dev/null || return 0
		i=0
		while kill -0 "$daemon_pid" 2>/dev/null && [ "$i" -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$daemon_pid" 2>/dev/null || true
		wait "$daemon_pid" 2>/dev/null || true
		daemon_pid=
	}
	trap 'stop_daemon' EXIT
	trap 'stop_daemon; exit 130' INT
	trap 'stop_daemon; exit 143' TERM

	# --foreground keeps it our child (known PID, nothing left behind);
	# --unlock reads the password from stdin and creates the "login"
	# collection when it does not exist yet, unlocked. The XDG dirs point
	# into $state so the user's real keyrings are out of reach.
	printf '%s' "${KEYRING_PASSWORD:-pass}" |
		HOME="$state/home" XDG_DATA_HOME="$state/data" XDG_CONFIG_HOME="$state/config" \
			XDG_CACHE_HOME="$state/cache" XDG_RUNTIME_DIR="$state/run" \
			gnome-keyring-daemon --foreground --unlock --components=secrets \
			>"$state/daemon.out" 2>"$state/daemon.err" &
	daemon_pid=$!
	echo "$daemon_pid" >"$state/daemon.pid"

	# Wait until the daemon owns org.freedesktop.secrets (the bus cannot
	# start it for us: activation is off on purpose).
	i=0
	until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
		grep -q 'boolean true'; do
		if ! kill -0 "$daemon_pid" 2>/dev/null || [ "$i" -ge 100 ]; then
			say "gnome-keyring-daemon did not come up on the private bus; its output:"
			cat "$state/daemon.out" "$state/daemon.err" >&2
			exit 1
		fi
		sleep 0.1
		i=$((i + 1))
	done

	# The bus daemon's PID, so that the outer part can see it gone.
	dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.DBus 2>/dev/null |
		awk '/uint32/ { print $2 }' >"$state/bus.pid" || true

	# Prove that a store/lookup/clear round-trip works before handing over,
	# so a broken keyring shows up here and not as a puzzling test failure.
	probe="probe-$$"
	if ! printf 'ok' | secret-tool store --label="with-secret-service probe" service with-secret-service username "$probe" 2>"$state/probe.err" ||
		[ "$(secret-tool lookup service with-secret-service username "$probe" 2>>"$state/probe.err")" != ok ] ||
		! secret-tool clear service with-secret-service username "$probe" 2>>"$state/probe.err"; then
		say "the Secret Service does not store and return a secret:"
		cat "$state/probe.err" "$state/daemon.err" >&2
		exit 1
	fi

	export KUBECTL_GITLAB_SECRET_SERVICE=1
	set +e
	"$@"
	rc=$?
	set -e
	stop_daemon
	exit $rc
fi

# ---------------------------------------------------------------------------
# Outside: install what is missing, make the private bus, run, clean up.
# ---------------------------------------------------------------------------
if [ $# -eq 0 ]; then
	echo "usage: $0 CMD [ARG...]   (runs CMD with an unlocked gnome-keyring Secret Service on a private D-Bus)" >&2
	exit 2
fi

# command -> Debian package that provides it
missing=
for pair in gnome-keyring-daemon:gnome-keyring dbus-run-session:dbus-daemon \
	dbus-daemon:dbus-daemon dbus-send:dbus-bin secret-tool:libsecret-tools; do
	command -v "${pair%%:*}" >/dev/null 2>&1 || case " $missing " in
	*" ${pair#*:} "*) ;;
	*) missing="$missing ${pair#*:}" ;;
	esac
done
if [ -n "$missing" ]; then
	# shellcheck disable=SC2086 # word splitting of $missing is wanted
	"$(dirname "$0")/../apt-install.sh" $missing
fi

script_dir=$(cd "$(dirname "$0")" && pwd)
script="$script_dir/$(basename "$0")"

state=$(mktemp -d "${TMPDIR:-/tmp}/with-secret-service.XXXXXX") # mode 0700
mkdir -m 0700 "$state/home" "$state/data" "$state/config" "$state/cache" "$state/run" "$state/bus"

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	# Belt and braces: nothing this run started may outlive it.
	if [ -f "$state/daemon.pid" ] && kill -0 "$(cat "$state/daemon.pid")" 2>/dev/null; then
		say "gnome-keyring-daemon $(cat "$state/daemon.pid") still running after the session; killing it"
		kill -KILL "$(cat "$state/daemon.pid")" 2>/dev/null || true
	fi
	# dbus-run-session signals its bus but does not wait for it: wait here
	# until it has exited and been reaped, so that pgrep shows nothing.
	bus_pid=$(cat "$state/bus.pid" 2>/dev/null || true)
	if [ -n "$bus_pid" ]; then
		i=0
		while [ -e "/proc/$bus_pid" ] && [ "$i" -lt 50 ]; do
			[ "$i" -eq 30 ] && kill -KILL "$bus_pid" 2>/dev/null
			sleep 0.1
			i=$((i + 1))
		done
	fi
	rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A session bus without service activation: nothing but our daemon can claim
# org.freedesktop.secrets, and no stray daemon is started with the real HOME.
cat >"$state/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=$state/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF

set +e
WITH_SECRET_SERVICE_STATE=$state dbus-run-session --config-file="$state/bus.conf" -- sh "$script" --inside-bus "$@"
rc=$?
set -e
exit $rc
