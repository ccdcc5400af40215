import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readlinkSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildPppdArgs,
  findPppd,
  formatPppdOptionsFile,
  makePrivateDir,
  parsePppdLine,
  pppdCause,
  pppdEndReason,
  pppdExitReason,
  quotePppdWord,
  startPpp,
  type LinuxPppLink,
} from './ppp.js';
import { isNicupError } from '../../errors.js';
import { createLab } from '../../lab/netns-lab.js';

const work = mkdtempSync(join(tmpdir(), 'nicup-ppp-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

const argsInput = { device: '/dev/ttyUSB2', usePeerDns: true, noScriptPath: '/run/x/none', lcpEchoIntervalS: 10, lcpEchoFailure: 3 };

describe('buildPppdArgs', () => {
  test('the device first, then the options the driver relies on', () => {
    const args = buildPppdArgs({ ...argsInput, optionsFile: '/run/x/options' });
    assert.equal(args[0], '/dev/ttyUSB2');
    for (const want of ['nodetach', 'noauth', 'local', 'noipdefault', 'ipcp-accept-local', 'ipcp-accept-remote', 'nodefaultroute', 'usepeerdns']) {
      assert.ok(args.includes(want), want);
    }
    const after = (name: string) => args[args.indexOf(name) + 1];
    assert.equal(after('lcp-restart'), '1');
    assert.equal(after('ipcp-restart'), '1');
    assert.equal(after('lcp-echo-interval'), '10');
    assert.equal(after('lcp-echo-failure'), '3');
    assert.equal(after('file'), '/run/x/options');
    assert.equal(after('ip-up-script'), '/run/x/none');
    assert.equal(after('ip-down-script'), '/run/x/none');
    // The driver adds the default route with its own metric.
    assert.ok(!args.includes('defaultroute'));
    assert.ok(!args.includes('replacedefaultroute'));
  });

  test('usepeerdns only when asked; no options file without credentials', () => {
    const args = buildPppdArgs({ ...argsInput, usePeerDns: false });
    assert.ok(!args.includes('usepeerdns'));
    assert.ok(!args.includes('file'));
  });
});

describe('the options file', () => {
  test('user and password as quoted words; \\ and " escaped (pppd getword)', () => {
    assert.equal(quotePppdWord('plain'), '"plain"');
    assert.equal(quotePppdWord('a"b\\c d#e'), '"a\\"b\\\\c d#e"');
    const text = formatPppdOptionsFile({ username: 'web', password: 'p"w\\1' });
    assert.match(text ?? '', /^user "web"$/m);
    assert.match(text ?? '', /^password "p\\"w\\\\1"$/m);
  });

  test('nothing to write without credentials', () => {
    assert.equal(formatPppdOptionsFile({}), undefined);
    assert.match(formatPppdOptionsFile({ username: 'only' }) ?? '', /^user "only"$/m);
  });

  test('makePrivateDir: a fresh 0700 directory', () => {
    const dir = makePrivateDir(work);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.ok(dir.startsWith(join(work, 'nicup-ppp-')));
    assert.notEqual(makePrivateDir(work), dir);
  });
});

describe("pppd's log", () => {
  test('interface, addresses and DNS from the lines ipcp_up prints', () => {
    assert.deepEqual(parsePppdLine('Using interface ppp0'), { type: 'interface', ifname: 'ppp0' });
    assert.deepEqual(parsePppdLine('Renamed interface ppp0 to wwan0'), { type: 'interface', ifname: 'wwan0' });
    assert.deepEqual(parsePppdLine('local  IP address 10.64.64.2'), { type: 'local', address: '10.64.64.2' });
    assert.deepEqual(parsePppdLine('remote IP address 10.64.64.1\r'), { type: 'remote', address: '10.64.64.1' });
    assert.deepEqual(parsePppdLine('primary   DNS address 10.64.64.1'), { type: 'dns', address: '10.64.64.1' });
    assert.deepEqual(parsePppdLine('secondary DNS address 8.8.8.8'), { type: 'dns', address: '8.8.8.8' });
    assert.equal(parsePppdLine('local  LL address fe80::1'), undefined);
    assert.equal(parsePppdLine('Connect: ppp0 <--> /dev/ttyUSB2'), undefined);
    assert.equal(parsePppdLine('local  IP address 10.64.64'), undefined);
  });

  test('every exit status of pppd(8) has words; a signal too', () => {
    for (let code = 0; code <= 19; code++) assert.ok(pppdExitReason(code).length > 5, String(code));
    assert.match(pppdExitReason(15), /echo/);
    assert.match(pppdExitReason(16), /hung up/);
    assert.match(pppdExitReason(42), /42/);
    assert.match(pppdExitReason(null, 'SIGKILL'), /SIGKILL/);
  });

  test('the cause pppd logged wins over a misleading status', () => {
    assert.equal(pppdCause('Connection terminated.'), undefined);
    assert.equal(pppdCause('Using interface ppp0'), undefined);
    const cause = pppdCause('No response to 2 echo-requests');
    assert.equal(cause, 'No response to 2 echo-requests');
    // pppd reports "Modem hangup" (16) after tearing down a link whose peer went silent.
    assert.match(pppdEndReason(16, null, cause), /^the peer stopped answering LCP echo requests \(pppd: No response/);
    assert.match(pppdEndReason(0, null, 'LCP terminated by peer'), /peer ended the link/);
    assert.equal(pppdEndReason(10, null, undefined), pppdExitReason(10));
  });
});

describe('findPppd', () => {
  test('an explicit path must exist; else PATH, then sbin', () => {
    assert.throws(() => findPppd(join(work, 'none')), (e) => isNicupError(e, 'NICUP_PLATFORM') && /does not exist/.test(e.message));
    const empty = mkdtempSync(join(work, 'path-'));
    const dir = mkdtempSync(join(work, 'path-'));
    writeFileSync(join(dir, 'pppd'), '#!/bin/true\n', { mode: 0o755 });
    assert.equal(findPppd(undefined, `${empty}:${dir}`), join(dir, 'pppd'));
  });
});

// ---------------------------------------------------------------------------------------
// The process, with a stand-in for pppd: a small sh script (dash starts in a millisecond)
// that prints what pppd would print and reports what it was given: its argv, its stdin,
// the options file's modes and content.

const fakePppd = join(work, 'fake-pppd');
writeFileSync(
  fakePppd,
  `#!/bin/sh
prev=''; file=''
for a in "$@"; do [ "$prev" = file ] && file=$a; prev=$a; done
echo "REPORT-ARGS $*"
if [ -n "$file" ]; then
  echo "REPORT-MODES $(stat -c %a "$file") $(stat -c %a "$(dirname "$file")")"
  while IFS= read -r l; do
    case $l in
    password*) [ "$l" = "$FAKE_PPPD_PASSWORD_LINE" ] && echo "REPORT-PASSWORD as expected" || echo "REPORT-PASSWORD unexpected" ;;
    *) echo "REPORT-OPTION $l" ;;
    esac
  done <"$file"
fi
echo "REPORT-NETNS $(readlink /proc/self/ns/net)"
if [ "$FAKE_PPPD_ON_TERM" = ignore ]; then trap '' TERM; else trap 'echo "Terminating on signal 15"; exit 5' TERM; fi
printf '%s\\n' "$FAKE_PPPD_LINES" | while IFS= read -r line; do [ -n "$line" ] && echo "$line"; done
[ -n "$FAKE_PPPD_EXIT" ] && exit "$FAKE_PPPD_EXIT"
while :; do sleep 0.02; done
`,
);
chmodSync(fakePppd, 0o755);

const UP_LINES = [
  'Using interface ppp7',
  'Connect: ppp7 <--> /dev/ttyUSB2',
  'local  IP address 10.64.64.2',
  'remote IP address 10.64.64.1',
  'primary   DNS address 10.64.64.1',
  'secondary DNS address 10.64.64.3',
].join('\n');

async function withFake<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const k of Object.keys(env)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

interface FakeReport {
  args: string;
  modes: string | undefined;
  options: string[];
}

/** What the stand-in said it was given (once it has said it). */
function reportOf(link: LinuxPppLink): Promise<FakeReport> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = () => {
      const args = link.log.find((l) => l.startsWith('REPORT-ARGS '));
      if (args !== undefined && link.log.some((l) => !l.startsWith('REPORT'))) {
        return resolve({
          args: args.slice(12),
          modes: link.log.find((l) => l.startsWith('REPORT-MODES '))?.slice(13),
          options: link.log.filter((l) => l.startsWith('REPORT-OPTION ')).map((l) => l.slice(14)),
        });
      }
      if (Date.now() - started > 5000) return reject(new Error(`no report; log: ${link.log.join(' | ')}`));
      setTimeout(poll, 5);
    };
    poll();
  });
}

function runtimeDirs(): string[] {
  return readdirSync(work).filter((n) => n.startsWith('nicup-ppp-'));
}

describe('startPpp with a stand-in pppd', () => {
  const tuning = { pppdPath: fakePppd, runtimeDir: work, stopTimeoutMs: 300 };
  // A failed assertion must not leave a stand-in running (it would keep the runner alive).
  const live = new Set<LinuxPppLink>();
  afterEach(async () => {
    await Promise.all([...live].map((l) => l.stop()));
    live.clear();
  });

  test('learns ifname and addresses; the kernel check gates `up`; secrets only in a 0600 file, gone after', async () => {
    const before = runtimeDirs();
    const checked: string[] = [];
    const link = await withFake({ FAKE_PPPD_LINES: UP_LINES, FAKE_PPPD_PASSWORD_LINE: 'password "S3cr\\"et"' }, () =>
      startPpp(
        { device: '/dev/ttyUSB2', username: 'web', password: 'S3cr"et', usePeerDns: true },
        { tuning, hasAddress: async (ifname, address) => (checked.push(`${ifname} ${address}`), true) },
      ),
    );
    live.add(link);
    const report = await reportOf(link);
    assert.ok(!report.args.includes('S3cr'), 'no password on the command line');
    assert.match(report.args, / file \S+\/options( |$)/);
    assert.equal(report.modes, '600 700', 'options file 0600 in a 0700 directory');
    assert.ok(report.options.includes('user "web"'));
    assert.ok(link.log.includes('REPORT-PASSWORD as expected'), link.log.join(' | '));
    assert.equal(await link.ifname, 'ppp7');
    assert.deepEqual(await link.up, { local: '10.64.64.2', remote: '10.64.64.1', dns: ['10.64.64.1', '10.64.64.3'] });
    assert.deepEqual(checked, ['ppp7 10.64.64.2']);
    // pppd named its interface, so it has read its options: the directory is gone already.
    assert.deepEqual(runtimeDirs(), before);
    const exits: [number | null, string][] = [];
    link.onExit((code, reason) => exits.push([code, reason]));
    await link.stop();
    await new Promise((r) => setImmediate(r));
    assert.equal(exits.length, 1);
    assert.equal(exits[0]![0], 5);
    assert.match(exits[0]![1], /signal/);
    assert.ok(link.log.every((l) => !l.includes('S3cr')));
    assert.ok(link.log.includes('Terminating on signal 15'));
  });

  test('`up` waits until the kernel shows the address', async () => {
    let calls = 0;
    const link = await withFake({ FAKE_PPPD_LINES: UP_LINES }, () =>
      startPpp({ device: '/dev/ttyUSB2', usePeerDns: false }, { tuning, hasAddress: async () => ++calls >= 3 }),
    );
    live.add(link);
    const up = await link.up;
    assert.equal(calls, 3);
    assert.deepEqual(up.dns, [], 'no DNS without usePeerDns');
    await link.stop();
  });

  test('a pppd that ends before the link is up: ifname/up reject, onExit has the cause', async () => {
    const lines = 'Using interface ppp7\nLCP: timeout sending Config-Requests';
    const link = await withFake({ FAKE_PPPD_LINES: lines, FAKE_PPPD_EXIT: '10' }, () =>
      startPpp({ device: '/dev/ttyUSB2', usePeerDns: true }, { tuning, hasAddress: async () => true }),
    );
    live.add(link);
    const exit = await new Promise<[number | null, string]>((resolve) => link.onExit((code, reason) => resolve([code, reason])));
    assert.equal(exit[0], 10);
    assert.match(exit[1], /did not answer \(pppd: LCP: timeout/);
    await assert.rejects(link.up, /pppd exited/);
    // A listener added after the end still hears it.
    const late = await new Promise<number | null>((resolve) => link.onExit((code) => resolve(code)));
    assert.equal(late, 10);
    await link.stop();
  });

  test('stop: SIGKILL when pppd ignores SIGTERM', async () => {
    const before = runtimeDirs();
    const link = await withFake({ FAKE_PPPD_LINES: 'Using interface ppp7', FAKE_PPPD_ON_TERM: 'ignore' }, () =>
      startPpp({ device: '/dev/ttyUSB2', usePeerDns: true }, { tuning, hasAddress: async () => true }),
    );
    live.add(link);
    await reportOf(link);
    const exits: string[] = [];
    link.onExit((_code, reason) => exits.push(reason));
    const started = performance.now();
    await link.stop();
    assert.ok(performance.now() - started >= 250, 'waited for the stop timeout');
    assert.match(exits[0] ?? '', /SIGKILL/);
    assert.deepEqual(runtimeDirs(), before.filter((d) => runtimeDirs().includes(d)), 'its directory is gone');
  });

  test("pppd runs in the platform's network namespace (its ppp link is made there)", async () => {
    const lab = await createLab();
    try {
      const ns = await lab.addNamespace('ppp');
      const want = `net:[${statSync(`/run/netns/${ns}`).ino}]`;
      const link = await withFake({ FAKE_PPPD_LINES: 'Using interface ppp7' }, () =>
        startPpp({ device: '/dev/ttyUSB2', usePeerDns: true }, { tuning, netns: ns, hasAddress: async () => true }),
      );
      live.add(link);
      await reportOf(link);
      assert.ok(link.log.includes(`REPORT-NETNS ${want}`), link.log.join(' | '));
      // This process stays where it was.
      assert.notEqual(readlinkSync('/proc/thread-self/ns/net'), want);
      await link.stop();
    } finally {
      await lab.dispose();
    }
  });

  test('bad options are refused before anything runs, without echoing secrets', async () => {
    await assert.rejects(
      startPpp({ device: 'ttyUSB2', usePeerDns: true }, { tuning, hasAddress: async () => true }),
      (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && /device/.test(e.message),
    );
    await assert.rejects(
      startPpp({ device: '/dev/ttyUSB2', password: 'a\nsecret', usePeerDns: true }, { tuning, hasAddress: async () => true }),
      (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && !e.message.includes('secret'),
    );
  });
});
