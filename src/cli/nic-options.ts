/**
 * The NIC options of `open` and `udp` and the NIC they build. parseNic (in Network.open)
 * does the validation; this file only maps flags to NIC fields and fetches secrets.
 *
 * Secrets: a key or PIN on the command line is visible to every user in `ps`, so each
 * secret also comes from a file (--key-file, --pin-file, --proxy-password-file) or the
 * environment (NICUP_WIFI_KEY, NICUP_SIM_PIN, NICUP_PROXY_PASSWORD). --key and --pin are
 * still accepted, with a warning. No secret is ever written out. A secret sealed with the
 * device key (`nicup seal`) is no secret on the command line: --key-sealed, --pin-sealed,
 * --proxy-password-sealed take its base64; NICUP_KEY_FILE names the key file.
 */
import { open as openFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { installSealing, parseNic, type DriverOptions } from '../index.js';
import { UsageError } from './cli-errors.js';
import type { Context } from './context.js';
import { decodeSealedFlag } from './seal.js';

export interface NicFlags {
  ssid?: string;
  key?: string;
  keyFile?: string;
  keySealed?: string;
  open?: boolean;
  hidden?: boolean;
  wps?: boolean;
  static?: string;
  gateway?: string;
  dns?: string;
  proxy?: string;
  proxyUser?: string;
  proxyPasswordFile?: string;
  proxyPasswordSealed?: string;
  apn?: string;
  pin?: string;
  pinFile?: string;
  pinSealed?: string;
  device?: string;
  takeOver?: boolean;
}

export function addNicOptions(cmd: Command): Command {
  return cmd
    .option('--ssid <ssid>', 'WiFi: the network name')
    .option('--key <key>', 'WiFi: the key (visible in ps: prefer --key-file or NICUP_WIFI_KEY)')
    .option('--key-file <file>', 'WiFi: read the key from a file (one line)')
    .option('--key-sealed <base64>', 'WiFi: the key sealed with the device key ("nicup seal"; NICUP_KEY_FILE names the key file)')
    .option('--open', 'WiFi: an open network (no key)')
    .option('--hidden', 'WiFi: the network hides its SSID (scan for it by name)')
    .option('--wps', 'WiFi: WPS push-button instead of a key')
    .option('--static <addr/prefix>', 'static IPv4 address, e.g. 192.168.1.10/24 (or ADDR/NETMASK)')
    .option('--gateway <gw>', 'with --static: the default gateway')
    .option('--dns <a[,b]>', 'with --static: one or two DNS servers')
    .option('--proxy <host:port>', 'HTTP proxy reported in the IP table')
    .option('--proxy-user <user>', 'proxy user name')
    .option('--proxy-password-file <file>', 'read the proxy password from a file (or NICUP_PROXY_PASSWORD)')
    .option('--proxy-password-sealed <base64>', 'the proxy password sealed with the device key ("nicup seal")')
    .option('--apn <apn>', 'cellular: the access point name')
    .option('--pin <pin>', 'cellular: SIM PIN (visible in ps: prefer --pin-file or NICUP_SIM_PIN)')
    .option('--pin-file <file>', 'cellular: read the SIM PIN from a file')
    .option('--pin-sealed <base64>', 'cellular: the SIM PIN sealed with the device key ("nicup seal")')
    .option('--device <dev>', "cellular: the modem's AT port, e.g. /dev/ttyUSB2")
    .option('--take-over', 'run the interface even if another network manager manages it');
}

export interface BuiltNic {
  /** The raw NIC, as a program would pass it to open(). */
  nic: Record<string, unknown>;
  driver: DriverOptions;
}

/** Builds the NIC for `iface` from the flags; registers every secret with the output scrubber. */
export async function buildNic(iface: string, flags: NicFlags, ctx: Context): Promise<BuiltNic> {
  const nic: Record<string, unknown> = { interface: iface };
  const wifi = await wifiConfig(flags, ctx);
  if (wifi) nic.wificonfig = wifi;
  const fixed = staticConfig(flags);
  if (fixed) nic.staticconfig = fixed;
  const proxy = await proxyConfig(flags, ctx);
  if (proxy) nic.proxyconfig = proxy;
  const cell = await cellConfig(flags, ctx);
  if (cell) nic.cellconfig = cell;
  // Checked here too, so a bad NIC is a usage error before any platform is touched.
  parseNic(nic);
  const sealed = flags.keySealed !== undefined || flags.pinSealed !== undefined || flags.proxyPasswordSealed !== undefined;
  // The drivers open sealed values with the key file this command's environment names.
  if (sealed && ctx.io.env.NICUP_KEY_FILE) installSealing({ keyFile: ctx.io.env.NICUP_KEY_FILE });
  return { nic, driver: flags.takeOver ? { takeOver: true } : {} };
}

async function wifiConfig(f: NicFlags, ctx: Context): Promise<Record<string, unknown> | undefined> {
  const used = [f.key !== undefined && '--key', f.keyFile !== undefined && '--key-file', f.keySealed !== undefined && '--key-sealed', f.open && '--open', f.hidden && '--hidden', f.wps && '--wps'].filter(
    (x): x is string => typeof x === 'string',
  );
  if (f.ssid === undefined) {
    if (used.length > 0) throw new UsageError(`--ssid: is required with ${used.join(', ')}`);
    return undefined;
  }
  const keySources = [f.key !== undefined && '--key', f.keyFile !== undefined && '--key-file', f.keySealed !== undefined && '--key-sealed', f.open && '--open', f.wps && '--wps'].filter(
    (x): x is string => typeof x === 'string',
  );
  if (keySources.length > 1) throw new UsageError(`${keySources.join(' and ')}: choose one way to give the key`);
  let key: string | Uint8Array | undefined;
  if (f.keySealed !== undefined) {
    key = decodeSealedFlag(f.keySealed, '--key-sealed');
  } else if (f.key !== undefined) {
    ctx.out.addSecret(f.key);
    ctx.out.warn('--key: the key is visible to other users in the process list; prefer --key-file or NICUP_WIFI_KEY');
    key = f.key;
  } else if (f.keyFile !== undefined) {
    key = await readSecretFile(f.keyFile, '--key-file', ctx);
  } else if (!f.open && !f.wps) {
    const fromEnv = ctx.io.env.NICUP_WIFI_KEY;
    if (fromEnv === undefined || fromEnv === '') {
      throw new UsageError('--ssid: needs a key: --key-file FILE or NICUP_WIFI_KEY (or --open for an open network, --wps for push-button)');
    }
    ctx.out.addSecret(fromEnv);
    key = fromEnv;
  }
  const w: Record<string, unknown> = { ssid: f.ssid };
  if (key !== undefined) w.key = key;
  if (f.hidden) w.hidden = true;
  if (f.wps) w.wps = true;
  return w;
}

function staticConfig(f: NicFlags): Record<string, unknown> | undefined {
  if (f.static === undefined) {
    const orphans = [f.gateway !== undefined && '--gateway', f.dns !== undefined && '--dns'].filter((x): x is string => typeof x === 'string');
    if (orphans.length > 0) throw new UsageError(`${orphans.join(', ')}: only with --static ADDR/PREFIX`);
    return undefined;
  }
  const slash = f.static.indexOf('/');
  if (slash < 0) throw new UsageError('--static: must be ADDR/PREFIX, e.g. 192.168.1.10/24');
  const ip = f.static.slice(0, slash);
  const mask = f.static.slice(slash + 1);
  const s: Record<string, unknown> = { ip };
  // "/24" is a prefix length; "/255.255.255.0" a netmask. Anything else goes to parseNic to be named.
  if (mask.includes('.')) s.netmask = mask;
  else s.prefixLength = /^\d{1,2}$/.test(mask) ? Number(mask) : mask;
  if (f.gateway !== undefined) s.gateway = f.gateway;
  if (f.dns !== undefined) s.dns = f.dns.split(',').map((d) => d.trim());
  return s;
}

async function proxyConfig(f: NicFlags, ctx: Context): Promise<Record<string, unknown> | undefined> {
  if (f.proxy === undefined) {
    const orphans = [f.proxyUser !== undefined && '--proxy-user', f.proxyPasswordFile !== undefined && '--proxy-password-file', f.proxyPasswordSealed !== undefined && '--proxy-password-sealed'].filter(
      (x): x is string => typeof x === 'string',
    );
    if (orphans.length > 0) throw new UsageError(`${orphans.join(', ')}: only with --proxy HOST:PORT`);
    return undefined;
  }
  const colon = f.proxy.lastIndexOf(':');
  if (colon <= 0) throw new UsageError('--proxy: must be HOST:PORT, e.g. proxy.lan:3128');
  const portText = f.proxy.slice(colon + 1);
  const p: Record<string, unknown> = {
    type: 'HTTP',
    address: f.proxy.slice(0, colon),
    port: /^\d{1,5}$/.test(portText) ? Number(portText) : portText,
  };
  if (f.proxyUser !== undefined) p.username = f.proxyUser;
  if (f.proxyPasswordSealed !== undefined) {
    if (f.proxyUser === undefined) throw new UsageError('--proxy-password-sealed: only with --proxy-user');
    if (f.proxyPasswordFile !== undefined) throw new UsageError('--proxy-password-file and --proxy-password-sealed: choose one way to give the password');
    p.password = decodeSealedFlag(f.proxyPasswordSealed, '--proxy-password-sealed');
  } else if (f.proxyPasswordFile !== undefined) {
    if (f.proxyUser === undefined) throw new UsageError('--proxy-password-file: only with --proxy-user');
    p.password = await readSecretFile(f.proxyPasswordFile, '--proxy-password-file', ctx);
  } else if (f.proxyUser !== undefined) {
    const fromEnv = ctx.io.env.NICUP_PROXY_PASSWORD;
    if (fromEnv !== undefined && fromEnv !== '') {
      ctx.out.addSecret(fromEnv);
      p.password = fromEnv;
    }
  }
  return p;
}

async function cellConfig(f: NicFlags, ctx: Context): Promise<Record<string, unknown> | undefined> {
  if (f.apn === undefined) {
    const orphans = [f.pin !== undefined && '--pin', f.pinFile !== undefined && '--pin-file', f.pinSealed !== undefined && '--pin-sealed', f.device !== undefined && '--device'].filter(
      (x): x is string => typeof x === 'string',
    );
    if (orphans.length > 0) throw new UsageError(`--apn: is required with ${orphans.join(', ')}`);
    return undefined;
  }
  const pinSources = [f.pin !== undefined && '--pin', f.pinFile !== undefined && '--pin-file', f.pinSealed !== undefined && '--pin-sealed'].filter((x): x is string => typeof x === 'string');
  if (pinSources.length > 1) throw new UsageError(`${pinSources.join(' and ')}: choose one way to give the PIN`);
  const c: Record<string, unknown> = { apn: f.apn };
  if (f.pinSealed !== undefined) {
    c.pin = decodeSealedFlag(f.pinSealed, '--pin-sealed');
  } else if (f.pin !== undefined) {
    ctx.out.addSecret(f.pin);
    ctx.out.warn('--pin: the PIN is visible to other users in the process list; prefer --pin-file or NICUP_SIM_PIN');
    c.pin = f.pin;
  } else if (f.pinFile !== undefined) {
    c.pin = await readSecretFile(f.pinFile, '--pin-file', ctx);
  } else {
    const fromEnv = ctx.io.env.NICUP_SIM_PIN;
    if (fromEnv !== undefined && fromEnv !== '') {
      ctx.out.addSecret(fromEnv);
      c.pin = fromEnv;
    }
  }
  if (f.device !== undefined) c.device = f.device;
  return c;
}

/** Secret files are small: a key is at most 64 characters, a password 64. */
const MAX_SECRET_FILE_BYTES = 4096;

/** Reads a one-line secret; the trailing newline an editor adds is not part of it. */
async function readSecretFile(path: string, option: string, ctx: Context): Promise<string> {
  let text: string;
  let mode: number;
  try {
    const handle = await openFile(path, 'r');
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new UsageError(`${option}: ${path} is not a regular file`);
      if (stat.size > MAX_SECRET_FILE_BYTES) throw new UsageError(`${option}: ${path} is larger than ${MAX_SECRET_FILE_BYTES} bytes (expected one line)`);
      mode = stat.mode;
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as { code?: unknown })?.code;
    throw new UsageError(`${option}: cannot read ${path}${typeof code === 'string' ? ` (${code})` : ''}`);
  }
  const secret = text.replace(/\r?\n$/, '');
  ctx.out.addSecret(secret);
  if (secret.includes('\n')) throw new UsageError(`${option}: ${path} must hold one line`);
  if ((mode & 0o004) !== 0) ctx.out.warn(`${option}: ${path} is readable by every user; chmod 600 it`);
  return secret;
}
