/**
 * The security sweep, as fault-matrix scenarios:
 *  - security-outputs-sim: everything a simulator run prints (sim-child.ts under
 *    NODE_DEBUG=nicup) holds none of the secrets, and the secrets were really used;
 *  - security-outputs-linux: the same for the Linux platform (linux-child.ts): debug log,
 *    ledger, sealed config, pppd's command line and log; the files nicup writes (ledger,
 *    device key, pppd options) are private (0600 in 0700 directories) and the options go
 *    once pppd has read them; the PPP user name and password arrive literally;
 *  - security-metacharacters: SSIDs, keys, APNs, PPP and proxy credentials full of shell
 *    and config metacharacters connect on the simulator (its supplicant compares bytes) or
 *    are refused with a NicError naming the field, never echoing the value.
 *  - security-inspect: util.inspect() of a Network and of its platform while the secrets
 *    are in use (a program that logs its objects prints that).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { Network, NetState, NicError, parseNic } from '../../src/index.js';
import { SimPlatform, defaultWorld } from '../../src/platform/sim/index.js';
import { silentLogger } from '../../src/core/log.js';
import { seal, unseal } from '../../src/sealing.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findSecrets, SECRETS } from './secrets.js';
import { LinuxPlatform } from '../../src/platform/linux/index.js';
import { createLab } from '../../test/lab/netns.js';
import type { Scenario, ScenarioOutcome } from '../lib/types.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

function runChild(file: string): Promise<{ stdout: string; stderr: string; summary: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(file, import.meta.url))], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, NODE_DEBUG: 'nicup' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('exit', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('SUMMARY '));
      if (code !== 0 || !line) return reject(new Error(`${file} exited ${code}: ${stderr.trim().split('\n').slice(-8).join(' | ')}`));
      resolve({ stdout, stderr, summary: JSON.parse(line.slice('SUMMARY '.length)) as Record<string, unknown> });
    });
  });
}

/** Findings grouped by where, one line each (the same leak in several encodings counts once per place). */
function leaks(stdout: string, stderr: string): string[] {
  const sections = stdout.split(/\n(?=[a-z][\w ./-]*: )/);
  const found = new Map<string, string>();
  for (const s of sections) {
    const where = s.slice(0, s.indexOf(':'));
    for (const f of findSecrets(where, s)) {
      const key = `${where}|${/the (\w+)/.exec(f)?.[1]}`;
      if (!found.has(key)) found.set(key, f);
    }
  }
  for (const f of findSecrets('stderr (NODE_DEBUG=nicup)', stderr)) found.set(`stderr|${f}`, f);
  return [...found.values()];
}

