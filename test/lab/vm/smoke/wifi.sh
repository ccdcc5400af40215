#!/bin/sh
# Smoke (a): WPA2 AP up, plain wpa_supplicant reaches COMPLETED, udhcpc gets a lease from dnsmasq.
. "$LAB_GUEST/lib.sh"
name=wifi
t0=$(lab_ms)
"$LAB_GUEST/wifi-ap.sh" --ssid Network --psk Password >/tmp/ap.out 2>&1 || { cat /tmp/ap.out; lab_fail $name "wifi-ap.sh failed"; exit 1; }
. /tmp/lab-ap/env
t_ap=$(lab_ms)
cat >/tmp/wpa.conf <<CONF
ctrl_interface=/run/wpa_supplicant
network={
	ssid="Network"
	key_mgmt=WPA-PSK
	psk="Password"
	scan_freq=$FREQ
}
CONF
wpa_supplicant -B -i "$STA_IF" -c /tmp/wpa.conf -P /run/wpa.pid -f /tmp/wpa.log
completed() { wpa_cli -p /run/wpa_supplicant -i "$STA_IF" status | grep -q '^wpa_state=COMPLETED'; }
if ! lab_wait 10 completed; then
	wpa_cli -p /run/wpa_supplicant -i "$STA_IF" status; tail -20 /tmp/wpa.log
	lab_fail $name "wpa_state never reached COMPLETED"; exit 1
fi
t_assoc=$(lab_ms)
udhcpc -i "$STA_IF" -n -q -f -t 5 -T 1 -s "$LAB_GUEST/udhcpc.script" >/tmp/udhcpc.log 2>&1 || { cat /tmp/udhcpc.log; lab_fail $name "udhcpc got no lease"; exit 1; }
addr=$(lab_ipv4 "$STA_IF")
t_lease=$(lab_ms)
case $addr in
192.168.77.*) ;;
*) lab_fail $name "address after DHCP is '$addr', want 192.168.77.x"; exit 1 ;;
esac
ping -c 1 -W 2 "$AP_IP" >/dev/null || { lab_fail $name "ping $AP_IP over the WiFi link failed"; exit 1; }
grep -q "DHCPACK.*$addr" /tmp/lab-ap/dnsmasq.log || { lab_fail $name "dnsmasq logged no DHCPACK for $addr"; exit 1; }
lab_info "wifi: ap $((t_ap - t0)) ms, associate $((t_assoc - t_ap)) ms, lease $((t_lease - t_assoc)) ms ($addr)"
lab_pass $name
