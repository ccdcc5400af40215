// Cellular on the real stack, in the VM lab (test/lab/vm/README.md): nicup's cell driver talks
// AT over a pty to the fake modem (test/lab/vm/guest/fakemodem.sh), dials, and hands the tty to
// the real pppd; the kernel's PPP links it to the network side's pppd in another namespace. One
// boot runs the guest scenarios in test/lab/vm/cell/ (cellular.ts runs them all); each test()
// checks one of their results.
// Needs root, QEMU and the lab build (test/lab/vm/build.sh installs them): without, it fails loudly.
import { describeVm } from './lab/vm/host-runner.js';

// About 90 s on an idle 2-core host (boot ~5 s); TCG slows down a lot when the host is busy.
const vmTimeoutMs = 300_000;

describeVm('cellular in the VM lab (AT over a pty, real pppd, kernel PPP)', {
  label: 'vm-cell',
  // One node process for every scenario: loading node and the native add-ons over 9p costs ~10 s under TCG.
  scripts: ['test/lab/vm/cell/cellular.ts'],
  timeoutMs: vmTimeoutMs,
}, (vm) => {
  vm.testPassed('happy path: PINGING → REGISTERING → PPP_CONNECTING → CONNECTED, address, gateway and DNS from IPCP', 'cell-connect-states');
  vm.testPassed('CONNECTED means packets flow: ping over ppp0 to the network side, default route with a metric', 'cell-connect-packets');
  vm.testPassed('pppd took over the dialled tty (its stdin) with the expected options and no defaultroute', 'cell-connect-pppd');
  vm.testPassed('the PPP password is in no argv, environment, file or log while pppd runs', 'cell-connect-no-secrets');
  vm.testPassed('modern iface.openUdp() on the cellular interface: a datagram reaches the network side over ppp0', 'cell-connect-udp');
  vm.testPassed('close: CELLULAR_STOPPED, pppd gone, no ppp link or private directory, the port free and the modem in command mode', 'cell-connect-close');
  vm.testPassed('SIM missing: WAITING_FOR_SIM sim-missing, polled, no registration or dial', 'cell-sim-missing');
  vm.testPassed('PIN required, right PIN: WAITING_FOR_SIM sim-pin-required then CONNECTED; the PIN sent once, never in argv or logs', 'cell-pin-right');
  vm.testPassed('wrong PIN: UNHAPPY sim-pin-wrong, the PIN sent exactly once and never retried', 'cell-pin-wrong');
  vm.testPassed('registration denied: REGISTRATION_DENIED, no dial', 'cell-registration-denied');
  vm.testPassed('slow registration: REGISTERING for a while, then CONNECTED', 'cell-registration-slow');
  vm.testPassed('silent modem: UNHAPPY modem-silent', 'cell-modem-silent');
  vm.testPassed('NO CARRIER mid-session: UNHAPPY ppp-dropped (LCP echo timeout), then CONNECTED again by itself', 'cell-no-carrier-recovers');
  vm.testPassed('close after a recovery releases pppd and the port', 'cell-no-carrier-close');
  vm.testPassed('nicup SIGKILLed while CONNECTED: the next start stops the pppd it left and comes up on the same modem', 'cell-killed-orphan-stopped');
  vm.testStatesSeen('every cellular state (300–306) and CONNECTED came from a real AT exchange and pppd', {
    tag: 'CELL-STATES',
    kind: 'cellular',
  });
});
