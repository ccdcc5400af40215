/**
 * `nicup seal` and the sealed options of `nicup open`, through main() in-process on the
 * simulator (virtual time, a world per test). Every test uses its own key file.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { installSealing, seal, unseal } from '../src/index.js';
import { setSealedOpener } from '../src/core/sealed-hook.js';
import { defaultWorld, type SimWorld } from '../src/platform/sim/index.js';
import { main } from '../src/cli/main.js';
import type { CliIoWithStdin } from '../src/cli/seal.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

const dirs: string[] = [];
function keyFileIn(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nicup-cli-seal-'));
  dirs.push(dir);
  return join(dir, 'keys', 'device.key');
}

afterEach(() => {
  installSealing({});
  setSealedOpener(undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Runs nicup with `stdin` as its standard input; the simulator always (a virtual world when given). */
async function run(argv: string[], o: { stdin?: string; env?: Record<string, string>; world?: SimWorld } = {}): Promise<Run> {
  let out = '';
  let err = '';
  const io: CliIoWithStdin = {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: { NICUP_PLATFORM: 'sim', ...o.env },
    ...(o.stdin !== undefined ? { stdin: Readable.from([Buffer.from(o.stdin)]) } : {}),
    ...(o.world ? { simWorld: o.world } : {}),
  };
  let settled = false;
  const promise = main(argv, io).finally(() => (settled = true));
  if (o.world) {
    const deadline = Date.now() + 10_000;
    while (!settled) {
      await o.world.runUntil(() => settled, 3_600_000);
      if (Date.now() > deadline) throw new Error(`nicup ${argv.join(' ')} did not finish`);
      await new Promise((r) => setImmediate(r));
    }
  }
  return { code: await promise, out, err };
}

function assertNoSecret(r: Run, secret: string): void {
  assert.ok(!r.out.includes(secret) && !r.err.includes(secret), 'the secret is never written out');
}

describe('nicup seal', () => {
  test('reads the secret from stdin, prints a base64 blob that opens for that field with that key file (created 0600 in 0700)', async () => {
    const keyFile = keyFileIn();
    const r = await run(['seal', '--field', 'wificonfig.key', '--key-file', keyFile], { stdin: 'Password\n' });
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    const lines = r.out.trim().split('\n');
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^[A-Za-z0-9+/]+={0,2}$/);
    const blob = new Uint8Array(Buffer.from(lines[0]!, 'base64'));
    assert.equal(unseal(blob, 'wificonfig.key', { keyFile }), 'Password', 'the trailing newline is not part of the secret');
    assert.throws(() => unseal(blob, 'cellconfig.pin', { keyFile }), /failed authentication/, 'bound to its field');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal(statSync(join(keyFile, '..')).mode & 0o777, 0o700);
    assertNoSecret(r, 'Password');
  });

  test('--json; NICUP_KEY_FILE when there is no --key-file; each field checks its own rule', async () => {
    const keyFile = keyFileIn();
    const pin = await run(['seal', '--field', 'cellconfig.pin', '--json'], { stdin: '1234', env: { NICUP_KEY_FILE: keyFile } });
    assert.equal(pin.code, 0, pin.err);
    const record = JSON.parse(pin.out) as { type: string; field: string; keyFile: string; blob: string };
    assert.deepEqual({ ...record, blob: undefined }, { type: 'sealed', field: 'cellconfig.pin', keyFile, blob: undefined });
    assert.equal(unseal(Buffer.from(record.blob, 'base64'), 'cellconfig.pin', { keyFile }), '1234');

    const proxy = await run(['seal', '--field', 'proxyconfig.password', '--key-file', keyFile], { stdin: 'Pr0xy-Pa55word!\r\n' });
    assert.equal(proxy.code, 0, proxy.err);
    assert.equal(unseal(Buffer.from(proxy.out.trim(), 'base64'), 'proxyconfig.password', { keyFile }), 'Pr0xy-Pa55word!');

    const ppp = await run(['seal', '--field', 'cellconfig.password', '--key-file', keyFile], { stdin: 'Ce11-Pa55word!' });
    assert.equal(ppp.code, 0, ppp.err);
    assert.equal(unseal(Buffer.from(ppp.out.trim(), 'base64'), 'cellconfig.password', { keyFile }), 'Ce11-Pa55word!');
  });

  test('refusals: a secret that breaks the field\'s rule, nothing on stdin, two lines, a secret on the command line, no or a wrong --field', async () => {
    const keyFile = keyFileIn();
    const short = await run(['seal', '--field', 'wificonfig.key', '--key-file', keyFile], { stdin: 'short' });
    assert.equal(short.code, 2);
    assert.equal(short.err, 'nicup: wificonfig.key: must be 8–63 printable ASCII characters or 64 hex digits (a blob for a sealed key; null or "" for an open network) [--key-file]\n');
    assertNoSecret(short, 'short');

    const badPin = await run(['seal', '--field', 'cellconfig.pin', '--key-file', keyFile], { stdin: '12ab' });
    assert.equal(badPin.code, 2);
    assert.match(badPin.err, /^nicup: cellconfig\.pin: must be 4–8 digits/);

    const empty = await run(['seal', '--field', 'wificonfig.key', '--key-file', keyFile], { stdin: '' });
    assert.equal(empty.code, 2);
    assert.match(empty.err, /^nicup: stdin: no secret; pipe it in/);

    const two = await run(['seal', '--field', 'wificonfig.key', '--key-file', keyFile], { stdin: 'Password\nPassword2\n' });
    assert.equal(two.code, 2);
    assert.equal(two.err, 'nicup: stdin: must hold one line (the secret)\n');

    const inArgv = await run(['seal', '--field', 'wificonfig.key', '--key-file', keyFile, 'Password'], { stdin: '' });
    assert.equal(inArgv.code, 2);
    assert.match(inArgv.err, /too many arguments/);
    assertNoSecret(inArgv, 'Password');

    const noField = await run(['seal'], { stdin: 'Password' });
    assert.equal(noField.code, 2);
    assert.match(noField.err, /--field <field>' not specified/);
    const wrongField = await run(['seal', '--field', 'wificonfig.ssid'], { stdin: 'Password' });
    assert.equal(wrongField.code, 2);
    assert.match(wrongField.err, /Allowed choices are wificonfig\.key, proxyconfig\.password, cellconfig\.pin, cellconfig\.password/);
    assert.throws(() => statSync(keyFile), 'no key file was made by the refused runs');
  });

  test('a key file readable by others, or one that cannot exist, refuses clearly (exit 1)', async () => {
    const keyFile = keyFileIn();
    mkdirSync(join(keyFile, '..'), { mode: 0o700 });
    writeFileSync(keyFile, Buffer.alloc(32, 7), { mode: 0o644 });
    const open = await run(['seal', '--field', 'wificonfig.key', '--key-file', keyFile], { stdin: 'Password' });
    assert.equal(open.code, 1);
    assert.equal(open.err, `nicup: device key file ${keyFile}: readable by others (mode 644); it must be 0600\n`);
    const underFile = join(keyFile, 'device.key');
    const notDir = await run(['seal', '--field', 'wificonfig.key', '--key-file', underFile], { stdin: 'Password' });
    assert.equal(notDir.code, 1);
    assert.equal(notDir.err, `nicup: device key file ${underFile}: ENOTDIR\n`);
  });
});

