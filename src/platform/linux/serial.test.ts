// The AT port over a real pty pair (socat joins two ptys: one end is "the modem's port", the
// other plays the modem). Needs socat (Debian package socat), as the Linux lab tests do.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNicupError } from '../../errors.js';
import { openSerial, type LinuxSerialPort } from './serial.js';

const work = mkdtempSync(join(tmpdir(), 'nicup-serial-test-'));
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

if (spawnSync('socat', ['-V'], { stdio: 'ignore' }).error) {
  throw new Error('serial.test.ts needs socat on PATH (Debian package socat) to make pty pairs');
}

let pairs = 0;
/** Two linked ptys: `port` is the modem's port as a program sees it, `modem` the other end. */
async function ptyPair(): Promise<{ port: string; modem: string; socat: ChildProcess }> {
  const n = pairs++;
  const port = join(work, `port${n}`);
  const modem = join(work, `modem${n}`);
  const socat = spawn('socat', [`PTY,link=${port},rawer`, `PTY,link=${modem},rawer`], { stdio: 'ignore' });
  children.add(socat);
  for (let i = 0; i < 200 && !(existsSync(port) && existsSync(modem)); i++) await sleep(5);
  assert.ok(existsSync(port) && existsSync(modem), 'socat made no pty pair');
  return { port, modem, socat };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function collect(p: LinuxSerialPort): { text: () => string } {
  let text = '';
  p.onData((d) => (text += d.toString('latin1')));
  return { text: () => text };
}

async function until(what: string, ok: () => boolean, timeoutMs = 2000): Promise<void> {
  const started = Date.now();
  while (!ok()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe('openSerial', () => {
  test('errors name the device and the cause', async () => {
    await assert.rejects(openSerial('ttyUSB2'), (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === 'device');
    const missing = join(work, 'no-such-tty');
    await assert.rejects(openSerial(missing), (e) => isNicupError(e, 'NICUP_INTERFACE_NOT_FOUND') && e.message.includes(missing));
  });

  test('bytes both ways; a second opener is refused while the port is locked', async () => {
    const { port, modem } = await ptyPair();
    const ours = await openSerial(port);
    const theirs = await openSerial(modem);
    try {
      const a = collect(ours);
      const b = collect(theirs);
      await ours.write('AT\r');
      await until('AT at the modem', () => b.text() === 'AT\r');
      await theirs.write(Uint8Array.from(Buffer.from('\r\nOK\r\n')));
      await until('OK back', () => a.text() === '\r\nOK\r\n');
      await assert.rejects(openSerial(port), (e) => isNicupError(e, 'NICUP_INTERFACE_BUSY') && e.message.includes(port));
    } finally {
      await ours.close();
      await theirs.close();
    }
    // Closed: the lock is free again.
    const again = await openSerial(port);
    await again.close();
  });
});

describe('handing the port to another process', () => {
  test('the child gets the tty, our reads stop, writes wait; reclaim reopens and sends them', async () => {
    const { port, modem } = await ptyPair();
    const ours = await openSerial(port);
    const theirs = await openSerial(modem);
    try {
      const a = collect(ours);
      const b = collect(theirs);
      let closedWith: Error | undefined;
      ours.onClose((e) => (closedWith = e));

      const fd = await ours.handOver();
      assert.ok(ours.handedOver);
      // A stand-in for pppd: echoes one line from its stdin (the tty) to its stdout (the tty).
      const child = spawn('head', ['-n', '1'], { stdio: [fd, fd, 'ignore'] });
      const exited = new Promise((r) => child.once('exit', r));
      closeSync(fd);
      children.add(child);
      const queued = ours.write('ATH\r');
      await theirs.write('frames\n');
      await until('the child echo', () => b.text() === 'frames\n');
      assert.equal(a.text(), '', 'we read nothing while the child has the port');
      await exited;

      await ours.reclaim();
      await queued;
      assert.ok(!ours.handedOver);
      await until('the queued write', () => b.text() === 'frames\nATH\r');
      await theirs.write('OK\r\n');
      await until('reads again', () => a.text() === 'OK\r\n');
      assert.equal(closedWith, undefined, 'no onClose for a hand-over');
    } finally {
      await ours.close();
      await theirs.close();
    }
  });

  test('the device gone when pppd ends: onClose says so, waiting writes fail', async () => {
    const { port, socat } = await ptyPair();
    const ours = await openSerial(port, { reopenRetryMs: 5 });
    const fd = await ours.handOver();
    closeSync(fd);
    const closed = new Promise<Error | undefined>((resolve) => ours.onClose(resolve));
    const queued = ours.write('AT\r');
    const gone = new Promise((r) => socat.once('exit', r));
    socat.kill('SIGTERM');
    await gone;
    await ours.reclaim();
    const err = await closed;
    assert.ok(err && isNicupError(err) && err.message.includes(port), String(err));
    await assert.rejects(queued, (e) => isNicupError(e, 'NICUP_CLOSED'));
    assert.ok(ours.closed);
  });

  test('close during a reclaim: the reopened port is closed again before close() resolves', async () => {
    const { port } = await ptyPair();
    const ours = await openSerial(port);
    const fd = await ours.handOver();
    closeSync(fd);
    const reclaiming = ours.reclaim();
    await ours.close();
    // The lock is free at once: a driver that closes and a test that reopens must not race.
    const again = await openSerial(port);
    await again.close();
    await reclaiming;
    assert.ok(ours.closed);
  });

  test('close while handed over: waiting writes fail, reclaim does nothing', async () => {
    const { port } = await ptyPair();
    const ours = await openSerial(port);
    const fd = await ours.handOver();
    closeSync(fd);
    const queued = ours.write('AT\r');
    await ours.close();
    await assert.rejects(queued, (e) => isNicupError(e, 'NICUP_CLOSED'));
    await ours.reclaim();
    assert.ok(ours.closed);
    await assert.rejects(ours.write('AT\r'), (e) => isNicupError(e, 'NICUP_CLOSED'));
    await assert.rejects(ours.handOver(), (e) => isNicupError(e, 'NICUP_CLOSED'));
    // Nothing holds the port now.
    const again = await openSerial(port);
    await again.close();
  });
});
