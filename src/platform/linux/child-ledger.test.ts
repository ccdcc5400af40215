// The child ledger with real processes: an owner that is SIGKILLed leaves its daemon running,
// and the next reapOrphans stops it — but never a daemon whose owner lives, one of another
// key, or a pid that now belongs to another process.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reapOrphans, recordChild } from './child-ledger.js';
import { processStartTime } from '../../core/leftovers.js';

const root = mkdtempSync(join(tmpdir(), 'nicup-children-'));
const started: ChildProcess[] = [];
after(() => {
  for (const c of started) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const LEDGER = new URL('./child-ledger.ts', import.meta.url).pathname;
/** A daemon: runs until signalled; `stubborn` ignores SIGTERM. */
const DAEMON = "process.on('SIGTERM', () => { if (process.env.STUBBORN !== '1') process.exit(0); }); setInterval(() => {}, 1000); console.log('ready');";

function dirFor(name: string): string {
  return join(root, name);
}

/** Whether `pid` runs (a zombie has ended; only its parent's wait is missing). */
function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) [ZX] /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** An owner process that starts a daemon, records it in `dir` under `key`, prints its pid, and then waits to be killed. */
async function ownerWithDaemon(dir: string, key: string, env: Record<string, string> = {}): Promise<{ owner: ChildProcess; daemonPid: number }> {
  const script = `
    import { spawn } from 'node:child_process';
    import { recordChild } from ${JSON.stringify(LEDGER)};
    const d = spawn(process.execPath, ['-e', ${JSON.stringify(DAEMON)}], { stdio: ['ignore', 'pipe', 'inherit'], detached: false });
    d.stdout.once('data', () => {
      recordChild('pppd', ${JSON.stringify(key)}, d.pid, { dir: ${JSON.stringify(dir)} });
      console.log('daemon ' + d.pid);
    });
    setInterval(() => {}, 1000);`;
  const owner = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  started.push(owner);
  const daemonPid = await new Promise<number>((resolve, reject) => {
    let out = '';
    owner.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /daemon (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    owner.once('exit', (code) => reject(new Error(`owner exited (${code}) before its daemon ran: ${out}`)));
  });
  return { owner, daemonPid };
}

async function kill9(p: ChildProcess): Promise<void> {
  const exited = new Promise((res) => p.once('exit', res));
  p.kill('SIGKILL');
  await exited;
}

describe('reapOrphans', () => {
  test('a daemon whose owner was SIGKILLed is stopped with SIGTERM and its record removed', async () => {
    const dir = dirFor('killed');
    const { owner, daemonPid } = await ownerWithDaemon(dir, '/dev/ttyUSB2');
    assert.equal(readdirSync(dir).length, 1, 'one record while the daemon runs');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, readdirSync(dir)[0]!)).mode & 0o777, 0o600);
    await kill9(owner);
    assert.ok(alive(daemonPid), 'the daemon outlives its killed owner (the fault this ledger is for)');

    assert.deepEqual(await reapOrphans('pppd', '/dev/ttyUSB3', { dir }), [], 'another port: left alone');
    assert.ok(alive(daemonPid));
    assert.deepEqual(await reapOrphans('wpa_supplicant', '/dev/ttyUSB2', { dir }), [], 'another kind: left alone');

    const logs: string[] = [];
    const reaped = await reapOrphans('pppd', '/dev/ttyUSB2', { dir, log: (m) => logs.push(m) });
    assert.deepEqual(reaped, [{ pid: daemonPid, signal: 'SIGTERM' }]);
    assert.equal(alive(daemonPid), false);
    assert.deepEqual(readdirSync(dir), []);
    assert.match(logs.join('\n'), new RegExp(`pppd ${daemonPid} on /dev/ttyUSB2 was left by nicup \\d+, which is gone`));
  });

  test('one that ignores SIGTERM gets SIGKILL after termWaitMs', async () => {
    const dir = dirFor('stubborn');
    const { owner, daemonPid } = await ownerWithDaemon(dir, 'k', { STUBBORN: '1' });
    await kill9(owner);
    const reaped = await reapOrphans('pppd', 'k', { dir, termWaitMs: 200 });
    assert.deepEqual(reaped, [{ pid: daemonPid, signal: 'SIGKILL' }]);
    assert.equal(alive(daemonPid), false);
  });

  test('the daemon of a live owner is never touched', async () => {
    const dir = dirFor('live');
    const { owner, daemonPid } = await ownerWithDaemon(dir, 'k');
    assert.deepEqual(await reapOrphans('pppd', 'k', { dir }), []);
    assert.ok(alive(daemonPid));
    assert.equal(readdirSync(dir).length, 1);
    await kill9(owner);
    await reapOrphans('pppd', 'k', { dir });
  });

  test('a recorded pid that is now another process (start time differs) is not signalled; the record goes', async () => {
    const dir = dirFor('reused');
    const bystander = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    started.push(bystander);
    await new Promise((res) => setTimeout(res, 50));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Owner: a pid that cannot be running (beyond pid_max); daemon: the bystander's pid with another start time.
    const record = { version: 1, kind: 'pppd', key: 'k', ownerPid: 4_194_305, ownerStart: '1', pid: bystander.pid, start: `${processStartTime(bystander.pid!)}0` };
    writeFileSync(join(dir, `pppd-4194305-${bystander.pid}.json`), JSON.stringify(record));
    writeFileSync(join(dir, 'pppd-garbage.json'), '{not json');
    assert.deepEqual(await reapOrphans('pppd', 'k', { dir }), []);
    assert.ok(alive(bystander.pid!), 'the bystander was not signalled');
    assert.deepEqual(readdirSync(dir), [], 'both the stale record and the unreadable file are removed');
  });

  test('recordChild: the forget function removes the record; no pid or no /proc entry records nothing', () => {
    const dir = dirFor('forget');
    const forget = recordChild('wpa_supplicant', '1:wlan0', process.pid, { dir });
    assert.equal(readdirSync(dir).length, 1);
    forget();
    forget();
    assert.deepEqual(readdirSync(dir), []);
    recordChild('pppd', 'k', undefined, { dir })();
    recordChild('pppd', 'k', 4_194_305, { dir });
    assert.deepEqual(readdirSync(dir), []);
  });

  test('an unwritable ledger directory logs once and does not throw', () => {
    const file = join(root, 'not-a-dir');
    writeFileSync(file, '');
    const logs: string[] = [];
    const forget = recordChild('pppd', 'k', process.pid, { dir: join(file, 'sub'), log: (m) => logs.push(m) });
    forget();
    assert.equal(logs.length, 1);
    assert.match(logs[0]!, /cannot keep .* pppd \d+ will not be stopped by the next start/);
    assert.equal(existsSync(join(file, 'sub')), false);
  });
});
