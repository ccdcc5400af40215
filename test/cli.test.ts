/**
 * The nicup command, run in-process through main() with captured io on the simulator.
 * Most tests run the real-time simulator (the path `nicup open` takes); the ones that
 * script the world (datagrams from a host, a wrong key, a PIN) pass their own world in
 * virtual time and drive it. One test spawns bin/nicup.js.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetState } from '../src/index.js';
import { defaultWorld, type SimWorld } from '../src/platform/sim/index.js';
import { main, type CliIo } from '../src/cli/main.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

interface Captured {
  io: CliIo;
  readonly out: string;
  readonly err: string;
}

/** Tests never depend on the machine: the simulator is always chosen (CI runs as root). */
function capture(extra: Partial<CliIo> = {}, env: Record<string, string> = {}): Captured {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: { NICUP_PLATFORM: 'sim', ...env },
    ...extra,
  };
  return {
    io,
    get out() {
      return out;
    },
    get err() {
      return err;
    },
  };
}

async function run(argv: string[], extra: Partial<CliIo> = {}, env: Record<string, string> = {}): Promise<Run> {
  const c = capture(extra, env);
  const code = await main(argv, c.io);
  return { code, out: c.out, err: c.err };
}

/** Advances a virtual world until `done()` (real-time bound: 10 s). */
async function driveUntil(world: SimWorld, done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    await world.runUntil(done, 3_600_000);
    if (done()) return;
    if (Date.now() > deadline) throw new Error(`driveUntil: ${what} did not happen`);
    await new Promise((r) => setImmediate(r));
  }
}

/** Starts main() in a virtual world; returns a handle to drive it and await the result. */
function start(world: SimWorld, argv: string[], extra: Partial<CliIo> = {}, env: Record<string, string> = {}) {
  const c = capture({ simWorld: world, ...extra }, env);
  let settled = false;
  const promise = main(argv, c.io).finally(() => (settled = true));
  return {
    c,
    until: (done: () => boolean, what: string) => driveUntil(world, done, what),
    async finish(): Promise<Run> {
      await driveUntil(world, () => settled, `nicup ${argv.join(' ')} to finish`);
      return { code: await promise, out: c.out, err: c.err };
    },
  };
}

async function runInWorld(world: SimWorld, argv: string[], env: Record<string, string> = {}): Promise<Run> {
  return start(world, argv, {}, env).finish();
}

/** State names of the human state lines, in order. */
function stateNames(out: string): string[] {
  return out
    .split('\n')
    .map((l) => /^\s*\d+ ms {2}([A-Z_]+)\s+-?\d+ {2}/.exec(l)?.[1])
    .filter((x): x is string => x !== undefined);
}

function jsonLines(out: string): Record<string, unknown>[] {
  return out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function assertNoSecret(r: Run, secret: string): void {
  assert.ok(!r.out.includes(secret), `secret in stdout:\n${r.out}`);
  assert.ok(!r.err.includes(secret), `secret in stderr:\n${r.err}`);
}

function errorLines(r: Run): string[] {
  return r.err.split('\n').filter((l) => l.startsWith('nicup: ') && !l.startsWith('nicup: warning:'));
}

async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'nicup-cli-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

describe('nicup state', () => {
  test('lists eth0, wlan0 and cell0 with kind, MAC, admin and carrier', async () => {
    const r = await run(['state']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    const lines = r.out.trim().split('\n');
    assert.match(lines[0]!, /^NAME\s+KIND\s+MAC\s+ADMIN\s+CARRIER/);
    assert.match(r.out, /^eth0\s+ethernet\s+02:00:00:00:00:02\s+down\s+no/m);
    assert.match(r.out, /^wlan0\s+wifi\s+/m);
    assert.match(r.out, /^cell0\s+cell\s+/m);
  });

  test('--json: one link record per line', async () => {
    const r = await run(['state', '--json']);
    assert.equal(r.code, 0, r.err);
    const links = jsonLines(r.out);
    assert.deepEqual(
      links.map((l) => [l.type, l.name, l.kind]),
      [
        ['link', 'eth0', 'ethernet'],
        ['link', 'wlan0', 'wifi'],
        ['link', 'cell0', 'cell'],
      ],
    );
    assert.equal(links[0]!.adminUp, false);
    assert.equal(links[0]!.carrier, false);
  });

  test('one interface by impOS alias; an unknown one is a runtime failure', async () => {
    const one = await run(['state', 'wl0']);
    assert.equal(one.code, 0, one.err);
    assert.deepEqual(
      one.out.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0]),
      ['wlan0'],
    );
    const none = await run(['state', 'eth9']);
    assert.equal(none.code, 1);
    assert.deepEqual(errorLines(none), ['nicup: interface: "eth9" is not available on this sim host']);
  });
});

