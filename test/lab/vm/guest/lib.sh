# Shared shell functions for guest test scripts and helpers (source it: . "$LAB_GUEST/lib.sh").
# Runs under dash in the VM lab guest. Tests may write /tmp only; daemons keep state in /run.

LAB_GUEST=${LAB_GUEST:-$(cd "$(dirname "$0")" && pwd)}

lab_pass() { echo "LAB-PASS: $1"; }
# lab_fail NAME DETAIL
lab_fail() { echo "LAB-FAIL: $1: $2"; }
lab_info() { echo "lab: $*"; }

# Milliseconds since guest boot (busybox date has no %N).
lab_ms() {
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

# lab_wait SECONDS COMMAND...: run COMMAND every 50 ms until it succeeds; 1 on timeout.
lab_wait() {
	_lab_deadline=$(($(lab_ms) + $(awk "BEGIN { printf \"%d\", $1 * 1000 }")))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(lab_ms)" -lt "$_lab_deadline" ] || return 1
		sleep 0.05
	done
}

# lab_wait_for_file SECONDS PATH
lab_wait_for_file() { lab_wait "$1" test -e "$2"; }

# lab_ipv4 [NETNS] IFACE: the interface's first IPv4 address, or nothing.
lab_ipv4() {
	if [ $# -eq 2 ]; then
		ip -n "$1" -4 -o addr show dev "$2" 2>/dev/null | awk '{ split($4, a, "/"); print a[1]; exit }'
	else
		ip -4 -o addr show dev "$1" 2>/dev/null | awk '{ split($4, a, "/"); print a[1]; exit }'
	fi
}

# lab_has_ipv4 [NETNS] IFACE: true once the interface has an IPv4 address.
lab_has_ipv4() { [ -n "$(lab_ipv4 "$@")" ]; }

# Load mac80211_hwsim with N radios (default 2) and print the new wlan interfaces, one a line.
lab_hwsim() {
	_lab_before=$(ls /sys/class/net)
	modprobe mac80211_hwsim radios="${1:-2}" || return 1
	for _lab_if in $(ls /sys/class/net); do
		case " $(echo $_lab_before) " in *" $_lab_if "*) ;; *) [ -e "/sys/class/net/$_lab_if/phy80211" ] && echo "$_lab_if" ;; esac
	done | sort
}
