// The Linux wpa_supplicant control connection against a fake daemon that speaks the real
// protocol over real Unix datagram sockets: in this process for attach tests, spawned as
// the "wpa_supplicant" program for the tests of a daemon nicup starts itself. No root, no
// WiFi: the real daemon on a real 802.11 stack is test/vm-wifi.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isNicupError } from '../../errors.js';
import { openSupplicant, redactDaemonLine, type LinuxSupplicantOptions } from './supplicant.js';

const koffiPath = createRequire(import.meta.url).resolve('koffi');

/**
 * A fake wpa_supplicant (plain ESM, so it can also run as its own process). Commands:
 * PING, ATTACH/DETACH (remembers the sender for events), STATUS, TERMINATE, EMIT <line>
 * (sends "<3><line>" to the attached sockets), SLOW <ms> (answers late), anything else OK.
 * As a program: `-i IF -c CONF -D DRIVERS` like the real one; FAKE_WPA=exit-at-start makes
 * it fail the way the real one does on an interface without a WiFi driver.
 */
const FAKE_DAEMON = `
import koffi from ${JSON.stringify(pathToFileURL(koffiPath).href)};
import { appendFileSync, readFileSync, unlinkSync } from 'node:fs';
const lib = koffi.load('libc.so.6');
const socket = lib.func('int socket(int, int, int)');
const bind = lib.func('int bind(int, void *, uint32_t)');
const sendto = lib.func('intptr_t sendto(int, void *, size_t, int, void *, uint32_t)');
const recvfrom = lib.func('intptr_t recvfrom(int, void *, size_t, int, void *, void *)');
const close = lib.func('int close(int)');
const addr = (path) => { const b = Buffer.alloc(110); b.writeUInt16LE(1, 0); Buffer.from(path).copy(b, 2); return b; };

export function serve(path, options = {}) {
  const fd = socket(1, 2 | 0o4000, 0);
  if (bind(fd, addr(path), 110) !== 0) throw new Error('fake bind ' + path);
  const attached = new Set();
  const buf = Buffer.alloc(8192), from = Buffer.alloc(110), fromLen = Buffer.alloc(4);
  const send = (text, to) => { const b = Buffer.from(text); sendto(fd, b, b.length, 0, addr(to), 110); };
  const emit = (line) => { for (const to of attached) send('<3>' + line, to); };
  const state = { commands: [], attached, emit, closed: false };
  const close_ = () => { if (state.closed) return; state.closed = true; clearInterval(timer); close(fd); };
  const timer = setInterval(() => {
    for (;;) {
      fromLen.writeUInt32LE(110, 0);
      const n = Number(recvfrom(fd, buf, buf.length, 0, from, fromLen));
      if (n < 0) return;
      const to = from.subarray(2, fromLen.readUInt32LE(0)).toString().replace(/\\0.*$/s, '');
      const text = buf.subarray(0, n).toString();
      state.commands.push(text);
      options.onCommand?.(text);
      const [verb, ...rest] = text.split(' ');
      if (options.silent) continue;
      if (verb === 'PING') send('PONG\\n', to);
      else if (verb === 'ATTACH') { attached.add(to); send('OK\\n', to); }
      else if (verb === 'DETACH') { attached.delete(to); send('OK\\n', to); }
      else if (verb === 'STATUS') send('wpa_state=DISCONNECTED\\naddress=' + (options.mac ?? '02:00:00:00:00:00') + '\\n', to);
      else if (verb === 'EMIT') { send('OK\\n', to); emit(rest.join(' ')); }
      else if (verb === 'SLOW') setTimeout(() => { if (!state.closed) send('LATE ' + rest[0] + '\\n', to); }, Number(rest[0]));
      else if (verb === 'TERMINATE') { send('OK\\n', to); emit('CTRL-EVENT-TERMINATING '); close_(); try { unlinkSync(path); } catch {} options.onTerminate?.(); }
      else send('OK\\n', to);
    }
  }, 2);
  state.close = close_;
  return state;
}

if (process.argv.includes('-i')) {
  const arg = (flag) => process.argv[process.argv.indexOf(flag) + 1];
  const ifname = arg('-i');
  if (process.env.FAKE_WPA_ARGS) appendFileSync(process.env.FAKE_WPA_ARGS, JSON.stringify(process.argv.slice(2)) + '\\n');
  console.log('Successfully initialized wpa_supplicant');
  if (process.env.FAKE_WPA === 'exit-at-start') {
    console.error('nl80211: Driver does not support authentication/association or connect commands');
    process.exit(255);
  }
  console.log(ifname + ': WPS-CRED-RECEIVED 0x10260024secretcredential');
  console.log(ifname + ': CTRL-EVENT-CONNECTED - Connection to 02:00:00:00:01:00 completed psk=topsecret');
  const dir = /^ctrl_interface=(.*)$/m.exec(readFileSync(arg('-c'), 'utf8'))[1];
  serve(dir + '/' + ifname, { onTerminate: () => process.exit(0) });
  process.on('SIGTERM', () => process.exit(0));
}
`;