describe('nicup open', () => {
  test('eth0 --until connected: the states in order, the IP table, exit 0', async () => {
    const r = await run(['open', 'eth0', '--until', 'connected']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    assert.deepEqual(stateNames(r.out), ['STARTING', 'ETHERNET_LINK_UP', 'ETHERNET_DHCPING', 'CONNECTED', 'ETHERNET_STOPPED']);
    assert.match(r.out, /^\s+\d+ ms {2}CONNECTED\s+1 {2}dhcp-bound/m);
    assert.match(r.out, /^ {2}address {4}192\.168\.1\.100$/m);
    assert.match(r.out, /^ {2}dhcpserver 192\.168\.1\.1$/m);
  });

  test('--json: every line is JSON; states carry name, value and reason', async () => {
    const r = await run(['open', 'eth0', '--json', '--until', 'connected']);
    assert.equal(r.code, 0, r.err);
    const records = jsonLines(r.out);
    const states = records.filter((x) => x.type === 'state');
    assert.deepEqual(
      states.map((s) => s.name),
      ['STARTING', 'ETHERNET_LINK_UP', 'ETHERNET_DHCPING', 'CONNECTED', 'ETHERNET_STOPPED'],
    );
    for (const s of states) {
      assert.equal(s.value, NetState[s.name as keyof typeof NetState]);
      assert.equal(typeof s.reason, 'string');
      assert.equal(s.interface, 'eth0');
      assert.equal(typeof s.timeMs, 'number');
    }
    assert.equal(states[3]!.reason, 'dhcp-bound');
    const table = records.find((x) => x.type === 'iptable') as { ipv4: { address: string } } | undefined;
    assert.equal(table?.ipv4.address, '192.168.1.100');
    assert.ok(records.indexOf(table as never) > records.findIndex((x) => x.name === 'CONNECTED'));
  });

  test('--static: CONNECTED without DHCP, the static address in the table', async () => {
    const r = await run(['open', 'eth0', '--static', '192.168.1.20/24', '--gateway', '192.168.1.1', '--dns', '192.168.1.1,192.168.1.2', '--until', 'connected']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(stateNames(r.out), ['STARTING', 'ETHERNET_LINK_UP', 'CONNECTED', 'ETHERNET_STOPPED']);
    assert.match(r.out, /address {4}192\.168\.1\.20$/m);
    assert.match(r.out, /dnsserver {2}192\.168\.1\.1, 192\.168\.1\.2$/m);
  });

  test('a bad NIC: one line naming the field, exit 2, nothing opened', async () => {
    const r = await run(['open', 'eth0', '--static', '300.1.1.1/24', '--dns', '192.168.1.1']);
    assert.equal(r.code, 2);
    assert.equal(r.out, '');
    const lines = r.err.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.err);
    assert.match(lines[0]!, /^nicup: staticconfig\.ip: must be a dotted quad/);
  });

  test('a NIC table that does not fit the interface is a usage error', async () => {
    const r = await run(['open', 'eth0', '--ssid', 'Network', '--open']);
    assert.equal(r.code, 2);
    assert.deepEqual(errorLines(r), ['nicup: wificonfig: applies to WiFi interfaces only (this one is Ethernet) [--ssid]']);
  });

  test('usage errors exit 2 with one line', async () => {
    const cases: [string[], RegExp][] = [
      [['open', 'eth0', '--bogus'], /^nicup: unknown option '--bogus'/],
      [['open', 'eth0', '--until', 'forever'], /^nicup: option '--until <goal>' argument 'forever' is invalid/],
      [['open', 'eth0', '--gateway', '192.168.1.1'], /^nicup: --gateway: only with --static/],
      [['open', 'eth0', '--static', '192.168.1.20'], /^nicup: --static: must be ADDR\/PREFIX/],
      [['open', 'eth0', '--timeout', 'soon'], /^nicup: --timeout: must be an integer/],
      [['open', 'wlan0', '--key-file', '/nonexistent'], /^nicup: --ssid: is required with --key-file/],
      [['open', 'wlan0', '--ssid', 'Network'], /^nicup: --ssid: needs a key/],
      [['open', 'cell0', '--pin-file', '/x'], /^nicup: --apn: is required with --pin-file/],
      [['open', 'eth0', '--scenario', 'nowhere'], /^nicup: --scenario: unknown scenario "nowhere"/],
      [['open'], /^nicup: missing required argument 'iface'/],
      [['frobnicate'], /^nicup: unknown command 'frobnicate'/],
    ];
    for (const [argv, pattern] of cases) {
      const r = await run(argv);
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
      const lines = r.err.trimEnd().split('\n');
      assert.equal(lines.length, 1, `${argv.join(' ')}: ${r.err}`);
      assert.match(lines[0]!, pattern);
      assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
    }
  });

  test('no command: help on stderr, exit 2', async () => {
    const r = await run([]);
    assert.equal(r.code, 2);
    assert.match(r.err, /Usage: nicup/);
  });

  test('--help per command goes to stdout and exits 0', async () => {
    for (const argv of [['--help'], ['open', '--help'], ['state', '--help'], ['udp', 'send', '--help'], ['udp', 'listen', '--help'], ['demo', '--help']]) {
      const r = await run(argv);
      assert.equal(r.code, 0, argv.join(' '));
      assert.match(r.out, /Usage: nicup/);
    }
    const open = await run(['open', '--help']);
    assert.match(open.out, /--key-file <file>/);
    assert.match(open.out, /--until <goal>/);
    assert.match(open.out, /--json/, 'global options shown');
  });

  test('--version prints the package version', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await run(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.out, `${pkg.version}\n`);
  });

  test('no cable: NO_LINK until --timeout, then exit 1', async () => {
    const r = await run(['open', 'eth0', '--scenario', 'no-cable', '--until', 'connected', '--timeout', '150']);
    assert.equal(r.code, 1);
    assert.deepEqual(stateNames(r.out), ['STARTING', 'ETHERNET_STOPPED_NO_LINK', 'ETHERNET_STOPPED']);
    assert.deepEqual(errorLines(r), ['nicup: eth0: not CONNECTED within 150 ms (last state ETHERNET_STOPPED_NO_LINK, no-carrier)']);
  });

  test('a settled failure (registration denied) exits 1 at once', async () => {
    const r = await run(['open', 'cell0', '--apn', 'internet', '--scenario', 'registration-denied', '--until', 'connected']);
    assert.equal(r.code, 1);
    assert.ok(stateNames(r.out).includes('CELLULAR_REGISTRATION_DENIED'), r.out);
    assert.deepEqual(errorLines(r), ['nicup: cell0: CELLULAR_REGISTRATION_DENIED (registration-denied)']);
  });

  test('--verbose says which platform and why', async () => {
    const r = await run(['state', '--verbose']);
    assert.equal(r.code, 0);
    assert.match(r.err, /^nicup: platform sim, scenario "default", real time \(chosen by NICUP_PLATFORM\)$/m);
  });

  test('--platform linux refuses --scenario', async () => {
    const r = await run(['state', '--platform', 'linux', '--scenario', 'no-cable']);
    assert.equal(r.code, 2);
    assert.deepEqual(errorLines(r), ['nicup: --scenario: applies to the simulator only (--platform sim)']);
  });
});

