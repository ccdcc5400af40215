#!/bin/sh
# Brings up a simulated access point in the VM lab guest: mac80211_hwsim radios, the AP radio's
# phy moved into netns "ap", hostapd there, and dnsmasq DHCP on the AP side.
#
#   wifi-ap.sh [options]      start; writes /tmp/lab-ap/env (STA_IF, AP_IF, AP_NETNS, SSID, PSK,
#                             AP_IP, FREQ) for the test to source, and prints it
#   wifi-ap.sh stop           stop hostapd and dnsmasq, delete netns ap, unload hwsim
#
# Options:
#   --ssid NAME        SSID (default: Network)
#   --psk PASSPHRASE   WPA2-PSK passphrase, 8..63 chars (default: Password)
#   --open             no security
#   --wpa3             WPA3-SAE (ieee80211w=2) instead of WPA2-PSK
#   --hidden           do not broadcast the SSID (ignore_broadcast_ssid=1)
#   --wps              enable WPS and push the AP's button (PBC, 2 min window)
#   --wps-pin PIN      enable WPS and accept this enrollee PIN (e.g. 12345670)
#   --channel N        2.4 GHz channel (default 1 = 2412 MHz)
#   --subnet A.B.C     AP at A.B.C.1/24, DHCP pool A.B.C.10-50 (default 192.168.77)
#   --no-dhcp          no dnsmasq
#   --radios N         hwsim radios (default 2; the extra ones stay in the root netns)
#
# Scans: hwsim scans 2.4, 5 and 6 GHz with real-time dwell, ~9 s for a full scan. Pin the
# station to $FREQ (wpa_supplicant scan_freq=/freq_list=, iw scan freq) to take ~0.5 s.
set -eu
. "$(dirname "$0")/lib.sh"

state=/tmp/lab-ap
run=/run/lab/ap

stop() {
	for pidfile in "$run"/*.pid; do
		[ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
	done
	ip netns delete ap 2>/dev/null || true
	rmmod mac80211_hwsim 2>/dev/null || true
	rm -rf "$state" "$run"
}

if [ "${1:-}" = stop ]; then
	stop
	exit 0
fi

ssid=Network psk=Password security=wpa2 hidden=0 wps='' channel=1 subnet=192.168.77 dhcp=1 radios=2
while [ $# -gt 0 ]; do
	case $1 in
	--ssid) ssid=$2; shift ;;
	--psk) psk=$2; shift ;;
	--open) security=open ;;
	--wpa3) security=wpa3 ;;
	--hidden) hidden=1 ;;
	--wps) wps=pbc ;;
	--wps-pin) wps="pin:$2"; shift ;;
	--channel) channel=$2; shift ;;
	--subnet) subnet=$2; shift ;;
	--no-dhcp) dhcp=0 ;;
	--radios) radios=$2; shift ;;
	*) echo "wifi-ap.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
freq=$((2407 + 5 * channel))
[ "$channel" = 14 ] && freq=2484

mkdir -p "$state" "$run"
t0=$(lab_ms)
ifaces=$(lab_hwsim "$radios") || { echo "wifi-ap.sh: modprobe mac80211_hwsim failed" >&2; exit 1; }
sta_if=$(echo "$ifaces" | sed -n 1p)
ap_if=$(echo "$ifaces" | sed -n 2p)
[ -n "$ap_if" ] || { echo "wifi-ap.sh: hwsim made fewer than 2 radios ($ifaces)" >&2; exit 1; }
ap_phy=$(cat "/sys/class/net/$ap_if/phy80211/name")

# The AP radio gets its own netns, so DHCP between station and AP cannot short-cut over loopback.
ip netns add ap
iw phy "$ap_phy" set netns name ap
ip -n ap link set lo up
ip -n ap addr add "$subnet.1/24" dev "$ap_if"

conf=$state/hostapd.conf
{
	echo "interface=$ap_if"
	echo "driver=nl80211"
	echo "ctrl_interface=$run/hostapd"
	echo "ssid=$ssid"
	echo "hw_mode=g"
	echo "channel=$channel"
	echo "ignore_broadcast_ssid=$hidden"
	case $security in
	wpa2) printf 'wpa=2\nwpa_key_mgmt=WPA-PSK\nrsn_pairwise=CCMP\nwpa_passphrase=%s\n' "$psk" ;;
	wpa3) printf 'wpa=2\nwpa_key_mgmt=SAE\nrsn_pairwise=CCMP\nieee80211w=2\nsae_password=%s\n' "$psk" ;;
	esac
	if [ -n "$wps" ]; then
		printf 'wps_state=2\neap_server=1\nconfig_methods=push_button keypad display\n'
		printf 'device_name=Lab AP\nmanufacturer=nicup lab\nmodel_name=hwsim\n'
	fi
} >"$conf"

ip netns exec ap hostapd -B -P "$run/hostapd.pid" "$conf" >"$state/hostapd.log" 2>&1 || {
	cat "$state/hostapd.log" >&2
	exit 1
}
ap_enabled() { hostapd_cli -p "$run/hostapd" -i "$ap_if" status | grep -q '^state=ENABLED'; }
if ! lab_wait 5 ap_enabled; then
	echo "wifi-ap.sh: hostapd did not reach ENABLED" >&2
	cat "$state/hostapd.log" >&2
	exit 1
fi
case $wps in
pbc) hostapd_cli -p "$run/hostapd" -i "$ap_if" wps_pbc >/dev/null ;;
pin:*) hostapd_cli -p "$run/hostapd" -i "$ap_if" wps_pin any "${wps#pin:}" >/dev/null ;;
esac

if [ "$dhcp" = 1 ]; then
	# --no-ping: dnsmasq would otherwise probe each new address for ~3 s before offering it.
	ip netns exec ap dnsmasq -C /dev/null --interface="$ap_if" --bind-interfaces --except-interface=lo \
		--port=0 --no-ping --dhcp-authoritative \
		--dhcp-range="$subnet.10,$subnet.50,255.255.255.0,1h" \
		--dhcp-option=option:router,"$subnet.1" --dhcp-option=option:dns-server,"$subnet.1" \
		--dhcp-leasefile="$state/leases" --pid-file="$run/dnsmasq.pid" --user=root --group=root \
		--log-facility="$state/dnsmasq.log" --log-dhcp
fi

cat >"$state/env" <<EOF
STA_IF=$sta_if
AP_IF=$ap_if
AP_NETNS=ap
SSID='$ssid'
PSK='$psk'
SECURITY=$security
AP_IP=$subnet.1
FREQ=$freq
HOSTAPD_CTRL=$run/hostapd
EOF
cat "$state/env"
lab_info "wifi-ap: up in $(($(lab_ms) - t0)) ms"
