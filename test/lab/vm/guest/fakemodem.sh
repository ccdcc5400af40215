#!/bin/sh
# A fake cellular modem: answers AT commands on stdin/stdout (a pty from socat EXEC, canonical
# with icrnl, so "AT\r" arrives as one line) and, after a dial, runs the network-side pppd on
# the same tty. Started by modem.sh; configured by environment:
#   MODEM_SCENARIO     happy | sim-missing | pin-required | wrong-pin | denied |
#                      slow-registration | silent | no-carrier   (default happy)
#   MODEM_PIN          the SIM PIN for pin-required (default 1234)
#   MODEM_REG_DELAY_S  slow-registration: seconds of "searching" after the first AT (default 3)
#   MODEM_DROP_AFTER_S no-carrier: seconds after CONNECT until the carrier drops (default 2)
#   MODEM_DROP_SESSIONS no-carrier: only the first N data sessions drop (default: every one)
#   MODEM_LOCAL_IP / MODEM_PEER_IP / MODEM_DNS   PPP addresses (10.64.64.1 / .2 / .1)
#   MODEM_LOG          AT transcript (default /tmp/lab-modem/at.log)
#   MODEM_EXTENSION    a sh file sourced after the defaults: it may define scenario_<name>
#                      functions, override any at_* function, or define
#                      modem_extra_command RAW UPPER, returning 0 when it answered the line.
#
# To add a scenario: a scenario_<name> function that sets the state variables below.
# To add a command: a case branch in dispatch (or modem_extra_command in an extension).

log=${MODEM_LOG:-/tmp/lab-modem/at.log}
mkdir -p "$(dirname "$log")"
exec 3<&0 # pppd in the background gets this; an async list's own stdin would be /dev/null
# A modem's command line: one line per command, answers written with \r\n by us (-onlcr), and
# no byte with a meaning of its own: PPP frames still in flight after a dropped call must not
# raise signals (^C), stop output (^S), discard it (^O) or end the input (^D).
modem_tty_mode() {
	stty sane -echo -onlcr -isig -ixon -iexten eof undef kill undef erase undef werase undef \
		lnext undef reprint undef 2>/dev/null || stty sane -echo -onlcr -isig -ixon -iexten 2>/dev/null
}
modem_tty_mode

# --- state (scenario_* functions set these) ---------------------------------------------------
sim=READY            # READY | ABSENT | PIN | PUK
pin=${MODEM_PIN:-1234}
pin_tries=3
pin_always_wrong=0
reg=1                # +CREG stat: 0 idle, 1 home, 2 searching, 3 denied, 5 roaming
reg_delay_ms=0       # stat 2 until this long after the first AT command
dial_allowed=1
drop_after_s=''      # carrier drops this long after CONNECT
drop_sessions=${MODEM_DROP_SESSIONS:-}  # ... in the first N sessions only ('' = all)
sessions=0
silent=0
echo_on=1            # modems echo by default (ATE1)
cmee=0               # 0: plain ERROR, 1: +CME ERROR: <n>, 2: +CME ERROR: <text>
creg_mode=0
cfun=1
operator='Lab Mobile'
csq='18,99'
apn=''
first_at_ms=''

scenario_happy() { :; }
scenario_sim_missing() { sim=ABSENT; reg=0; dial_allowed=0; }
scenario_pin_required() { sim=PIN; }
scenario_wrong_pin() { sim=PIN; pin_always_wrong=1; }
scenario_denied() { reg=3; dial_allowed=0; }
scenario_slow_registration() { reg_delay_ms=$((${MODEM_REG_DELAY_S:-3} * 1000)); }
scenario_silent() { silent=1; }
scenario_no_carrier() { drop_after_s=${MODEM_DROP_AFTER_S:-2}; }

# --- output -----------------------------------------------------------------------------------
now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
say() { printf '\r\n%s\r\n' "$1"; echo "<- $1" >>"$log"; }
ok() { say OK; }
error() { say ERROR; }
# cme_error CODE TEXT (3GPP TS 27.007 §9.2)
cme_error() {
	case $cmee in
	1) say "+CME ERROR: $1" ;;
	2) say "+CME ERROR: $2" ;;
	*) error ;;
	esac
}