describe('nicup open: WiFi and cellular', () => {
  test('wlan0 with a key file: the WiFi states in order, then CONNECTED', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const keyFile = join(dir, 'key');
      await writeFile(keyFile, 'Password\n', { mode: 0o600 });
      const r = await runInWorld(defaultWorld('default'), ['open', 'wlan0', '--ssid', 'Network', '--key-file', keyFile, '--until', 'connected']);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.err, '');
      assert.deepEqual(stateNames(r.out), ['STARTING', 'WIFI_SCANNING', 'WIFI_JOINING', 'WIFI_LINK_UP', 'WIFI_DHCPING', 'CONNECTED', 'WIFI_STOPPED']);
      assert.match(r.out, /address {4}192\.168\.2\.100$/m);
    } finally {
      await cleanup();
    }
  });

  test('wl0 with NICUP_WIFI_KEY, --json: connects; the key is nowhere in the output', async () => {
    const key = 'Password';
    const r = await runInWorld(defaultWorld('default'), ['open', 'wl0', '--ssid', 'Network', '--json', '--until', 'connected'], { NICUP_WIFI_KEY: key });
    assert.equal(r.code, 0, r.err);
    const names = jsonLines(r.out).filter((x) => x.type === 'state').map((x) => x.name);
    assert.ok(names.includes('CONNECTED'), names.join(' '));
    assertNoSecret(r, key);
  });

  test('cell0 with an APN (real-time simulator): PINGING … CONNECTED', async () => {
    const r = await run(['open', 'cell0', '--apn', 'internet', '--until', 'connected']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(stateNames(r.out), ['STARTING', 'CELLULAR_PINGING', 'CELLULAR_REGISTERING', 'CELLULAR_PPP_CONNECTING', 'CONNECTED', 'CELLULAR_STOPPED']);
    assert.match(r.out, /address {4}10\.64\.64\.2$/m);
  });

  test('cell0 with a locked SIM: the PIN from --pin-file or NICUP_SIM_PIN unlocks it and is never shown', async () => {
    const pin = '80417';
    const locked = () => {
      const w = defaultWorld('default');
      Object.assign(w.modem('cell0').options, { sim: 'pin', pin });
      return w;
    };
    const { dir, cleanup } = await tempDir();
    try {
      const pinFile = join(dir, 'pin');
      await writeFile(pinFile, `${pin}\n`, { mode: 0o600 });
      const fromFile = await runInWorld(locked(), ['open', 'cell0', '--apn', 'internet', '--pin-file', pinFile, '--until', 'connected']);
      assert.equal(fromFile.code, 0, fromFile.err);
      assert.deepEqual(stateNames(fromFile.out).slice(0, 4), ['STARTING', 'CELLULAR_PINGING', 'CELLULAR_WAITING_FOR_SIM', 'CELLULAR_REGISTERING']);
      assertNoSecret(fromFile, pin);
      const fromEnv = await runInWorld(locked(), ['open', 'cell0', '--apn', 'internet', '--json', '--until', 'connected'], { NICUP_SIM_PIN: pin });
      assert.equal(fromEnv.code, 0, fromEnv.err);
      assertNoSecret(fromEnv, pin);
    } finally {
      await cleanup();
    }
  });

  test('cell0 with a wrong --pin: warned about ps, exit 1, the PIN never shown', async () => {
    const w = defaultWorld('default');
    Object.assign(w.modem('cell0').options, { sim: 'pin', pin: '80417' });
    const wrong = '31337';
    const r = await runInWorld(w, ['open', 'cell0', '--apn', 'internet', '--pin', wrong, '--until', 'connected']);
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.err, /^nicup: warning: --pin: the PIN is visible to other users/m);
    assert.equal(errorLines(r).length, 1, r.err);
    assertNoSecret(r, wrong);
  });
});

