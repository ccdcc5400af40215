#!/bin/sh
# Starts the fake AT modem (fakemodem.sh) on a pty in the VM lab guest.
#
#   modem.sh [SCENARIO] [options]   start; prints and writes /tmp/lab-modem/env (MODEM_TTY,
#                                   MODEM_NETNS, MODEM_PEER_IP, MODEM_LOCAL_IP, MODEM_DNS)
#   modem.sh stop
#
# SCENARIO: happy (default) | sim-missing | pin-required | wrong-pin | denied |
#           slow-registration | silent | no-carrier     (see fakemodem.sh)
# Options:
#   --tty PATH          the modem's device path (default /tmp/modem)
#   --pin PIN           SIM PIN for pin-required (default 1234)
#   --reg-delay S       slow-registration: seconds of searching (default 3)
#   --drop-after S      no-carrier: seconds from CONNECT to carrier loss (default 2)
#   --drop-sessions N   no-carrier: only the first N sessions lose the carrier (default: all)
#   --extension FILE    sourced by fakemodem.sh (more scenarios/commands; see there)
#
# The network side (socat, fakemodem, its pppd) runs in netns "mdm", so its ppp interface does
# not share a namespace with the station's ppp0.
set -eu
. "$(dirname "$0")/lib.sh"

state=/tmp/lab-modem
run=/run/lab/modem

if [ "${1:-}" = stop ]; then
	if [ -f "$run/socat.pid" ]; then
		pid=$(cat "$run/socat.pid")
		kill "$pid" 2>/dev/null || true
		# socat removes its link as it exits; a new modem on the same path must not race it.
		gone() { ! kill -0 "$1" 2>/dev/null; }
		lab_wait 2 gone "$pid" || kill -9 "$pid" 2>/dev/null || true
	fi
	[ -f "$run/tty" ] && [ -L "$(cat "$run/tty")" ] && rm -f "$(cat "$run/tty")"
	ip netns delete mdm 2>/dev/null || true
	rm -rf "$run"
	exit 0
fi

MODEM_SCENARIO=happy
case ${1:-} in -* | '') ;; *) MODEM_SCENARIO=$1; shift ;; esac
tty=/tmp/modem
while [ $# -gt 0 ]; do
	case $1 in
	--tty) tty=$2; shift ;;
	--pin) MODEM_PIN=$2; export MODEM_PIN; shift ;;
	--reg-delay) MODEM_REG_DELAY_S=$2; export MODEM_REG_DELAY_S; shift ;;
	--drop-after) MODEM_DROP_AFTER_S=$2; export MODEM_DROP_AFTER_S; shift ;;
	--drop-sessions) MODEM_DROP_SESSIONS=$2; export MODEM_DROP_SESSIONS; shift ;;
	--extension) MODEM_EXTENSION=$2; export MODEM_EXTENSION; shift ;;
	*) echo "modem.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
export MODEM_SCENARIO MODEM_LOG="$state/at.log"

mkdir -p "$state" "$run"
[ -L "$tty" ] && rm -f "$tty" # left by a socat that was killed
echo "$tty" >"$run/tty"
: >"$state/at.log" # a new modem, a new transcript
modprobe -a ppp_generic ppp_async
ip netns add mdm 2>/dev/null || true
ip -n mdm link set lo up
# rawer: no line discipline on the client's side; the EXEC pty is canonical (one line per AT
# command) without echo (the modem echoes itself, as real ones do after ATE1); stderr to socat's.
ip netns exec mdm socat "PTY,link=$tty,rawer" "EXEC:$LAB_GUEST/fakemodem.sh,pty,echo=0,setsid,ctty,stderr" \
	>"$state/socat.log" 2>&1 &
echo $! >"$run/socat.pid"
lab_wait_for_file 5 "$tty" || { echo "modem.sh: $tty did not appear" >&2; cat "$state/socat.log" >&2; exit 1; }

cat >"$state/env" <<EOF
MODEM_TTY=$tty
MODEM_NETNS=mdm
MODEM_SCENARIO=$MODEM_SCENARIO
MODEM_LOCAL_IP=${MODEM_LOCAL_IP:-10.64.64.1}
MODEM_PEER_IP=${MODEM_PEER_IP:-10.64.64.2}
MODEM_DNS=${MODEM_DNS:-10.64.64.1}
MODEM_LOG=$state/at.log
EOF
cat "$state/env"
