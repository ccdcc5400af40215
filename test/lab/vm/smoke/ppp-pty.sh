#!/bin/sh
# Smoke (c): pppd <-> pppd over a socat pty pair gives ppp0 its addresses on both sides.
. "$LAB_GUEST/lib.sh"
name=ppp
t0=$(lab_ms)
"$LAB_GUEST/ppp-peer.sh" >/tmp/peer.out 2>&1 || { cat /tmp/peer.out; lab_fail $name "ppp-peer.sh failed"; exit 1; }
. /tmp/lab-ppp/env
t_peer=$(lab_ms)
pppd "$PPP_TTY" 115200 nodetach noauth local nocrtscts noipdefault ipcp-accept-local ipcp-accept-remote \
	lcp-restart 1 ipcp-restart 1 usepeerdns logfile /tmp/pppd-client.log &
ppp_up() { [ "$(lab_ipv4 ppp0)" = "$PPP_PEER_IP" ] && [ "$(lab_ipv4 "$PPP_NETNS" ppp0)" = "$PPP_LOCAL_IP" ]; }
if ! lab_wait 10 ppp_up; then
	cat /tmp/pppd-client.log /tmp/lab-ppp/pppd-isp.log
	lab_fail $name "ppp0 did not get $PPP_PEER_IP (isp side $PPP_LOCAL_IP)"; exit 1
fi
peer=$(ip -4 -o addr show dev ppp0 | sed -n 's/.* peer \([0-9.]*\).*/\1/p')
[ "$peer" = "$PPP_LOCAL_IP" ] || { lab_fail $name "ppp0 peer is '$peer', want $PPP_LOCAL_IP"; exit 1; }
ping -c 1 -W 2 "$PPP_LOCAL_IP" >/dev/null || { lab_fail $name "ping over ppp0 failed"; exit 1; }
lab_info "ppp: peer up $((t_peer - t0)) ms, ppp0 $PPP_PEER_IP peer $peer after $(($(lab_ms) - t_peer)) ms"
lab_pass $name
