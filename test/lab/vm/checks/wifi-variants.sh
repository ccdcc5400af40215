#!/bin/sh
# Self-check of guest/wifi-ap.sh variants: open, hidden, WPA3-SAE, WPS push button.
# Run: node --import tsx test/lab/vm/run.ts test/lab/vm/checks/wifi-variants.sh
. "$LAB_GUEST/lib.sh"

# connect NAME AP-OPTIONS -- NETWORK-BLOCK-LINES: AP up, station COMPLETED, DHCP lease.
connect() {
	name=$1
	shift
	ap_args=''
	while [ "$1" != -- ]; do ap_args="$ap_args $1"; shift; done
	shift
	"$LAB_GUEST/wifi-ap.sh" stop
	# shellcheck disable=SC2086
	"$LAB_GUEST/wifi-ap.sh" $ap_args >/tmp/ap.out 2>&1 || { cat /tmp/ap.out; lab_fail "$name" "wifi-ap.sh$ap_args failed"; return; }
	. /tmp/lab-ap/env
	{
		echo "ctrl_interface=/run/wpa_supplicant"
		echo "update_config=0"
		echo "network={"
		for line in "$@"; do echo "	$line"; done
		echo "	scan_freq=$FREQ"
		echo "}"
	} >/tmp/wpa.conf
	wpa_supplicant -B -i "$STA_IF" -c /tmp/wpa.conf -P /run/wpa.pid -f /tmp/wpa-$name.log
	associate "$name"
}

associate() {
	completed() { wpa_cli -p /run/wpa_supplicant -i "$STA_IF" status | grep -q '^wpa_state=COMPLETED'; }
	if ! lab_wait 15 completed; then
		tail -5 "/tmp/wpa-$1.log"
		lab_fail "$1" "no COMPLETED"
	elif ! udhcpc -i "$STA_IF" -n -q -f -t 5 -T 1 -s "$LAB_GUEST/udhcpc.script" >/dev/null 2>&1; then
		lab_fail "$1" "no DHCP lease"
	else
		lab_pass "$1"
	fi
	kill "$(cat /run/wpa.pid)" 2>/dev/null
	sleep 0.2
}

connect wifi-open --open -- 'ssid="Network"' 'key_mgmt=NONE'
connect wifi-hidden --hidden -- 'ssid="Network"' 'scan_ssid=1' 'key_mgmt=WPA-PSK' 'psk="Password"'
connect wifi-wpa3 --wpa3 --psk Sae-Password -- 'ssid="Network"' 'key_mgmt=SAE' 'ieee80211w=2' 'sae_password="Sae-Password"'

# WPS: the AP's button is pushed by wifi-ap.sh; the station pushes its own.
"$LAB_GUEST/wifi-ap.sh" stop
"$LAB_GUEST/wifi-ap.sh" --wps --ssid WpsNet --psk WpsPassword >/tmp/ap.out 2>&1 || { cat /tmp/ap.out; lab_fail wifi-wps "wifi-ap.sh --wps failed"; exit 1; }
. /tmp/lab-ap/env
printf 'ctrl_interface=/run/wpa_supplicant\nupdate_config=0\n' >/tmp/wpa.conf
wpa_supplicant -B -i "$STA_IF" -c /tmp/wpa.conf -P /run/wpa.pid -f /tmp/wpa-wifi-wps.log
wpa_cli -p /run/wpa_supplicant -i "$STA_IF" wps_pbc >/dev/null
associate wifi-wps
