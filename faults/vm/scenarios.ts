/**
 * WiFi and cellular fault scenarios on the real Linux stacks, in the VM lab (QEMU/TCG, one
 * boot for all; test/lab/vm): guest-wifi.ts (mac80211_hwsim, hostapd, the wpa_supplicant
 * nicup starts) and guest-cell.ts (fake AT modem on a pty, real pppd). Each guest scenario
 * prints a FAULT-RESULT line; each becomes a matrix row here. The guest runs with
 * NODE_DEBUG=nicup, and the whole console log is searched for the secrets on the host.
 * Recovery times are guest wall-clock milliseconds under software emulation (TCG): several
 * times slower than on hardware.
 */
import { fileURLToPath } from 'node:url';
import { buildLab, runVm, type VmRun } from '../../test/lab/vm/run.js';
import { findSecrets } from '../security/secrets.js';
import type { GuestResult } from './guest-lib.js';
import type { Scenario, ScenarioContext, ScenarioOutcome } from '../lib/types.js';

const GUEST_SCRIPTS = [fileURLToPath(new URL('./guest-wifi.ts', import.meta.url)), fileURLToPath(new URL('./guest-cell.ts', import.meta.url))];

let booted: Promise<{ run: VmRun; results: Map<string, GuestResult> }> | undefined;

/** One boot runs both guest scripts; every VM scenario reads its row from it. */
function vm(ctx: ScenarioContext): Promise<{ run: VmRun; results: Map<string, GuestResult> }> {
  booted ??= (async () => {
    ctx.log('vm: building/booting the VM lab (QEMU/TCG) for the WiFi and cellular fault scenarios');
    const lab = await buildLab();
    const run = await runVm({ lab, scripts: GUEST_SCRIPTS, timeoutMs: ctx.long ? 60 * 60_000 : 10 * 60_000, env: { FAULT_LONG: ctx.long ? '1' : '0', NODE_DEBUG: 'nicup' } });
    const results = new Map<string, GuestResult>();
    for (const line of run.log.split('\n')) {
      const m = /FAULT-RESULT: (\{.*\})\s*$/.exec(line);
      if (!m) continue;
      try {
        const r = JSON.parse(m[1]!) as GuestResult;
        results.set(r.name, r);
      } catch {
        // a line cut by the console: the scenario then reports it missing
      }
    }
    ctx.log(`vm: ${run.done ? 'finished' : 'did NOT finish'} in ${(run.durationMs / 1000).toFixed(1)} s (boot ${run.bootSeconds ?? '?'} s); log ${run.logPath}`);
    return { run, results };
  })();
  return booted;
}

function fromGuest(name: string, description: string): Scenario {
  return {
    name,
    where: 'vm',
    description,
    async run(ctx): Promise<ScenarioOutcome> {
      const { run, results } = await vm(ctx);
      const r = results.get(name);
      if (!r) throw new Error(`no result from the guest for ${name} (${run.done ? 'the script ended without it' : `the VM did not finish: ${run.results.at(-1)?.detail ?? ''}`}); log ${run.logPath}`);
      if (r.error) throw new Error(`${r.error} (log ${run.logPath})`);
      return { iterations: r.iterations, finalState: r.finalState, recoveryMs: r.recoveryMs, recoveryUnit: 'ms', leftBehind: r.leftBehind, figures: r.figures };
    },
  };
}

export const vmScenarios: Scenario[] = [
  fromGuest('vm-wifi-ap-flap', 'real WiFi: the AP disabled and enabled again (hostapd), ×100 long, ×5 otherwise'),
  fromGuest('vm-wifi-supplicant-killed', 'real WiFi: the wpa_supplicant nicup started is SIGKILLed, ×50 long, ×3 otherwise'),
  fromGuest('vm-wifi-wrong-then-right-key', 'real WiFi: a wrong key (UNHAPPY wrong-key), reconfigured with the right one'),
  fromGuest('vm-wifi-metacharacters', 'real WiFi: an SSID and passphrase full of metacharacters reach hostapd\'s network literally'),
  fromGuest('vm-wifi-killed-mid-bring-up', 'real WiFi: nicup (its own process) SIGKILLed while joining and once CONNECTED; the next start comes up and leaves nothing'),
  fromGuest('vm-wifi-no-key-in-argv', 'real WiFi: no key on the command line of any process during the WiFi scenarios'),
  fromGuest('vm-modem-silent', 'real cellular: a silent modem (UNHAPPY modem-silent), then a modem that answers on the same port'),
  fromGuest('vm-ppp-dropped', 'real cellular: the network drops the data call (its pppd killed 3 s into every call), ×50 long, ×2 otherwise'),
  fromGuest('vm-cell-secrets', 'real cellular: SIM PIN and a metacharacter PPP password: CONNECTED, none in nicup\'s log, options removed'),
  fromGuest('vm-cell-killed-mid-bring-up', 'real cellular: nicup (its own process) SIGKILLed while CONNECTED; the next start comes up on the same modem and leaves nothing'),
  fromGuest('vm-cell-no-secret-in-argv', 'real cellular: no PIN or PPP password on any command line (pppd included)'),
  {
    name: 'vm-console-secrets',
    where: 'vm',
    description: 'the whole VM console (NODE_DEBUG=nicup, every guest script, daemons) holds none of the secrets',
    async run(ctx): Promise<ScenarioOutcome> {
      const { run } = await vm(ctx);
      const found = findSecrets('VM console', run.log);
      if (found.length > 0) throw new Error(`secrets found:\n  ${found.join('\n  ')}`);
      return { iterations: 1, finalState: `no secret in ${run.log.length} characters of console output`, figures: { 'VM wall time (s)': Math.round(run.durationMs / 1000) } };
    },
  },
];