describe('nicup open with sealed values', () => {
  test('--key-sealed: the blob `nicup seal` printed joins the network', async () => {
    const keyFile = keyFileIn();
    const sealed = await run(['seal', '--field', 'wificonfig.key', '--key-file', keyFile], { stdin: 'Password\n' });
    const r = await run(['open', 'wl0', '--ssid', 'Network', '--key-sealed', sealed.out.trim(), '--until', 'connected'], { env: { NICUP_KEY_FILE: keyFile }, world: defaultWorld() });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /CONNECTED\s+1 {2}dhcp-bound/);
    assert.match(r.out, /^ {2}address {4}192\.168\.2\./m);
  });

  test('--key-sealed from another device: exit 1 naming the refusal; bad base64 and two key sources: usage errors', async () => {
    const foreign = Buffer.from(seal('Password', 'wificonfig.key', { keyFile: keyFileIn() })).toString('base64');
    const r = await run(['open', 'wl0', '--ssid', 'Network', '--key-sealed', foreign, '--until', 'connected', '--timeout', '60000'], { env: { NICUP_KEY_FILE: keyFileIn() }, world: defaultWorld() });
    assert.equal(r.code, 1);
    assert.match(r.out, /WIFI_STOPPED_UNHAPPY\s+106 {2}config-failed {2}\(wificonfig\.key: sealed on another device/);
    assert.match(r.err, /WIFI_STOPPED_UNHAPPY/);

    const bad = await run(['open', 'wl0', '--ssid', 'Network', '--key-sealed', 'not base64!']);
    assert.equal(bad.code, 2);
    assert.equal(bad.err, 'nicup: --key-sealed: must be the base64 blob that "nicup seal" printed\n');
    const both = await run(['open', 'wl0', '--ssid', 'Network', '--key-sealed', foreign, '--open']);
    assert.equal(both.code, 2);
    assert.equal(both.err, 'nicup: --key-sealed and --open: choose one way to give the key\n');
  });

  test('--pin-sealed unlocks a SIM; --proxy-password-sealed is reported as a user only', async () => {
    const keyFile = keyFileIn();
    const pin = Buffer.from(seal('1234', 'cellconfig.pin', { keyFile })).toString('base64');
    const cell = await run(['open', 'cell0', '--apn', 'internet', '--pin-sealed', pin, '--until', 'connected'], { env: { NICUP_KEY_FILE: keyFile }, world: defaultWorld('pin-required') });
    assert.equal(cell.code, 0, cell.err);
    assert.match(cell.out, /CONNECTED\s+1 {2}/);
    assert.equal((await run(['open', 'cell0', '--apn', 'internet', '--pin', '1234', '--pin-sealed', pin])).err.split('\n').filter((l) => !l.includes('warning')).join('\n'), 'nicup: --pin and --pin-sealed: choose one way to give the PIN\n');

    const password = Buffer.from(seal('Pr0xy-Pa55word!', 'proxyconfig.password', { keyFile })).toString('base64');
    const eth = await run(['open', 'eth0', '--proxy', 'proxy.example:3128', '--proxy-user', 'alice', '--proxy-password-sealed', password, '--until', 'connected'], { env: { NICUP_KEY_FILE: keyFile }, world: defaultWorld() });
    assert.equal(eth.code, 0, eth.err);
    assert.match(eth.out, /^ {2}proxy {6}http proxy\.example:3128 \(user alice\)$/m);
    const orphan = await run(['open', 'eth0', '--proxy', 'proxy.example:3128', '--proxy-password-sealed', password]);
    assert.equal(orphan.code, 2);
    assert.equal(orphan.err, 'nicup: --proxy-password-sealed: only with --proxy-user\n');
  });
});
