/**
 * A simulated cellular modem that speaks AT text over a byte stream (3GPP TS 27.007
 * answers, V.250 framing: "\r\n<response>\r\n"), and a simulated pppd that gives the
 * data link its addresses after a dial. Scenarios come from SimModem's options: SIM
 * missing or locked, registration denied or slow, a silent modem, carrier dropped.
 */
import type { ByteStream, PppLink, PppOptions } from '../contract.js';
import { ClosedError, PlatformError } from '../../errors.js';
import type { SimModem, SimWorld } from './world.js';
import type { SimPlatform } from './platform.js';

const REG_STAT: Record<string, number> = { home: 1, roaming: 5, denied: 3, searching: 2 };
/** V.250 S12: the escape's guard time (its default, 50 × 20 ms). */
const ESCAPE_GUARD_MS = 1000;

function modemForDevice(world: SimWorld, device: string): SimModem | undefined {
  for (const [name, m] of world.modems) if (device === `/dev/sim/${name}` || device === name) return m;
  return undefined;
}

export async function openSimModemPort(world: SimWorld, device: string): Promise<ByteStream> {
  const modem = modemForDevice(world, device);
  if (!modem) throw new PlatformError(`${device}: no such device (ENOENT)`);
  const dataListeners = new Set<(b: Buffer) => void>();
  const closeListeners = new Set<(e?: Error) => void>();
  let closed = false;
  let echo = true;
  let pending = '';
  // A call nobody ended survives the port being closed and opened again: it is the modem's.
  let dataMode = modem.options.inDataMode;
  let firstRegQueryAtMs: number | undefined;
  let lastDataWriteMs = -Infinity;
  /** Bumped by every write in data mode: an escape whose second guard time saw bytes is void. */
  let escapeToken = 0;

  /** In data mode: "+++" after a guard time of silence, then another guard time, is the escape. */
  const dataModeWrite = (text: string) => {
    const now = world.clock.now();
    const token = ++escapeToken;
    if (text === '+++' && now - lastDataWriteMs >= ESCAPE_GUARD_MS) {
      world.later(() => {
        if (token !== escapeToken || !dataMode || closed) return;
        dataMode = false;
        modem.options.inDataMode = false;
        respond('OK');
      }, ESCAPE_GUARD_MS);
    }
    lastDataWriteMs = now;
  };

  const out = (text: string) => {
    if (closed) return;
    const buf = Buffer.from(text, 'latin1');
    for (const l of dataListeners) world.later(() => l(buf), 2);
  };
  const respond = (...lines: string[]) => out(lines.map((l) => `\r\n${l}\r\n`).join(''));

  const offModem = world.onModem((m, what) => {
    if (m !== modem || what !== 'no-carrier') return;
    if (dataMode) {
      dataMode = false;
      modem.pppUp = false;
      respond('NO CARRIER');
    }
  });

  const regStat = (): number => {
    const mode = modem.options.registration;
    if (mode === 'slow') {
      const now = world.clock.now();
      firstRegQueryAtMs ??= now;
      return now - firstRegQueryAtMs >= modem.options.registrationDelayMs ? 1 : 2;
    }
    return REG_STAT[mode] ?? 0;
  };

  const command = (line: string) => {
    const cmd = line.trim();
    if (cmd === '') return;
    const upper = cmd.toUpperCase();
    modem.recordCommand(upper.startsWith('AT+CPIN=') ? 'AT+CPIN=****' : cmd);
    if (modem.options.silent) return;
    if (echo) out(`${cmd}\r`);
    const sim = modem.options.sim;
    const simReady = sim === 'ready' || modem.unlocked;
    if (upper === 'AT' || upper === 'ATZ' || upper === 'AT&F' || upper.startsWith('AT+CMEE') || upper === 'ATH' || upper === 'ATH0') return respond('OK');
    if (upper === 'ATE0') {
      echo = false;
      return respond('OK');
    }
    if (upper === 'ATE1') {
      echo = true;
      return respond('OK');
    }
    if (upper === 'AT+CPIN?') {
      if (sim === 'missing') return respond('+CME ERROR: 10');
      if (simReady) return respond('+CPIN: READY', 'OK');
      if (sim === 'puk' || modem.pinAttempts >= 3) return respond('+CPIN: SIM PUK', 'OK');
      return respond('+CPIN: SIM PIN', 'OK');
    }
    const pin = /^AT\+CPIN="?(\d+)"?$/.exec(upper);
    if (pin) {
      if (sim === 'missing') return respond('+CME ERROR: 10');
      if (simReady) return respond('+CME ERROR: 3');
      if (pin[1] === modem.options.pin && modem.pinAttempts < 3) {
        modem.unlocked = true;
        return respond('OK');
      }
      modem.pinAttempts++;
      return respond('+CME ERROR: 16');
    }
    const regSet = /^AT\+(CREG|CGREG|CEREG)=(\d)$/.exec(upper);
    if (regSet) return respond('OK');
    const regQ = /^AT\+(CREG|CGREG|CEREG)\?$/.exec(upper);
    if (regQ) {
      if (!simReady) return respond('+CME ERROR: 10');
      return respond(`+${regQ[1]}: 2,${regStat()}`, 'OK');
    }
    if (upper === 'AT+CSQ') return respond('+CSQ: 20,99', 'OK');
    if (upper === 'AT+COPS?') return respond(regStat() === 1 || regStat() === 5 ? '+COPS: 0,0,"Sim Operator",7' : '+COPS: 0', 'OK');
    if (upper.startsWith('AT+CGDCONT=')) {
      const apn = /"IP","([^"]*)"/i.exec(cmd)?.[1];
      if (modem.options.apn !== undefined && apn !== modem.options.apn) return respond('ERROR');
      return respond('OK');
    }
    if (upper.startsWith('AT+CGATT') || upper.startsWith('AT+CFUN')) return respond('OK');
    if (/^ATD\*99(\*\*\*\d+)?#$/.test(upper)) {
      const s = regStat();
      if (!simReady || (s !== 1 && s !== 5)) return respond('NO CARRIER');
      dataMode = true;
      return respond('CONNECT 150000000');
    }
    return respond('ERROR');
  };

  return {
    write: async (data) => {
      if (closed) throw new ClosedError(`${device}: port closed`);
      const text = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
      // PPP frames (the simulated pppd does not need them), or AT into a call nobody ended.
      if (dataMode) return dataModeWrite(text);
      pending += text;
      let i: number;
      while ((i = pending.search(/[\r\n]/)) >= 0) {
        const line = pending.slice(0, i);
        pending = pending.slice(i + 1);
        command(line);
      }
      if (pending.length > 4096) pending = '';
    },
    onData: (l) => void dataListeners.add(l),
    onClose: (l) => void closeListeners.add(l),
    close: async () => {
      if (closed) return;
      closed = true;
      offModem();
      dataMode = false;
      modem.pppUp = false;
    },
  };
}