describe('secrets', () => {
  const secret = 'Sup3r-Secret-Key!';

  test('a wrong --key: warned, exit 1 with one error line, the key in no output (text, --json, debug)', async () => {
    for (const extra of [[], ['--json'], ['--verbose']]) {
      const r = await runInWorld(defaultWorld('default'), ['open', 'wlan0', '--ssid', 'Network', '--key', secret, '--until', 'connected', ...extra], { NICUP_DEBUG: '1' });
      assert.equal(r.code, 1, `${extra.join(' ')}: ${r.err}`);
      assert.match(r.err, /^nicup: warning: --key: the key is visible to other users in the process list/m);
      assert.deepEqual(errorLines(r).filter((l) => !l.startsWith('nicup: debug:') && !l.startsWith('nicup: platform')), ['nicup: wlan0: WIFI_STOPPED_UNHAPPY (wrong-key)']);
      assertNoSecret(r, secret);
    }
  });

  test('a bad field next to a --key: exit 2, the key in no output', async () => {
    const r = await run(['open', 'wlan0', '--ssid', 'Network', '--key', secret, '--static', '300.1.1.1/24', '--dns', '192.168.2.1', '--json']);
    assert.equal(r.code, 2);
    assert.equal(r.out, '');
    assert.deepEqual(errorLines(r).map((l) => l.replace(/:.*$/, '')), ['nicup']);
    assert.match(r.err, /staticconfig\.ip/);
    assertNoSecret(r, secret);
  });

  test('an invalid key (a control character) is refused without being echoed, also when short', async () => {
    for (const bad of ['bad\u0001key-secret-value', 'x\u0007y']) {
      const r = await run(['open', 'wlan0', '--ssid', 'Network', '--key', bad]);
      assert.equal(r.code, 2);
      assert.equal(errorLines(r).length, 1, r.err);
      assert.match(errorLines(r)[0]!, /^nicup: wificonfig\.key: must be 8–63 printable ASCII characters/);
      assertNoSecret(r, bad);
    }
  });

  test('a key typed under a misspelt flag (--kye=KEY) is not echoed', async () => {
    const r = await run(['open', 'wlan0', '--ssid', 'Network', `--kye=${secret}`]);
    assert.equal(r.code, 2);
    assert.match(r.err, /^nicup: unknown option '--kye=…'/);
    assertNoSecret(r, secret);
  });

  test('a proxy password from the environment is never shown; the proxy is in the IP table', async () => {
    const password = 'proxy-pass-1234';
    const r = await run(['open', 'eth0', '--proxy', 'proxy.lan:3128', '--proxy-user', 'bob', '--until', 'connected', '--json'], {}, { NICUP_PROXY_PASSWORD: password });
    assert.equal(r.code, 0, r.err);
    const table = jsonLines(r.out).find((x) => x.type === 'iptable') as { ipv4: { proxy?: unknown } };
    assert.deepEqual(table.ipv4.proxy, { address: 'proxy.lan', port: 3128, type: 'http', user: 'bob' });
    assertNoSecret(r, password);
  });

  test('key files: missing is a usage error; readable by all is warned about', async () => {
    const missing = await run(['open', 'wlan0', '--ssid', 'Network', '--key-file', '/nonexistent/key']);
    assert.equal(missing.code, 2);
    assert.deepEqual(errorLines(missing), ['nicup: --key-file: cannot read /nonexistent/key (ENOENT)']);
    const { dir, cleanup } = await tempDir();
    try {
      const keyFile = join(dir, 'key');
      await writeFile(keyFile, 'Password\n', { mode: 0o644 });
      const r = await runInWorld(defaultWorld('default'), ['open', 'wlan0', '--ssid', 'Network', '--key-file', keyFile, '--until', 'connected']);
      assert.equal(r.code, 0, r.err);
      assert.match(r.err, /^nicup: warning: --key-file: .* is readable by every user; chmod 600 it$/m);
    } finally {
      await cleanup();
    }
  });
});

