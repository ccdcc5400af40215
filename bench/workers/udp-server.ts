/**
 * The far end of the UDP benchmark, run with `ip netns exec SERVER node udp-server.js`:
 * plain node dgram, the same for both clients under test.
 *   sink port:    counts datagrams and bytes;
 *   echo port:    sends every datagram back;
 *   control port: JSON requests answered with JSON: 'reset', 'count'; 'blast' sends `count`
 *                 datagrams of `size` bytes to the requester's port as fast as node can
 *                 (no answer), 'blast-status' says whether it finished, with {sent, ms}.
 * Prints "READY" once all three are bound.
 */
import dgram from 'node:dgram';
import { workerConfig } from './proto.js';

interface ServerConfig {
  address: string;
  sinkPort: number;
  echoPort: number;
  controlPort: number;
}

const BLAST_BATCH = 128;

async function main(): Promise<void> {
  const cfg = workerConfig<ServerConfig>();
  let lastBlast: { sent: number; ms: number } | undefined;
  let datagrams = 0;
  let bytes = 0;
  const sink = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
  sink.on('message', (m) => {
    datagrams++;
    bytes += m.length;
  });
  const echo = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
  echo.on('message', (m, r) => echo.send(m, r.port, r.address));
  const control = dgram.createSocket({ type: 'udp4', sendBufferSize: 8 << 20 });
  const reply = (o: unknown, port: number, address: string) => control.send(JSON.stringify(o), port, address);
  control.on('message', (m, r) => {
    let req: { cmd?: string; count?: number; size?: number };
    try {
      req = JSON.parse(m.toString('utf8')) as typeof req;
    } catch {
      return;
    }
    if (req.cmd === 'reset') {
      datagrams = bytes = 0;
      reply({ cmd: 'reset' }, r.port, r.address);
    } else if (req.cmd === 'count') {
      reply({ cmd: 'count', datagrams, bytes }, r.port, r.address);
    } else if (req.cmd === 'blast') {
      const count = req.count ?? 0;
      const payload = Buffer.alloc(req.size ?? 64, 0x5a);
      const t0 = performance.now();
      let sent = 0;
      lastBlast = undefined;
      const more = () => {
        for (let i = 0; i < BLAST_BATCH && sent < count; i++, sent++) control.send(payload, r.port, r.address);
        if (sent < count) setImmediate(more);
        else control.send(Buffer.alloc(0), r.port, r.address, () => (lastBlast = { sent, ms: performance.now() - t0 }));
      };
      more();
    } else if (req.cmd === 'blast-status') {
      // Asked (and retried) by the client once the datagrams stop: an answer sent during the
      // blast could be dropped by the client's full receive queue.
      reply({ cmd: 'blast-status', done: lastBlast ? 1 : 0, sent: lastBlast?.sent ?? 0, ms: lastBlast?.ms ?? 0 }, r.port, r.address);
    }
  });
  await Promise.all([
    new Promise<void>((res) => sink.bind(cfg.sinkPort, cfg.address, res)),
    new Promise<void>((res) => echo.bind(cfg.echoPort, cfg.address, res)),
    new Promise<void>((res) => control.bind(cfg.controlPort, cfg.address, res)),
  ]);
  process.stdout.write('READY\n');
  process.on('SIGTERM', () => process.exit(0));
}

main().catch((e: unknown) => {
  process.stderr.write(`udp-server failed: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