/** A simulated pppd: after a short negotiation, a ppp link with addresses appears. */
export async function startSimPpp(world: SimWorld, platform: SimPlatform, options: PppOptions): Promise<PppLink> {
  const modem = modemForDevice(world, options.device);
  if (!modem) throw new PlatformError(`${options.device}: no such device (ENOENT)`);
  const exitListeners = new Set<(code: number | null, reason: string) => void>();
  let ifnameResolve!: (n: string) => void;
  let upResolve!: (v: { local: string; remote: string; dns: string[] }) => void;
  let upReject!: (e: Error) => void;
  const ifname = new Promise<string>((r) => (ifnameResolve = r));
  const up = new Promise<{ local: string; remote: string; dns: string[] }>((res, rej) => {
    upResolve = res;
    upReject = rej;
  });
  up.catch(() => {});
  ifname.catch(() => {});
  let link: string | undefined;
  let exited = false;
  const exit = (code: number | null, reason: string) => {
    if (exited) return;
    exited = true;
    offModem();
    modem.pppUp = false;
    if (link) world.removeLink(link);
    upReject(new PlatformError(`pppd exited: ${reason}`));
    for (const l of exitListeners) world.later(() => l(code, reason));
  };
  const offModem = world.onModem((m, what) => {
    if (m === modem && what === 'no-carrier') exit(16, 'modem hangup');
  });
  // LCP + IPCP take a few round trips (about 1.2 s on the lab's pty; shorter here).
  world.later(() => {
    if (exited) return;
    link = world.addPppLink(modem);
    modem.pppUp = true;
    platform.simAddAddress(link, { address: modem.options.pppAddress, prefixLength: 32 });
    ifnameResolve(link);
    upResolve({ local: modem.options.pppAddress, remote: modem.options.pppPeer, dns: options.usePeerDns ? [...modem.options.pppDns] : [] });
  }, 300);
  return {
    ifname,
    up,
    onExit: (l) => void exitListeners.add(l),
    stop: async () => exit(5, 'terminated'),
  };
}