describe('nicup udp', () => {
  test('send: result codes, and the echo host answers while we --wait', async () => {
    const world = defaultWorld('default');
    world.segment('eth0').host('192.168.1.50').echo(7);
    const r = await runInWorld(world, ['udp', 'send', 'eth0', '192.168.1.50', '7', 'hello', '--count', '3', '--interval', '10', '--wait', '100']);
    assert.equal(r.code, 0, r.err);
    const sends = r.out.split('\n').filter((l) => / sent \d\/3 /.test(l));
    assert.equal(sends.length, 3);
    for (const l of sends) assert.match(l, /to 192\.168\.1\.50:7 {2}5 bytes {2}-> 0 OK$/);
    const echoes = r.out.split('\n').filter((l) => /from 192\.168\.1\.50:7 to 192\.168\.1\.100:\d+ {2}5 bytes {2}"hello"$/.test(l));
    assert.equal(echoes.length, 3, r.out);
  });

  test('send --json --hex on the real-time simulator', async () => {
    const r = await run(['udp', 'send', 'eth0', '192.168.1.50', '9', '00ff', '--hex', '--json']);
    assert.equal(r.code, 0, r.err);
    const send = jsonLines(r.out).find((x) => x.type === 'send');
    assert.deepEqual(send && { ...send, timeMs: 0 }, { type: 'send', timeMs: 0, seq: 1, count: 1, address: '192.168.1.50', port: 9, bytes: 2, code: 0, result: 'OK' });
  });

  test('send: bad arguments are usage errors before anything opens', async () => {
    for (const [argv, pattern] of [
      [['udp', 'send', 'eth0', '192.168.1', '7', 'x'], /^nicup: ADDRESS: must be a dotted-quad IPv4 address$/],
      [['udp', 'send', 'eth0', '192.168.1.50', '70000', 'x'], /^nicup: PORT: must be an integer from 1 to 65535$/],
      [['udp', 'send', 'eth0', '192.168.1.50', '7', 'xyz', '--hex'], /^nicup: DATA: with --hex/],
    ] as [string[], RegExp][]) {
      const r = await run(argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.equal(r.out, '');
      assert.match(r.err.trimEnd(), pattern);
    }
  });

  test('send fails (exit 1) when the interface never connects', async () => {
    const r = await run(['udp', 'send', 'eth0', '192.168.1.50', '7', 'x', '--scenario', 'no-cable', '--timeout', '100']);
    assert.equal(r.code, 1);
    assert.deepEqual(errorLines(r), ['nicup: eth0: not CONNECTED within 100 ms (last state ETHERNET_STOPPED_NO_LINK, no-carrier)']);
  });

  test('listen: prints each datagram (text, binary as hex) and stops after --count', async () => {
    const world = defaultWorld('default');
    const host = world.segment('eth0').host('192.168.1.50');
    const run = start(world, ['udp', 'listen', 'eth0', '5000', '--count', '2']);
    await run.until(() => run.c.out.includes('listening on'), 'listening');
    assert.match(run.c.out, /^listening on eth0 192\.168\.1\.100:5000 \(UDP\)$/m);
    host.send(4000, '192.168.1.100', 5000, 'hi "there"');
    host.send(4000, '192.168.1.255', 5000, Buffer.from([0xff, 0x00]));
    const r = await run.finish();
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /from 192\.168\.1\.50:4000 to 192\.168\.1\.100:5000 {2}10 bytes {2}"hi \\"there\\""$/m);
    assert.match(r.out, /from 192\.168\.1\.50:4000 to 192\.168\.1\.255:5000 {2}2 bytes {2}0xff00$/m);
    assert.equal(stateNames(r.out).at(-1), 'ETHERNET_STOPPED');
  });

  test('listen --json --hex until Ctrl-C', async () => {
    const world = defaultWorld('default');
    const host = world.segment('eth0').host('192.168.1.50');
    const ac = new AbortController();
    const run = start(world, ['udp', 'listen', 'eth0', '6000', '--json', '--hex'], { signal: ac.signal });
    await run.until(() => run.c.out.includes('"listening"'), 'listening');
    host.send(4000, '192.168.1.100', 6000, 'AB');
    await run.until(() => run.c.out.includes('"datagram"'), 'datagram');
    ac.abort();
    const r = await run.finish();
    assert.equal(r.code, 0, r.err);
    const records = jsonLines(r.out);
    const d = records.find((x) => x.type === 'datagram');
    assert.deepEqual(d && { ...d, timeMs: 0 }, {
      type: 'datagram',
      timeMs: 0,
      interface: 'eth0',
      fromAddress: '192.168.1.50',
      fromPort: 4000,
      toAddress: '192.168.1.100',
      toPort: 6000,
      bytes: 2,
      encoding: 'hex',
      data: '4142',
    });
    assert.equal(records.at(-1)?.name, 'ETHERNET_STOPPED');
  });
});