sim_ready() {
	case $sim in
	READY) return 0 ;;
	ABSENT) cme_error 10 'SIM not inserted' ;;
	PIN) cme_error 11 'SIM PIN required' ;;
	PUK) cme_error 12 'SIM PUK required' ;;
	esac
	return 1
}

registration_stat() {
	if [ "$sim" != READY ] || [ "$cfun" != 1 ]; then echo 0; return; fi
	if [ "$reg_delay_ms" -gt 0 ] && [ $(($(now_ms) - first_at_ms)) -lt "$reg_delay_ms" ]; then echo 2; return; fi
	echo "$reg"
}

# --- commands ---------------------------------------------------------------------------------
at_cpin_query() {
	case $sim in
	READY) say '+CPIN: READY'; ok ;;
	PIN) say '+CPIN: SIM PIN'; ok ;;
	PUK) say '+CPIN: SIM PUK'; ok ;;
	ABSENT) cme_error 10 'SIM not inserted' ;;
	esac
}

at_cpin_set() { # $1: the argument, quotes stripped
	case $sim in
	ABSENT) cme_error 10 'SIM not inserted'; return ;;
	READY) ok; return ;; # modems accept a PIN when none is needed
	PUK) cme_error 12 'SIM PUK required'; return ;;
	esac
	if [ "$pin_always_wrong" = 0 ] && [ "$1" = "$pin" ]; then
		sim=READY
		ok
	else
		pin_tries=$((pin_tries - 1))
		[ "$pin_tries" -gt 0 ] || sim=PUK
		cme_error 16 'incorrect password'
	fi
}

at_reg_query() { # $1: CREG | CGREG | CEREG
	say "+$1: $creg_mode,$(registration_stat)"
	ok
}

at_dial() {
	if ! sim_ready; then return; fi
	stat=$(registration_stat)
	if [ "$dial_allowed" = 0 ] || { [ "$stat" != 1 ] && [ "$stat" != 5 ]; }; then
		say 'NO CARRIER'
		return
	fi
	say 'CONNECT 115200'
	sessions=$((sessions + 1))
	run_network_ppp
	modem_tty_mode # pppd left the tty raw
	say 'NO CARRIER'
}

# The network side of the data call: pppd on this tty, in the netns socat was started in.
run_network_ppp() {
	echo "-- ppp session (drop after ${drop_after_s:-never} s)" >>"$log"
	set -- nodetach noauth local nocrtscts lcp-restart 1 ipcp-restart 1 \
		"${MODEM_LOCAL_IP:-10.64.64.1}:${MODEM_PEER_IP:-10.64.64.2}" ms-dns "${MODEM_DNS:-10.64.64.1}" \
		logfile "$(dirname "$log")/pppd-network.log"
	if [ -z "$drop_after_s" ] || { [ -n "$drop_sessions" ] && [ "$sessions" -gt "$drop_sessions" ]; }; then
		pppd "$@" <&3
	else
		# notty: pppd relays through a pty of its own, so this tty keeps its line discipline when
		# pppd is killed (killed on the tty itself, it would leave it in N_PPP: mute for AT). Its
		# relay makes stdin/stdout non-blocking, so it gets descriptors of its own on the tty:
		# O_NONBLOCK on ours would end the read loop below.
		dev=$(tty <&3)
		stty raw -echo <&3 2>/dev/null
		pppd notty "$@" <"$dev" >"$dev" &
		ppp_pid=$!
		sleep "$drop_after_s"
		kill -9 "$ppp_pid" 2>/dev/null # no LCP terminate: the radio link is just gone
		wait "$ppp_pid" 2>/dev/null
	fi
	echo "-- ppp session ended" >>"$log"
}