export const securityScenarios: Scenario[] = [
  {
    name: 'security-outputs-sim',
    where: 'sim',
    description: 'WiFi key, SIM PIN, PPP and proxy passwords used on the simulator: none in logs, NODE_DEBUG stderr, events, errors, inspect, getcurrentconfig or CLI output',
    async run(): Promise<ScenarioOutcome> {
      const r = await runChild('./sim-child.ts');
      const s = r.summary;
      assert.equal(s.allConnected, true, 'the secrets were used: every interface CONNECTED');
      assert.equal(s.simUnlocked, true, 'the PIN unlocked the SIM');
      assert.equal(s.badNicsRefused, '6/6');
      assert.equal(s.wrongKeyReason, 'wrong-key');
      assert.equal(s.wrongPinReason, 'sim-pin-wrong');
      assert.deepEqual(s.cliExitCodes, { wifi: 0, 'wifi json': 0, 'wifi wrong key': 1, cell: 0, 'cell wrong pin': 1, proxy: 0 });
      const found = leaks(r.stdout, r.stderr);
      if (found.length > 0) throw new Error(`secrets found:\n  ${found.join('\n  ')}`);
      return { iterations: 1, finalState: `no secret in ${r.stdout.length + r.stderr.length} characters of output (${s.logLines} log lines, ${s.changes} state changes, 6 CLI runs)`, figures: { 'output searched (characters)': r.stdout.length + r.stderr.length } };
    },
  },
  {
    name: 'security-outputs-linux',
    where: 'lab',
    description: 'the Linux platform with a proxy password and pppd credentials: no secret in its output or any argv; ledger, device key and pppd options private; options removed once read',
    async run(): Promise<ScenarioOutcome> {
      const r = await runChild('./linux-child.ts');
      const s = r.summary;
      assert.equal(s.ethernetConnected, true);
      assert.deepEqual(
        [s.ledgerMode, s.ledgerDirMode, s.keyFileMode, s.keyDirMode, s.pppOptionsFileMode, s.pppOptionsDirMode, s.pppOptionsOwner],
        ['600', '700', '600', '700', '600', '700', 0],
        'ledger, device key and pppd options: files 0600 in 0700 directories, owned by root',
      );
      assert.equal(s.pppUserArrivedLiterally, true, 'pppd read the user name literally');
      assert.equal(s.pppPasswordArrivedLiterally, true, 'pppd read the password literally');
      assert.equal(s.pppOptionsRemovedAfterRead, true, 'the options directory went once pppd had read it');
      const found = leaks(r.stdout, r.stderr);
      if (found.length > 0) throw new Error(`secrets found:\n  ${found.join('\n  ')}`);
      return { iterations: 1, finalState: `no secret in ${r.stdout.length + r.stderr.length} characters of output or in the argv of ${s.processesSeen} process(es); files private`, figures: { 'files checked': 'ledger 0600/0700, device key 0600/0700, pppd options 0600/0700 (removed once read)' } };
    },
  },
  {
    name: 'security-inspect',
    where: 'lab',
    description: 'util.inspect() of a Network and its platform while the secrets are in use (simulator: WiFi key and PIN; Linux: pppd with a password)',
    async run(): Promise<ScenarioOutcome> {
      const found: string[] = [];
      const world = defaultWorld();
      world.accessPoint('Network')!.options.key = SECRETS.wifiKey;
      Object.assign(world.modem('cell0').options, { sim: 'pin', pin: SECRETS.pin });
      const net = await Network.create(new SimPlatform(world), { logger: silentLogger });
      const wl = net.open({ interface: 'wl0', wificonfig: { ssid: 'Network', key: SECRETS.wifiKey } });
      const cell = net.open({ interface: 'cell0', cellconfig: { apn: 'internet', pin: SECRETS.pin, username: 'u', password: SECRETS.pppPassword } });
      assert.ok(await world.runUntil(() => wl.state === NetState.CONNECTED && cell.state === NetState.CONNECTED, 120_000), 'simulator interfaces CONNECTED');
      found.push(...findSecrets('simulator: inspect(iface)', `${inspect(wl, { depth: 12 })}${inspect(cell, { depth: 12 })}`));
      found.push(...findSecrets('simulator: inspect(network)', inspect(net, { depth: 12 })));
      await wl.close();
      await cell.close();
      await net.close();

      const lab = await createLab();
      try {
        const ns = await lab.addNamespace('client');
        const platform = new LinuxPlatform({ netns: ns, ppp: { pppdPath: fileURLToPath(new URL('./fake-pppd.mjs', import.meta.url)), stopTimeoutMs: 2000 } });
        const lnet = await Network.create(platform, { logger: silentLogger });
        const link = await platform.startPpp({ device: '/dev/null', username: 'u', password: SECRETS.pppPassword, usePeerDns: true });
        found.push(...findSecrets('Linux: inspect(platform) while pppd runs', inspect(platform, { depth: 12 })));
        found.push(...findSecrets('Linux: inspect(network) while pppd runs', inspect(lnet, { depth: 12 })));
        await link.stop();
        await lnet.close();
        await platform.dispose();
      } finally {
        await lab.dispose();
      }
      const unique = [...new Map(found.map((f) => [`${f.slice(0, f.indexOf(':', f.indexOf(':') + 1))}|${/the (\w+)/.exec(f)?.[1]}`, f])).values()];
      if (unique.length > 0) throw new Error(`secrets found:\n  ${unique.join('\n  ')}`);
      return { iterations: 1, finalState: 'no secret in util.inspect of the interfaces, the Network or the platform', figures: {} };
    },
  },
  {
    name: 'security-metacharacters',
    where: 'sim',
    description: 'SSIDs, keys, APNs, PPP and proxy credentials full of metacharacters: connect literally on the simulator, or a NicError naming the field',
    async run(): Promise<ScenarioOutcome> {
      const accepted: [string, string][] = [
        ['"quoted" \'single\'', 'pass"word\'s $(x)'],
        ['$(reboot)`id`;#', '`id`;$HOME\\n#"x"'],
        ['back\\slash #hash', '\\\\\\"\\" ;; ##'],
        ['new\nline ssid', 'a b c d e f g h'],
        ['ünïcødé 😀 Netz', 'printable ~!@#$%^&*()_+{}|:<>?'],
        ['ab"c', '"starts and ends"'],
        ['🙈🙉🙊🙈🙉🙊🙈🙉', '12345678'],
      ];
      let connected = 0;
      for (const [ssid, key] of accepted) {
        const world = defaultWorld();
        world.accessPoints[0]!.options.ssid = ssid;
        world.accessPoints[0]!.options.key = key;
        const net = await Network.create(new SimPlatform(world), { logger: silentLogger });
        const wl = net.open({ interface: 'wl0', wificonfig: { ssid, key } });
        const ok = await world.runUntil(() => wl.state === NetState.CONNECTED, 60_000);
        assert.ok(ok, `SSID ${JSON.stringify(ssid)} with key ${JSON.stringify(key)} did not connect: ${wl.state} ${wl.reason}`);
        connected++;
        await wl.close();
        await net.close();
      }
      const refused: [object, string][] = [
        [{ interface: 'wl0', wificonfig: { ssid: 'x'.repeat(33), key: 'Password' } }, 'wificonfig.ssid'],
        [{ interface: 'wl0', wificonfig: { ssid: 'é'.repeat(17), key: 'Password' } }, 'wificonfig.ssid'],
        [{ interface: 'wl0', wificonfig: { ssid: 'Net', key: 'pass\nword-secret' } }, 'wificonfig.key'],
        [{ interface: 'wl0', wificonfig: { ssid: 'Net', key: 'pässwörd-secret' } }, 'wificonfig.key'],
        [{ interface: 'wl0', wificonfig: { ssid: 'Net', key: 'short' } }, 'wificonfig.key'],
        [{ interface: 'wl0', wificonfig: { ssid: 'Net', key: 'Wk-secret\x00nul' } }, 'wificonfig.key'],
        [{ interface: 'cell0', cellconfig: { apn: 'internet";ATH' } }, 'cellconfig.apn'],
        [{ interface: 'cell0', cellconfig: { apn: 'inter net' } }, 'cellconfig.apn'],
        [{ interface: 'cell0', cellconfig: { apn: '$(reboot)' } }, 'cellconfig.apn'],
        [{ interface: 'cell0', cellconfig: { apn: 'internet\r\nAT+CFUN=0' } }, 'cellconfig.apn'],
        [{ interface: 'cell0', cellconfig: { apn: 'internet', pin: '12"4' } }, 'cellconfig.pin'],
        [{ interface: 'cell0', cellconfig: { apn: 'internet', username: 'u', password: 'pa\nss-secret' } }, 'cellconfig.password'],
        [{ interface: 'eth0', proxyconfig: { type: 'HTTP', address: 'p', port: 1, username: 'u:x', password: 'p' } }, 'proxyconfig.username'],
        [{ interface: 'eth0', proxyconfig: { type: 'HTTP', address: 'p', port: 1, username: 'u', password: 'pw\nsecret' } }, 'proxyconfig.password'],
      ];
      const wrong: string[] = [];
      for (const [nic, field] of refused) {
        try {
          parseNic(nic);
          wrong.push(`${JSON.stringify(nic)} was accepted`);
        } catch (e) {
          if (!(e instanceof NicError)) wrong.push(`${JSON.stringify(nic)}: ${String(e)}`);
          else if (e.field !== field) wrong.push(`${JSON.stringify(nic)}: field ${e.field}, expected ${field}`);
          else if (/secret/.test(`${e.message} ${inspect(e)}`)) wrong.push(`${field}: the error repeats the value`);
        }
      }
      assert.deepEqual(wrong, []);
      // Credentials that are accepted keep every character: parse, and seal/unseal.
      const dir = mkdtempSync(join(tmpdir(), 'nicup-meta-'));
      try {
        const creds = { pppUser: 'u"$(x)`;#\\', pppPassword: SECRETS.pppPassword, proxyPassword: SECRETS.proxyPassword };
        const cell = parseNic({ interface: 'cell0', cellconfig: { apn: 'internet', username: creds.pppUser, password: creds.pppPassword } }).cellconfig!;
        assert.equal(cell.username, creds.pppUser);
        assert.equal(cell.password, creds.pppPassword);
        const proxy = parseNic({ interface: 'eth0', proxyconfig: { type: 'HTTP', address: 'p', port: 1, username: 'u', password: creds.proxyPassword } }).proxyconfig!;
        assert.equal(proxy.password, creds.proxyPassword);
        const keyFile = join(dir, 'device.key');
        assert.equal(unseal(seal(creds.proxyPassword, 'proxyconfig.password', { keyFile }), 'proxyconfig.password', { keyFile }), creds.proxyPassword);
        assert.equal(unseal(seal(SECRETS.wifiKey, 'wificonfig.key', { keyFile }), 'wificonfig.key', { keyFile }), SECRETS.wifiKey);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      return { iterations: accepted.length + refused.length, finalState: `${connected} metacharacter SSID/key pairs CONNECTED literally; ${refused.length} refused with a NicError naming the field`, figures: {} };
    },
  },
];