describe('nicup demo', () => {
  test('exits 0 and shows CONNECTED, NO_LINK, CONNECTED again, STOPPED and four echoes', async () => {
    const started = Date.now();
    const r = await run(['demo']);
    assert.equal(r.code, 0, r.err);
    assert.ok(Date.now() - started < 5000, 'a few seconds at most');
    assert.deepEqual(stateNames(r.out), [
      'STARTING',
      'ETHERNET_LINK_UP',
      'ETHERNET_DHCPING',
      'CONNECTED',
      'ETHERNET_STOPPED_NO_LINK',
      'ETHERNET_LINK_UP',
      'ETHERNET_DHCPING',
      'CONNECTED',
      'ETHERNET_STOPPED',
    ]);
    assert.equal(r.out.split('\n').filter((l) => /from 192\.168\.1\.50:7 to 192\.168\.1\.100:\d+ {2}6 bytes {2}"ping \d"$/.test(l)).length, 4);
    assert.match(r.out, /-> 1 NOT_CONNECTED$/m);
    assert.match(r.out, /4 datagrams sent, 4 echoed, 1 refused while the cable was out/);
  });

  test('--json: states, sends, datagrams and a summary, all JSON', async () => {
    const r = await run(['demo', '--json']);
    assert.equal(r.code, 0, r.err);
    const records = jsonLines(r.out);
    const summary = records.find((x) => x.type === 'summary');
    assert.deepEqual(summary && { ...summary, realMs: 0 }, { type: 'summary', states: 9, sent: 4, refusedWhileDown: 1, echoed: 4, simulatedMs: summary?.simulatedMs, realMs: 0 });
    assert.ok((summary?.simulatedMs as number) >= 2000, 'two simulated seconds without the cable');
  });

  test('--platform linux where the lab cannot run: says why and runs the simulator', async () => {
    const r = await run(['demo', '--platform', 'linux'], {}, { NICUP_DEMO_LAB: '0' });
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /^nicup: warning: the real-lab demo cannot run here: NICUP_DEMO_LAB=0 asks for the simulator; running the simulator demo instead$/m);
    assert.ok(stateNames(r.out).includes('ETHERNET_STOPPED_NO_LINK'));
  });
});