interface FakeDaemon {
  commands: string[];
  attached: Set<string>;
  emit(line: string): void;
  close(): void;
}

let root: string;
let fakeScript: string;
let serve: (path: string, options?: { silent?: boolean; mac?: string }) => FakeDaemon;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'nicup-wpa-'));
  fakeScript = join(root, 'fake-wpa_supplicant.mjs');
  writeFileSync(fakeScript, FAKE_DAEMON);
  ({ serve } = (await import(pathToFileURL(fakeScript).href)) as { serve: typeof serve });
});

after(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A fresh world per test: its own run dir, an empty search path, the fake as the program. */
function world(name: string, extra: LinuxSupplicantOptions = {}) {
  const dir = join(root, name);
  const runDir = join(dir, 'run');
  const logs: string[] = [];
  const options: LinuxSupplicantOptions = {
    runDir,
    childrenDir: join(dir, 'children'),
    searchDirs: [join(dir, 'system')],
    command: [process.execPath, fakeScript],
    log: (m) => logs.push(m),
    requestTimeoutMs: 1000,
    ...extra,
  };
  return { dir, runDir, logs, options, system: join(dir, 'system') };
}

function systemDaemon(dir: string, ifname: string, options: { silent?: boolean; mac?: string } = {}): FakeDaemon {
  mkdirSync(dir, { recursive: true });
  return serve(join(dir, ifname), options);
}

function waitFor<T>(what: string, get: () => T | undefined | false, timeoutMs = 2000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      const v = get();
      if (v !== undefined && v !== false) return resolve(v);
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('openSupplicant: attach to a running daemon', () => {
  test('a socket in a system directory that answers PONG is attached, not owned; close() DETACHes and leaves it running', async () => {
    const w = world('attach');
    const daemon = systemDaemon(w.system, 'wlan0');
    try {
      const control = await openSupplicant('wlan0', w.options);
      assert.equal(control.owned, false);
      assert.equal(control.pid, undefined);
      assert.equal(control.controlPath, join(w.system, 'wlan0'));
      const events: string[] = [];
      control.onEvent((l) => events.push(l));
      assert.equal(await control.request('ATTACH'), 'OK\n');
      assert.equal(daemon.attached.size, 1, 'one socket attached');
      assert.equal(await control.request('STATUS'), 'wpa_state=DISCONNECTED\naddress=02:00:00:00:00:00\n');
      assert.equal(daemon.attached.size, 1, 'STATUS went over the other socket');
      await control.request('EMIT CTRL-EVENT-SCAN-STARTED ');
      await waitFor('the event', () => events.length > 0);
      assert.deepEqual(events, ['<3>CTRL-EVENT-SCAN-STARTED ']);
      await control.close();
      assert.equal(daemon.attached.size, 0, 'DETACH sent on close');
      assert.ok(daemon.commands.includes('DETACH'));
      assert.deepEqual(readdirSync(w.runDir), [], 'our client sockets and their directory are gone');
      assert.ok(existsSync(join(w.system, 'wlan0')), 'the daemon socket is left alone');
      await assert.rejects(control.request('PING'), (e) => isNicupError(e, 'NICUP_CLOSED'));
    } finally {
      daemon.close();
    }
  });

  test('requests are serialized and each gets its own reply; a timeout rejects and the next request is not fed the late reply', async () => {
    const w = world('resync');
    const daemon = systemDaemon(w.system, 'wlan0');
    try {
      const control = await openSupplicant('wlan0', w.options);
      const [a, b, c] = await Promise.all([control.request('PING'), control.request('ADD_NETWORK'), control.request('PING')]);
      assert.deepEqual([a, b, c], ['PONG\n', 'OK\n', 'PONG\n']);
      await assert.rejects(control.request('SLOW 300', 100), (e: Error) => isNicupError(e, 'NICUP_TIMEOUT') && /SLOW within 100 ms/.test(e.message));
      // The late answer to SLOW 300 arrives while this one waits: it must not be taken for it.
      assert.equal(await control.request('SLOW 600', 3000), 'LATE 600\n');
      assert.equal(await control.request('PING'), 'PONG\n');
      await control.close();
    } finally {
      daemon.close();
    }
  });

  test('a request text is never in an error or the log (it may carry a key)', async () => {
    const w = world('secret');
    const d2 = systemDaemon(w.system, 'wlan1');
    try {
      const control = await openSupplicant('wlan1', w.options);
      d2.close(); // the socket stays but nobody reads it
      const err = await control.request('SET_NETWORK 0 psk "hunter2hunter2"').then(() => undefined, (e: Error) => e);
      assert.ok(err, 'the request failed');
      assert.doesNotMatch(err.message, /hunter2/);
      assert.match(err.message, /SET_NETWORK/);
      assert.ok(w.logs.every((l) => !l.includes('hunter2')), 'nothing in the log');
      await control.close();
    } finally {
      d2.close();
    }
  });

  test('onClose fires exactly once when the socket stops answering (ECONNREFUSED), found by the liveness PING', async () => {
    const w = world('liveness', { livenessIntervalMs: 30 });
    const daemon = systemDaemon(w.system, 'wlan0');
    const control = await openSupplicant('wlan0', w.options);
    const closes: (Error | undefined)[] = [];
    control.onClose((e) => closes.push(e));
    daemon.close();
    await waitFor('onClose', () => closes.length > 0);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(closes.length, 1);
    assert.match(closes[0]?.message ?? '', /nobody reads it/);
    await assert.rejects(control.request('PING'), (e) => isNicupError(e, 'NICUP_CLOSED'));
    await control.close();
    assert.deepEqual(readdirSync(w.runDir), []);
  });

  test('CTRL-EVENT-TERMINATING from an attached daemon is delivered, then onClose fires', async () => {
    const w = world('terminating');
    const daemon = systemDaemon(w.system, 'wlan0');
    try {
      const control = await openSupplicant('wlan0', w.options);
      const events: string[] = [];
      const closes: (Error | undefined)[] = [];
      control.onEvent((l) => events.push(l));
      control.onClose((e) => closes.push(e));
      await control.request('ATTACH');
      daemon.emit('CTRL-EVENT-TERMINATING ');
      await waitFor('onClose', () => closes.length > 0);
      assert.deepEqual(events, ['<3>CTRL-EVENT-TERMINATING ']);
      assert.match(closes[0]?.message ?? '', /terminated/);
      await control.close();
    } finally {
      daemon.close();
    }
  });

  test('a daemon whose STATUS address is another MAC (same name, other namespace) is not attached', async () => {
    const w = world('mac');
    const daemon = systemDaemon(w.system, 'wlan0', { mac: '02:00:00:00:09:00' });
    try {
      const control = await openSupplicant('wlan0', { ...w.options, mac: '02:00:00:00:00:00' });
      assert.equal(control.owned, true, 'started its own instead');
      await control.close();
    } finally {
      daemon.close();
    }
  });
});

describe('openSupplicant: a daemon of our own', () => {
  test('private 0700 directory, a config without networks (0600), argv without a shell; close() stops it and removes everything', async () => {
    const w = world('own');
    const argsFile = join(w.dir, 'args');
    process.env['FAKE_WPA_ARGS'] = argsFile;
    try {
      const control = await openSupplicant('wlan0', w.options);
      assert.equal(control.owned, true);
      const pid = control.pid!;
      assert.ok(pidAlive(pid));
      const dir = join(w.runDir, 'wpa-wlan0');
      assert.equal(control.controlPath, join(dir, 'wlan0'));
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      assert.equal(statSync(w.runDir).mode & 0o777, 0o700);
      const conf = join(dir, 'wpa_supplicant.conf');
      assert.equal(statSync(conf).mode & 0o777, 0o600);
      const text = readFileSync(conf, 'utf8');
      assert.match(text, new RegExp(`^ctrl_interface=${dir}$`, 'm'));
      assert.match(text, /^update_config=0$/m);
      assert.doesNotMatch(text, /network=|psk/);
      const args = JSON.parse(readFileSync(argsFile, 'utf8').trim()) as string[];
      assert.deepEqual(args, ['-i', 'wlan0', '-c', conf, '-D', 'nl80211,wext']);

      assert.equal(await control.request('SET_NETWORK 0 psk "hunter2hunter2"'), 'OK\n');
      const closes: unknown[] = [];
      control.onClose((e) => closes.push(e));
      await control.close();
      assert.equal(pidAlive(pid), false, 'the daemon is gone');
      assert.deepEqual(readdirSync(w.runDir), [], 'private and client directories removed');
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(closes, [], 'onClose is for losses, not for close()');
      assert.ok(w.logs.some((l) => l.includes('Successfully initialized wpa_supplicant')), 'daemon output is logged');
      assert.ok(w.logs.every((l) => !l.includes('hunter2')));
    } finally {
      delete process.env['FAKE_WPA_ARGS'];
    }
  });

  test("the daemon's output reaches the log redacted (WPS credential, psk=)", async () => {
    const w = world('redact');
    const control = await openSupplicant('wlan0', w.options);
    await waitFor('the output', () => w.logs.some((l) => l.includes('CTRL-EVENT-CONNECTED')));
    await control.close();
    const all = w.logs.join('\n');
    assert.doesNotMatch(all, /secretcredential|topsecret/);
    assert.match(all, /wlan0: WPS-CRED-RECEIVED \[redacted\]/);
    assert.match(all, /psk=\[redacted\]/);
  });

  test('killed: onClose fires once, and its directories are removed', async () => {
    const w = world('killed');
    const control = await openSupplicant('wlan0', w.options);
    const closes: (Error | undefined)[] = [];
    control.onClose((e) => closes.push(e));
    process.kill(control.pid!, 'SIGKILL');
    await waitFor('onClose', () => closes.length > 0);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(closes.length, 1);
    assert.match(closes[0]?.message ?? '', /exited \(signal SIGKILL\)/);
    assert.deepEqual(readdirSync(w.runDir), []);
    await control.close();
  });

  test('a daemon that exits at start rejects with its (redacted) output, leaving nothing behind', async () => {
    const w = world('fails');
    process.env['FAKE_WPA'] = 'exit-at-start';
    try {
      await assert.rejects(openSupplicant('wlan0', w.options), (e: Error) => {
        assert.ok(isNicupError(e, 'NICUP_PLATFORM'));
        assert.match(e.message, /exited at start \(code 255\)/);
        assert.match(e.message, /Driver does not support/);
        return true;
      });
      assert.deepEqual(readdirSync(w.runDir), []);
    } finally {
      delete process.env['FAKE_WPA'];
    }
  });

  test('a missing program is named', async () => {
    const w = world('missing', { command: [join(root, 'no-such-wpa_supplicant')] });
    await assert.rejects(openSupplicant('wlan0', w.options), /exited at start.*ENOENT|no-such-wpa_supplicant/);
    assert.deepEqual(readdirSync(w.runDir), []);
  });

  test('after a nicup was SIGKILLed: its daemon is stopped and a fresh one started; its client directory is removed', async () => {
    const w = world('orphan');
    // The killed nicup: its own process, with the same directories.
    const script = `
      import { openSupplicant } from ${JSON.stringify(new URL('./supplicant.ts', import.meta.url).pathname)};
      const c = await openSupplicant('wlan0', ${JSON.stringify({ ...w.options, log: undefined })});
      console.log('daemon ' + c.pid);
      setInterval(() => {}, 1000);`;
    const { spawn } = await import('node:child_process');
    const owner = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    owner.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const oldPid = Number(await waitFor('the first nicup\'s daemon', () => /daemon (\d+)/.exec(out)?.[1], 10_000));
    const oldClientDirs = readdirSync(w.runDir).filter((n) => n.includes('-client-'));
    assert.equal(oldClientDirs.length, 1);
    assert.match(oldClientDirs[0]!, new RegExp(`^wpa-wlan0-client-${owner.pid}-`));
    const exited = new Promise((r) => owner.once('exit', r));
    owner.kill('SIGKILL');
    await exited;
    assert.ok(pidAlive(oldPid), 'the daemon outlived its nicup');

    const control = await openSupplicant('wlan0', w.options);
    try {
      assert.notEqual(control.pid, oldPid, 'a daemon of our own, not the orphan');
      await waitFor('the orphan to end', () => !pidAlive(oldPid) || undefined);
      assert.equal(existsSync(join(w.runDir, oldClientDirs[0]!)), false, 'the killed nicup\'s client directory is gone');
      const all = w.logs.join('\n');
      assert.match(all, new RegExp(`wpa_supplicant ${oldPid} on \\d+:wlan0 was left by nicup ${owner.pid}, which is gone; stopping it`));
      assert.match(all, new RegExp(`removed ${oldClientDirs[0]}, left by nicup ${owner.pid}`));
    } finally {
      await control.close();
    }
    assert.deepEqual(readdirSync(w.runDir), []);
    assert.deepEqual(readdirSync(join(w.dir, 'children')), [], 'no record once our daemon has stopped');
  });

  test('a bad interface name is refused before anything is created', async () => {
    const w = world('badname');
    await assert.rejects(openSupplicant('../etc', w.options), (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT'));
    assert.equal(existsSync(w.runDir), false);
  });
});

test('redactDaemonLine masks what the event redaction masks, after the "ifname: " prefix', () => {
  assert.equal(redactDaemonLine('wlan0: WPS-CRED-RECEIVED 0x1026abcdef'), 'wlan0: WPS-CRED-RECEIVED [redacted]');
  assert.equal(redactDaemonLine('wlan0: CTRL-EVENT-SCAN-STARTED '), 'wlan0: CTRL-EVENT-SCAN-STARTED ');
  assert.equal(redactDaemonLine('p2p-dev-wlan0: x passphrase="abc def"'), 'p2p-dev-wlan0: x passphrase=[redacted]');
  assert.equal(redactDaemonLine('Successfully initialized wpa_supplicant'), 'Successfully initialized wpa_supplicant');
  assert.equal(redactDaemonLine('rfkill: key=0123'), 'rfkill: key=[redacted]');
});
