#!/bin/sh
# Smoke (d): fake AT modem + chat + ATD*99# -> ppp0 with the modem's addresses and DNS.
. "$LAB_GUEST/lib.sh"
name=modem
t0=$(lab_ms)
"$LAB_GUEST/modem.sh" happy >/tmp/modem.out 2>&1 || { cat /tmp/modem.out; lab_fail $name "modem.sh failed"; exit 1; }
. /tmp/lab-modem/env
t_modem=$(lab_ms)
pppd "$MODEM_TTY" 115200 nodetach noauth local nocrtscts noipdefault ipcp-accept-local ipcp-accept-remote \
	lcp-restart 1 ipcp-restart 1 usepeerdns logfile /tmp/pppd-client.log \
	connect "chat -v -s -f $LAB_GUEST/chat-dial" &
ppp_up() { [ "$(lab_ipv4 ppp0)" = "$MODEM_PEER_IP" ]; }
if ! lab_wait 10 ppp_up; then
	cat /tmp/pppd-client.log "$MODEM_LOG"
	lab_fail $name "ppp0 did not get $MODEM_PEER_IP"; exit 1
fi
grep -q "primary   DNS address $MODEM_DNS" /tmp/pppd-client.log || { cat /tmp/pppd-client.log; lab_fail $name "pppd got no DNS $MODEM_DNS"; exit 1; }
grep -q '^-> ATD\*99#' "$MODEM_LOG" || { cat "$MODEM_LOG"; lab_fail $name "the modem saw no ATD*99#"; exit 1; }
lab_info "modem: modem up $((t_modem - t0)) ms, ppp0 $MODEM_PEER_IP after $(($(lab_ms) - t_modem)) ms"
lab_pass $name
