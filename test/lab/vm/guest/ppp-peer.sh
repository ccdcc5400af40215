#!/bin/sh
# A PPP peer on a pty pair in the VM lab guest: socat joins two ptys, and an "ISP" pppd in netns
# "isp" listens on one of them. The code under test runs its pppd (or its own PPP) on the other.
#
#   ppp-peer.sh [options]     start; prints and writes /tmp/lab-ppp/env (PPP_TTY, PPP_NETNS,
#                             PPP_LOCAL_IP, PPP_PEER_IP)
#   ppp-peer.sh stop
# Options:
#   --tty PATH        the client's end (default /tmp/ttyA; the ISP gets /tmp/ttyB)
#   --local A.B.C.D   the ISP's address (default 10.0.0.1)
#   --peer A.B.C.D    the address given to the client (default 10.0.0.2)
#   --dns A.B.C.D     DNS server offered (default: the ISP's address)
set -eu
. "$(dirname "$0")/lib.sh"

state=/tmp/lab-ppp
run=/run/lab/ppp-peer

if [ "${1:-}" = stop ]; then
	for pidfile in "$run"/*.pid; do [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true; done
	ip netns delete isp 2>/dev/null || true
	rm -rf "$run"
	exit 0
fi

tty=/tmp/ttyA local=10.0.0.1 peer=10.0.0.2 dns=''
while [ $# -gt 0 ]; do
	case $1 in
	--tty) tty=$2; shift ;;
	--local) local=$2; shift ;;
	--peer) peer=$2; shift ;;
	--dns) dns=$2; shift ;;
	*) echo "ppp-peer.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
isp_tty=$(dirname "$tty")/ttyB
[ "$isp_tty" != "$tty" ] || isp_tty=$(dirname "$tty")/ttyB-isp

mkdir -p "$state" "$run"
modprobe -a ppp_generic ppp_async
ip netns add isp 2>/dev/null || true
ip -n isp link set lo up
socat "PTY,link=$tty,rawer" "PTY,link=$isp_tty,rawer" >"$state/socat.log" 2>&1 &
echo $! >"$run/socat.pid"
lab_wait_for_file 5 "$tty" && lab_wait_for_file 5 "$isp_tty" || { echo "ppp-peer.sh: ptys did not appear" >&2; exit 1; }
# lcp-restart 1: the first ConfReq is usually lost while the other end is not open yet.
ip netns exec isp pppd "$isp_tty" 115200 nodetach noauth local nocrtscts "$local:$peer" \
	ms-dns "${dns:-$local}" lcp-restart 1 ipcp-restart 1 logfile "$state/pppd-isp.log" &
echo $! >"$run/pppd.pid"

cat >"$state/env" <<EOF
PPP_TTY=$tty
PPP_NETNS=isp
PPP_LOCAL_IP=$local
PPP_PEER_IP=$peer
PPP_DNS=${dns:-$local}
EOF
cat "$state/env"
