/**
 * `nicup seal --field FIELD [--key-file PATH]`: reads one secret from stdin (never from
 * the command line, where `ps` shows it), checks it against the field's NIC rule, seals it
 * with the per-device key and prints the blob as base64 — what `open --key-sealed`,
 * `--pin-sealed` and `--proxy-password-sealed` take, and what a program passes to open()
 * as a Uint8Array. The key file: --key-file, else NICUP_KEY_FILE, else
 * /var/lib/nicup/device.key (created 0600 on first use).
 */
import { parseNic, seal, keyFilePath, type SealedField } from '../index.js';
import { EXIT_OK, UsageError } from './cli-errors.js';
import type { Context } from './context.js';
import type { CliIo } from './output.js';

export const SEALED_FIELDS: readonly SealedField[] = ['wificonfig.key', 'proxyconfig.password', 'cellconfig.pin', 'cellconfig.password'];

export interface SealFlags {
  field: SealedField;
  keyFile?: string;
}

/** Where `seal` reads the secret: the process's stdin, or a test's. */
export interface SecretSource {
  /** A TTY gives one line; a pipe or file is read to its end. */
  isTTY?: boolean;
  [Symbol.asyncIterator](): AsyncIterator<string | Uint8Array>;
}

/** A CliIo that may carry its own stdin (tests); `nicup seal` reads process.stdin otherwise. */
export interface CliIoWithStdin extends CliIo {
  stdin?: SecretSource;
}

/** A secret is one short line: a key is at most 64 characters, a password 32. */
const MAX_SECRET_BYTES = 4096;

export async function runSeal(ctx: Context, flags: SealFlags): Promise<number> {
  const source = (ctx.io as CliIoWithStdin).stdin ?? (process.stdin as SecretSource);
  const secret = await readSecret(source);
  ctx.out.addSecret(secret);
  if (secret === '') throw new UsageError(`stdin: no secret; pipe it in, e.g. nicup seal --field ${flags.field} < secret-file`);
  checkSecret(flags.field, secret);
  const keyFile = flags.keyFile ?? ctx.io.env.NICUP_KEY_FILE ?? keyFilePath({});
  const blob = Buffer.from(seal(secret, flags.field, { keyFile })).toString('base64');
  ctx.out.emit(blob, { type: 'sealed', field: flags.field, keyFile, blob });
  return EXIT_OK;
}

async function readSecret(source: SecretSource): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of source) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk);
    chunks.push(b);
    length += b.length;
    if (length > MAX_SECRET_BYTES) throw new UsageError(`stdin: more than ${MAX_SECRET_BYTES} bytes (expected one line)`);
    if (source.isTTY && b.includes(0x0a)) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  // The newline that echo or an editor adds is not part of the secret.
  const secret = text.replace(/\r?\n$/, '');
  if (secret.includes('\n')) throw new UsageError('stdin: must hold one line (the secret)');
  return secret;
}

/** The rule the NIC puts on the field (NicError names the field, never the value). */
function checkSecret(field: SealedField, secret: string): void {
  switch (field) {
    case 'wificonfig.key':
      parseNic({ interface: 'wl0', wificonfig: { ssid: 'x', key: secret } });
      return;
    case 'proxyconfig.password':
      parseNic({ interface: 'eth0', proxyconfig: { type: 'HTTP', address: 'proxy', port: 1, username: 'user', password: secret } });
      return;
    case 'cellconfig.pin':
      parseNic({ interface: 'cell0', cellconfig: { apn: 'apn', pin: secret } });
      return;
    case 'cellconfig.password':
      parseNic({ interface: 'cell0', cellconfig: { apn: 'apn', username: 'user', password: secret } });
      return;
  }
}

/** A blob given on the command line as base64 (`--key-sealed` and friends). */
export function decodeSealedFlag(value: string, option: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value) || value.length % 4 !== 0) {
    throw new UsageError(`${option}: must be the base64 blob that "nicup seal" printed`);
  }
  return new Uint8Array(Buffer.from(value, 'base64'));
}
