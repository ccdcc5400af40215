#!/bin/sh
# Self-check of guest/modem.sh + fakemodem.sh: every scenario answers as documented.
# Run: node --import tsx test/lab/vm/run.ts test/lab/vm/checks/modem-scenarios.sh
. "$LAB_GUEST/lib.sh"

# at SECONDS COMMAND EXPECT: send COMMAND, true if EXPECT arrives within SECONDS.
at() { chat -t "$1" '' "$2" "$3" <"$MODEM_TTY" >"$MODEM_TTY"; }
# check NAME COMMAND...: LAB-PASS/FAIL for one step
check() {
	name=$1
	shift
	if "$@"; then lab_pass "$name"; else lab_fail "$name" "$* failed; transcript: $(tr '\n' '|' <"$MODEM_LOG" | tail -c 400)"; fi
}
start() { "$LAB_GUEST/modem.sh" stop; "$LAB_GUEST/modem.sh" "$@" >/dev/null && . /tmp/lab-modem/env; }

start happy
check modem-happy-at at 3 AT OK
check modem-happy-echo-off at 3 ATE0 OK
check modem-happy-cpin at 3 'AT+CPIN?' '+CPIN: READY'
check modem-happy-creg at 3 'AT+CREG?' '+CREG: 0,1'
check modem-happy-cops at 3 'AT+COPS?' '"Lab Mobile"'
check modem-happy-unknown at 3 'AT+NOPE' ERROR
# The checker itself must be able to fail: an answer that never comes.
if at 1 'AT+CSQ' '+CSQ: 99,99'; then lab_fail modem-checker "chat matched an answer the modem never sent"; else lab_pass modem-checker; fi

start sim-missing
check modem-sim-missing-plain at 3 'AT+CPIN?' ERROR
check modem-sim-missing-cmee at 3 'AT+CMEE=1' OK
check modem-sim-missing-code at 3 'AT+CPIN?' '+CME ERROR: 10'

start pin-required --pin 4321
check modem-pin-required-query at 3 'AT+CPIN?' '+CPIN: SIM PIN'
check modem-pin-required-cmee at 3 'AT+CMEE=2' OK
check modem-pin-required-wrong at 3 'AT+CPIN="0000"' 'incorrect password'
check modem-pin-required-right at 3 'AT+CPIN="4321"' OK
check modem-pin-required-ready at 3 'AT+CPIN?' '+CPIN: READY'

start wrong-pin
check modem-wrong-pin-1 at 3 'AT+CPIN="1234"' ERROR
check modem-wrong-pin-2 at 3 'AT+CPIN="1234"' ERROR
check modem-wrong-pin-3 at 3 'AT+CPIN="1234"' ERROR
check modem-wrong-pin-puk at 3 'AT+CPIN?' '+CPIN: SIM PUK'

start denied
check modem-denied-creg at 3 'AT+CREG?' '+CREG: 0,3'
check modem-denied-dial at 3 'ATD*99#' 'NO CARRIER'

start slow-registration --reg-delay 2
check modem-slow-searching at 3 'AT+CREG?' '+CREG: 0,2'
sleep 2
check modem-slow-registered at 3 'AT+CEREG?' '+CEREG: 0,1'

start silent
if at 2 AT OK; then lab_fail modem-silent "the silent modem answered"; else lab_pass modem-silent; fi

start no-carrier --drop-after 2
pppd "$MODEM_TTY" 115200 nodetach noauth local nocrtscts noipdefault ipcp-accept-local ipcp-accept-remote \
	lcp-restart 1 ipcp-restart 1 lcp-echo-interval 1 lcp-echo-failure 2 logfile /tmp/pppd-nc.log \
	connect "chat -s -f $LAB_GUEST/chat-dial" &
pppd_pid=$!
ppp_up() { lab_has_ipv4 ppp0; }
ppp_gone() { ! kill -0 "$pppd_pid" 2>/dev/null; }
check modem-no-carrier-up lab_wait 10 ppp_up
check modem-no-carrier-drop lab_wait 10 ppp_gone
check modem-no-carrier-message grep -q 'NO CARRIER' "$MODEM_LOG"