describe('Ctrl-C (io.signal)', () => {
  test('open streams until aborted, then closes: STOPPED last, exit 0', async () => {
    const world = defaultWorld('default');
    const ac = new AbortController();
    const run = start(world, ['open', 'eth0'], { signal: ac.signal });
    await run.until(() => stateNames(run.c.out).includes('CONNECTED'), 'CONNECTED');
    // Keeps watching: a cable pull shows while it runs.
    world.setCable('eth0', false);
    await run.until(() => stateNames(run.c.out).includes('ETHERNET_STOPPED_NO_LINK'), 'NO_LINK');
    ac.abort();
    const r = await run.finish();
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    assert.deepEqual(stateNames(r.out), ['STARTING', 'ETHERNET_LINK_UP', 'ETHERNET_DHCPING', 'CONNECTED', 'ETHERNET_STOPPED_NO_LINK', 'ETHERNET_STOPPED']);
  });

  test('open on the real-time simulator, aborted', async () => {
    const ac = new AbortController();
    const c = capture({ signal: ac.signal });
    const p = main(['open', 'eth0', '--json'], c.io);
    const deadline = Date.now() + 5000;
    while (!c.out.includes('"CONNECTED"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    assert.equal(await p, 0, c.err);
    assert.deepEqual(
      jsonLines(c.out).map((x) => x.name),
      ['STARTING', 'ETHERNET_LINK_UP', 'ETHERNET_DHCPING', 'CONNECTED', 'ETHERNET_STOPPED'],
    );
  });

  test('--until connected, aborted before CONNECTED: closes and exits 1', async () => {
    const ac = new AbortController();
    const run = start(defaultWorld('no-cable'), ['open', 'eth0', '--until', 'connected'], { signal: ac.signal });
    await run.until(() => stateNames(run.c.out).includes('ETHERNET_STOPPED_NO_LINK'), 'NO_LINK');
    ac.abort();
    const r = await run.finish();
    assert.equal(r.code, 1);
    assert.deepEqual(stateNames(r.out), ['STARTING', 'ETHERNET_STOPPED_NO_LINK', 'ETHERNET_STOPPED']);
    assert.deepEqual(errorLines(r), ['nicup: eth0: interrupted before CONNECTED (last state ETHERNET_STOPPED_NO_LINK, no-carrier)']);
  });
});

test('bin/nicup.js --version runs as a process', async () => {
  const bin = fileURLToPath(new URL('../bin/nicup.js', import.meta.url));
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    execFile(process.execPath, [bin, '--version'], { timeout: 20_000 }, (err, stdout, stderr) => (err ? reject(err) : resolve({ stdout, stderr })));
  });
  assert.equal(stdout, `${pkg.version}\n`);
  assert.equal(stderr, '');
});
