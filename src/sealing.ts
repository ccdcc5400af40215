/**
 * Sealed credentials: WiFi keys, proxy passwords and SIM PINs encrypted with a per-device
 * key, as impOS does with its "blobs". AES-256-GCM (authenticated): a blob sealed on
 * another device, or changed by one bit, is refused with a SealedKeyError that says which.
 *
 * The device key: 32 random bytes in a file readable by root only, created on first use.
 * Location: the `keyFile` option, else the one installSealing() named, else NICUP_KEY_FILE,
 * else /var/lib/nicup/device.key.
 *
 * Blob layout (all binary):
 *   "NCS1" | keyId (8: first bytes of SHA-256 of the key) | iv (12) | ciphertext | tag (16)
 * The field the secret belongs to ("wificonfig.key", "proxyconfig.password",
 * "cellconfig.pin", "cellconfig.password") is authenticated data: a sealed PIN cannot
 * be replayed as a WiFi key.
 */
import { createRequire } from 'node:module';
import { closeSync, constants, fstatSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ArgumentError, PermissionError, SealedKeyError } from './errors.js';
import { setSealedOpener } from './core/sealed-hook.js';

export type SealedField = 'wificonfig.key' | 'proxyconfig.password' | 'cellconfig.pin' | 'cellconfig.password';

const MAGIC = Buffer.from('NCS1');
const KEY_ID_LENGTH = 8;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const HEADER = MAGIC.length + KEY_ID_LENGTH + IV_LENGTH;

export const DEFAULT_KEY_FILE = '/var/lib/nicup/device.key';

export interface SealingOptions {
  /** Path of the per-device key file. */
  keyFile?: string;
}

/** The key file installSealing() named: sealing (getcurrentconfig) must use the key opening uses. */
let installedKeyFile: string | undefined;

export function keyFilePath(options: SealingOptions = {}): string {
  return options.keyFile ?? installedKeyFile ?? process.env.NICUP_KEY_FILE ?? DEFAULT_KEY_FILE;
}

const cache = new Map<string, Buffer>();

/** Loads the device key, creating it (0600, directory 0700) on first use. */
export function deviceKey(options: SealingOptions = {}): Buffer {
  const path = keyFilePath(options);
  const cached = cache.get(path);
  if (cached) return cached;
  let key: Buffer;
  try {
    key = readKey(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw keyFileError(path, err);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    try {
      // O_EXCL: two processes creating the key at once must not end up with two keys.
      const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      try {
        key = crypto().randomBytes(32);
        writeSync(fd, key);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') key = readKey(path);
      else throw keyFileError(path, e);
    }
  }
  cache.set(path, key);
  return key;
}

function readKey(path: string): Buffer {
  const fd = openSync(path, constants.O_RDONLY);
  try {
    const st = fstatSync(fd);
    if ((st.mode & 0o077) !== 0) throw new PermissionError(`device key file ${path}: readable by others (mode ${(st.mode & 0o777).toString(8)}); it must be 0600`);
    const key = readFileSync(fd);
    if (key.length !== 32) throw new SealedKeyError(`device key file ${path}: must hold 32 bytes`);
    return key;
  } finally {
    closeSync(fd);
  }
}

function keyFileError(path: string, err: unknown): Error {
  if (err instanceof Error && 'code' in err && typeof (err as { code: unknown }).code === 'string' && (err as { code: string }).code.startsWith('NICUP_')) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return new PermissionError(`device key file ${path}: permission denied (the key is root-only)`, { cause: err });
  return new SealedKeyError(`device key file ${path}: ${code ?? 'unreadable'}`, { cause: err });
}

function keyId(key: Buffer): Buffer {
  return crypto().createHash('sha256').update(key).digest().subarray(0, KEY_ID_LENGTH);
}

/** Seals a secret for one field with this device's key. */
export function seal(secret: string, field: SealedField, options: SealingOptions = {}): Uint8Array {
  if (typeof secret !== 'string' || secret.length === 0) throw new ArgumentError('secret: must be a non-empty string', { field: 'secret' });
  const key = deviceKey(options);
  const iv = crypto().randomBytes(IV_LENGTH);
  const header = Buffer.concat([MAGIC, keyId(key), iv]);
  const cipher = crypto().createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.concat([header, Buffer.from(field)]));
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return new Uint8Array(Buffer.concat([header, body, cipher.getAuthTag()]));
}

/** Opens a blob sealed for `field` on this device. */
export function unseal(blob: Uint8Array, field: SealedField, options: SealingOptions = {}): string {
  const b = Buffer.from(blob);
  if (b.length < HEADER + TAG_LENGTH || !b.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new SealedKeyError(`${field}: not a nicup sealed blob`, { field });
  }
  const key = deviceKey(options);
  if (!b.subarray(MAGIC.length, MAGIC.length + KEY_ID_LENGTH).equals(keyId(key))) {
    throw new SealedKeyError(`${field}: sealed on another device (its key does not match this device's)`, { field });
  }
  const header = b.subarray(0, HEADER);
  const iv = b.subarray(MAGIC.length + KEY_ID_LENGTH, HEADER);
  const tag = b.subarray(b.length - TAG_LENGTH);
  const body = b.subarray(HEADER, b.length - TAG_LENGTH);
  const decipher = crypto().createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.concat([header, Buffer.from(field)]));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    throw new SealedKeyError(`${field}: sealed blob failed authentication (tampered, corrupted, or sealed for another field)`, { field });
  }
}

