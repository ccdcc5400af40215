import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnixDgramSocket } from './unix-dgram.js';

test('two unix datagram sockets exchange datagrams; sending to nobody fails with ECONNREFUSED or ENOENT', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nicup-ud-'));
  const a = new UnixDgramSocket(join(dir, 'a'));
  const b = new UnixDgramSocket(join(dir, 'b'));
  try {
    const got = new Promise<Buffer>((resolve) => b.onMessage(resolve));
    a.send('PING', join(dir, 'b'));
    assert.equal((await got).toString(), 'PING');
    const back = new Promise<Buffer>((resolve) => a.onMessage(resolve));
    b.send(Buffer.from([0, 1, 2, 255]), join(dir, 'a'));
    assert.deepEqual([...(await back)], [0, 1, 2, 255]);
    assert.throws(() => a.send('x', join(dir, 'nobody')), (e: Error & { errno?: number }) => e.errno === 2 || e.errno === 111);
  } finally {
    a.close();
    b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
