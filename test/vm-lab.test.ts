// The VM lab itself: a second Linux kernel under QEMU/TCG with mac80211_hwsim, hostapd,
// wpa_supplicant, dnsmasq, pppd and a fake AT modem (test/lab/vm/README.md). One boot runs
// the smoke scripts; each test() checks one of their results. Needs root (build.sh installs
// qemu and the tools with apt, downloads the Debian kernel): without them it fails, loudly.
import { describeVm } from './lab/vm/host-runner.js';

const smoke = (file: string): string => `test/lab/vm/smoke/${file}`;
// About 26 s on an idle 2-core host; other work on the machine slows TCG down a lot.
const vmTimeoutMs = 180_000;

describeVm('VM lab (QEMU/TCG, real 802.11 and PPP stacks)', {
  label: 'vm-lab',
  scripts: [smoke('wifi.sh'), smoke('wifi-wrong-key.sh'), smoke('ppp-pty.sh'), smoke('modem.sh'), smoke('node.ts')],
  timeoutMs: vmTimeoutMs,
}, (vm) => {
  vm.testPassed('wifi: hostapd WPA2 AP, wpa_supplicant reaches COMPLETED, udhcpc gets a dnsmasq lease', 'wifi');
  vm.testPassed('wifi: a wrong passphrase gives CTRL-EVENT-SSID-TEMP-DISABLED reason=WRONG_KEY', 'wifi-wrong-key');
  vm.testPassed('ppp: pppd over a socat pty pair gives ppp0 its addresses', 'ppp');
  vm.testPassed('modem: fake AT modem + chat + ATD*99# gives ppp0 with the offered address and DNS', 'modem');
  vm.testPassed('node: runs in the guest and loads koffi and netlink from the shared project', 'node');
});
