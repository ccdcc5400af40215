import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seal, unseal, deviceKey } from './sealing.js';
import { isNicupError } from './errors.js';

function tempKeyFile(): { keyFile: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'nicup-seal-'));
  return { keyFile: join(dir, 'sub', 'device.key'), dir };
}

test('seal/unseal round trip; the key file is created 0600 in a 0700 directory', () => {
  const { keyFile, dir } = tempKeyFile();
  try {
    const blob = seal('Password', 'wificonfig.key', { keyFile });
    assert.ok(!Buffer.from(blob).includes(Buffer.from('Password')), 'the blob must not contain the plaintext');
    assert.equal(unseal(blob, 'wificonfig.key', { keyFile }), 'Password');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'sub')).mode & 0o777, 0o700);
    // Two seals of the same secret differ (random IV).
    assert.notDeepEqual(seal('Password', 'wificonfig.key', { keyFile }), blob);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a blob sealed on another device is refused, naming the reason', () => {
  const a = tempKeyFile();
  const b = tempKeyFile();
  try {
    const blob = seal('S3cret-PIN-xyz', 'cellconfig.password', { keyFile: a.keyFile });
    assert.throws(() => unseal(blob, 'cellconfig.password', { keyFile: b.keyFile }), (e: unknown) => isNicupError(e, 'NICUP_SEALED_KEY') && /another device/.test((e as Error).message) && !(e as Error).message.includes('S3cret'));
  } finally {
    rmSync(a.dir, { recursive: true, force: true });
    rmSync(b.dir, { recursive: true, force: true });
  }
});

test('a tampered blob, a truncated blob, or a blob of another field is refused', () => {
  const { keyFile, dir } = tempKeyFile();
  try {
    const blob = seal('Password', 'wificonfig.key', { keyFile });
    for (let i = 4; i < blob.length; i += 7) {
      const t = Uint8Array.from(blob);
      t[i] = t[i]! ^ 0x01;
      assert.throws(() => unseal(t, 'wificonfig.key', { keyFile }), (e: unknown) => isNicupError(e, 'NICUP_SEALED_KEY'), `bit flip at ${i}`);
    }
    assert.throws(() => unseal(blob.subarray(0, 20), 'wificonfig.key', { keyFile }), /not a nicup sealed blob/);
    assert.throws(() => unseal(blob, 'cellconfig.pin', { keyFile }), /failed authentication/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a key file readable by others is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nicup-seal-'));
  try {
    const keyFile = join(dir, 'device.key');
    writeFileSync(keyFile, Buffer.alloc(32, 7));
    chmodSync(keyFile, 0o644);
    assert.throws(() => deviceKey({ keyFile }), (e: unknown) => isNicupError(e, 'NICUP_PERMISSION') && /0600/.test((e as Error).message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