/**
 * Makes `options.keyFile` this process's device key: drivers open sealed secrets with it,
 * and seal(), sealNic() and getcurrentconfig() seal with it. Without a keyFile: back to
 * NICUP_KEY_FILE, else /var/lib/nicup/device.key.
 */
export function installSealing(options: SealingOptions = {}): void {
  installedKeyFile = options.keyFile;
  setSealedOpener(async (blob, field) => unseal(blob, field, options));
}

/**
 * A NIC in impOS's input form with every secret sealed (impOS getcurrentconfig): save
 * this, not the plain NIC; open() accepts it back on this device.
 */
export function sealNic(nic: import('./nic.js').Nic, options: SealingOptions = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { interface: nic.interface };
  const sealed = (v: string | { sealed: Uint8Array } | undefined, field: SealedField) =>
    v === undefined ? undefined : typeof v === 'string' ? seal(v, field, options) : v.sealed;
  if (nic.wificonfig) {
    const w = nic.wificonfig;
    const k = w.key;
    const key = k.kind === 'open' ? null : k.kind === 'sealed' ? k.blob : seal(k.kind === 'passphrase' ? k.passphrase : k.psk, 'wificonfig.key', options);
    out.wificonfig = { ssid: w.ssid, ...(w.wps ? { wps: true } : { key }), ...(w.hidden ? { hidden: true } : {}) };
  }
  if (nic.staticconfig) {
    const s = nic.staticconfig;
    out.staticconfig = { ip: s.ip, netmask: s.netmask, ...(s.gateway ? { gateway: s.gateway } : {}), dns: [...s.dns] };
  }
  if (nic.proxyconfig) {
    const p = nic.proxyconfig;
    out.proxyconfig = { type: 'HTTP', address: p.address, port: p.port, ...(p.username ? { username: p.username } : {}), ...(p.password !== undefined ? { password: sealed(p.password, 'proxyconfig.password') } : {}) };
  }
  if (nic.cellconfig) {
    const c = nic.cellconfig;
    out.cellconfig = {
      apn: c.apn,
      ...(c.pin !== undefined ? { pin: sealed(c.pin, 'cellconfig.pin') } : {}),
      ...(c.username ? { username: c.username } : {}),
      ...(c.password !== undefined ? { password: sealed(c.password, 'cellconfig.password') } : {}),
      ...(c.device ? { device: c.device } : {}),
    };
  }
  return out;
}

/** node:crypto on first use: most programs never seal, and loading it costs about 1 MB of RSS. */
let cryptoModule: typeof import('node:crypto') | undefined;
function crypto(): typeof import('node:crypto') {
  cryptoModule ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return cryptoModule;
}
