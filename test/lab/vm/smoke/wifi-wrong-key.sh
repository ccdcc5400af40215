#!/bin/sh
# Smoke (b): a wrong passphrase ends in CTRL-EVENT-SSID-TEMP-DISABLED ... reason=WRONG_KEY.
. "$LAB_GUEST/lib.sh"
name=wifi-wrong-key
"$LAB_GUEST/wifi-ap.sh" --ssid Network --psk Password >/tmp/ap.out 2>&1 || { cat /tmp/ap.out; lab_fail $name "wifi-ap.sh failed"; exit 1; }
. /tmp/lab-ap/env
cat >/tmp/wpa.conf <<CONF
ctrl_interface=/run/wpa_supplicant
network={
	ssid="Network"
	key_mgmt=WPA-PSK
	psk="WrongPassword"
	scan_freq=$FREQ
}
CONF
t0=$(lab_ms)
wpa_supplicant -B -i "$STA_IF" -c /tmp/wpa.conf -P /run/wpa.pid -f /tmp/wpa.log
wrong_key() { grep -q 'CTRL-EVENT-SSID-TEMP-DISABLED.*reason=WRONG_KEY' /tmp/wpa.log; }
if ! lab_wait 15 wrong_key; then
	tail -20 /tmp/wpa.log
	lab_fail $name "no CTRL-EVENT-SSID-TEMP-DISABLED reason=WRONG_KEY within 15 s"; exit 1
fi
if wpa_cli -p /run/wpa_supplicant -i "$STA_IF" status | grep -q '^wpa_state=COMPLETED'; then
	lab_fail $name "wrong key reached COMPLETED"; exit 1
fi
lab_info "wifi-wrong-key: WRONG_KEY after $(($(lab_ms) - t0)) ms: $(grep -m1 'TEMP-DISABLED' /tmp/wpa.log)"
lab_pass $name
