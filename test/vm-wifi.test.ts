// WiFi through wpa_supplicant, proven on a real 802.11 stack: the VM lab (test/lab/vm) boots a
// second Linux kernel under QEMU/TCG with mac80211_hwsim, hostapd and dnsmasq on the AP side;
// the guest scripts in test/lab/vm/wifi/ run nicup's LinuxPlatform + Network there on wlan0,
// pinned to 2412 MHz. One boot runs every script; each test() checks one of their results.
// Needs root (build.sh installs qemu and the tools, downloads the Debian kernel): without them
// every test fails, naming what is missing.
import { describeVm } from './lab/vm/host-runner.js';

// About 75 s on an idle 2-core host (boot 5 s, wpa2 45 s of which wrong-key 25 s, variants 20 s).
const vmTimeoutMs = 240_000;

describeVm('WiFi on a real 802.11 stack (VM lab: mac80211_hwsim, hostapd, wpa_supplicant)', {
  label: 'vm-wifi',
  scripts: ['test/lab/vm/wifi/wpa2.ts', 'test/lab/vm/wifi/variants.ts'],
  timeoutMs: vmTimeoutMs,
}, (vm) => {
  vm.testPassed('WPA2 passphrase: SCANNING, JOINING, LINK_UP, DHCPING, CONNECTED with an address from the AP’s dnsmasq', 'wifi-wpa2-passphrase');
  vm.testPassed('the key is in no file of the private 0700 directory, not on the command line, not in the log', 'wifi-no-key-in-files-or-logs');
  vm.testPassed('UDP echo over the WiFi link with a socat peer on the AP side', 'wifi-udp-echo');
  vm.testPassed('AP disabled: SCANNING ap-lost and the address removed; AP back: CONNECTED again', 'wifi-ap-lost');
  vm.testPassed('wpa_supplicant killed: STOPPED_UNHAPPY supplicant-died, then CONNECTED by itself with a new daemon', 'wifi-supplicant-killed');
  vm.testPassed('close: WIFI_STOPPED, no wpa_supplicant, no private directory, no address', 'wifi-close');
  vm.testPassed('raw 64-hex PSK (PBKDF2 of passphrase and SSID) joins', 'wifi-wpa2-raw-psk');
  vm.testPassed('wrong key: STOPPED_UNHAPPY wrong-key, the network disabled, no retry for a while', 'wifi-wrong-key');
  vm.testPassed('open network joins', 'wifi-open');
  vm.testPassed('hidden SSID joins with hidden: true (scan_ssid 1)', 'wifi-hidden');
  vm.testPassed('WPS push-button: WIFI_WPSING until the AP’s button, then CONNECTED; the received key stays out of files and logs', 'wifi-wps-pbc');
  vm.testStatesSeen('every WiFi state (100–106) and CONNECTED came from the real stack', {
    tag: 'WIFI-STATES',
    kind: 'wifi',
    onePerScript: true,
  });
});
