/**
 * Named worlds for the simulator (NICUP_SIM_SCENARIO, `nicup --scenario`). Each starts
 * from the default world — eth0 with a cable and a DHCP server, wlan0 near an AP
 * "Network" with key "Password", a modem cell0 with a ready SIM that registers — and
 * changes one thing.
 */
import { SimWorld, type SimWorldOptions } from './world.js';
import { ArgumentError } from '../../errors.js';

export interface Scenario {
  description: string;
  apply(world: SimWorld): void;
}

export const scenarios: Record<string, Scenario> = {
  default: { description: 'eth0 with DHCP, wlan0 near AP "Network" (key "Password"), modem cell0 ready', apply: () => {} },
  'no-cable': { description: 'eth0 has no cable plugged in', apply: (w) => w.setCable('eth0', false) },
  'no-dhcp': { description: 'no DHCP server answers on eth0', apply: (w) => (w.segment('eth0').dhcp!.options.silent = true) },
  'slow-dhcp': { description: 'the DHCP server on eth0 answers after 3 s', apply: (w) => (w.segment('eth0').dhcp!.options.delayMs = 3000) },
  'dhcp-nak': { description: 'the DHCP server on eth0 NAKs every request', apply: (w) => (w.segment('eth0').dhcp!.options.nakAll = true) },
  'short-lease': { description: 'eth0 leases last 20 s', apply: (w) => (w.segment('eth0').dhcp!.options.leaseTimeS = 20) },
  'no-ap': { description: 'the access point "Network" is off the air', apply: (w) => w.accessPoint('Network')!.setUp(false) },
  'hidden-ap': { description: 'the access point "Network" hides its SSID', apply: (w) => (w.accessPoint('Network')!.options.hidden = true) },
  'open-ap': { description: 'the access point "Network" is open (no key)', apply: (w) => (w.accessPoint('Network')!.options.key = null) },
  'wps-ap': { description: 'the access point "Network" has its WPS button pressed', apply: (w) => w.accessPoint('Network')!.pressWpsButton() },
  'sim-missing': { description: 'modem cell0 has no SIM', apply: (w) => (w.modem('cell0').options.sim = 'missing') },
  'pin-required': { description: 'the SIM in cell0 is locked with PIN 1234', apply: (w) => (w.modem('cell0').options.sim = 'pin') },
  'registration-denied': { description: 'the network denies cell0 registration', apply: (w) => (w.modem('cell0').options.registration = 'denied') },
  'slow-registration': { description: 'cell0 registers after 20 s', apply: (w) => Object.assign(w.modem('cell0').options, { registration: 'slow', registrationDelayMs: 20_000 }) },
  'modem-silent': { description: 'modem cell0 answers nothing', apply: (w) => (w.modem('cell0').options.silent = true) },
};

/** The world the examples run in, optionally changed by a named scenario. */
export function defaultWorld(scenario = 'default', options: SimWorldOptions = {}): SimWorld {
  const s = scenarios[scenario];
  if (!s) throw new ArgumentError(`scenario: unknown simulator scenario "${scenario}" (known: ${Object.keys(scenarios).join(', ')})`, { field: 'scenario' });
  const w = new SimWorld(options);
  w.addEthernet('eth0', { segment: { subnet: '192.168.1.0/24' } });
  w.addWifi('wlan0');
  w.addAccessPoint({ ssid: 'Network', key: 'Password', wps: true, segment: { subnet: '192.168.2.0/24' } });
  w.addModem('cell0');
  s.apply(w);
  return w;
}