dispatch() { # $1: the line as sent, $2: upper-cased
	if type modem_extra_command >/dev/null 2>&1 && modem_extra_command "$1" "$2"; then return; fi
	case $2 in
	AT | ATZ | ATZ0 | 'AT&F' | 'AT&F0' | ATV1 | ATQ0 | ATX* | 'AT&C'* | 'AT&D'* | ATS0=* | ATL* | ATM*) ok ;;
	ATE0) echo_on=0; ok ;;
	ATE | ATE1) echo_on=1; ok ;;
	ATI | ATI0) say 'nicup lab fake modem'; ok ;;
	AT+CGMI) say 'nicup'; ok ;;
	AT+CGMM) say 'LAB-1'; ok ;;
	AT+CGMR) say '1.0'; ok ;;
	AT+CGSN) say '356938035643809'; ok ;;
	AT+CIMI) sim_ready && { say '001010123456789'; ok; } ;;
	AT+CCID | AT+ICCID) [ "$sim" = ABSENT ] && cme_error 10 'SIM not inserted' || { say '+CCID: 8901010123456789012'; ok; } ;;
	AT+CMEE=[012]) cmee=${2#AT+CMEE=}; ok ;;
	AT+CMEE?) say "+CMEE: $cmee"; ok ;;
	AT+CPIN?) at_cpin_query ;;
	AT+CPIN=*) arg=${1#*=}; arg=${arg#\"}; at_cpin_set "${arg%%\"*}" ;;
	AT+CFUN?) say "+CFUN: $cfun"; ok ;;
	AT+CFUN=*) cfun=${2#AT+CFUN=}; cfun=${cfun%%,*}; ok ;;
	AT+CREG? | AT+CGREG? | AT+CEREG?) x=${2#AT+}; at_reg_query "${x%\?}" ;;
	AT+CREG=[012] | AT+CGREG=[012] | AT+CEREG=[012]) creg_mode=${2#*=}; ok ;;
	AT+COPS?) if [ "$(registration_stat)" = 1 ]; then say "+COPS: 0,0,\"$operator\",7"; else say '+COPS: 0'; fi; ok ;;
	AT+COPS=*) ok ;;
	AT+CSQ) say "+CSQ: $csq"; ok ;;
	AT+CGDCONT=*) apn=$(echo "$1" | awk -F'"' '{ print $4 }'); ok ;;
	AT+CGDCONT?) [ -n "$apn" ] && say "+CGDCONT: 1,\"IP\",\"$apn\",\"0.0.0.0\",0,0"; ok ;;
	AT+CGATT?) [ "$(registration_stat)" = 1 ] && say '+CGATT: 1' || say '+CGATT: 0'; ok ;;
	AT+CGATT=*) ok ;;
	ATD*99'#' | ATD*99'***'*'#' | AT+CGDATA=*) at_dial ;;
	ATH | ATH0) ok ;;
	*) error ;;
	esac
}

scenario=${MODEM_SCENARIO:-happy}
fn=scenario_$(echo "$scenario" | tr '-' '_')
[ -n "${MODEM_EXTENSION:-}" ] && . "$MODEM_EXTENSION"
if ! type "$fn" >/dev/null 2>&1; then
	echo "fakemodem: unknown scenario $scenario" >&2
	exit 2
fi
"$fn"
echo "-- fakemodem scenario=$scenario" >>"$log"

while IFS= read -r line; do
	line=$(printf '%s' "$line" | tr -d '\r')
	line=${line##*~} # PPP frames still in flight end with the flag byte 0x7e: resync after it
	upper=$(printf '%s' "$line" | tr 'a-z' 'A-Z')
	case $upper in
	AT+CPIN=*) echo "-> AT+CPIN=****" >>"$log" ;; # the transcript is a log: no PIN in it
	*) echo "-> $line" >>"$log" ;;
	esac
	[ "$silent" = 1 ] && continue
	case $upper in AT*) ;; *) continue ;; esac # line noise, leftover PPP frames
	[ -n "$first_at_ms" ] || first_at_ms=$(now_ms)
	[ "$echo_on" = 1 ] && printf '%s\r' "$line"
	dispatch "$line" "$upper"
done
