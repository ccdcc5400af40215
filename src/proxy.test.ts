/**
 * proxyDispatcher on the simulator, against a fake proxy on loopback (options.connect
 * routes the connections there): the absolute form for http:, CONNECT for https:, Basic
 * credentials (plain and sealed), 407 and other refusals, and the checks made before any
 * connection. The real proxy (tinyproxy) over a real interface: test/linux-proxy.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { proxyDispatcher, type ProxyTarget } from './proxy.js';
import { Network } from './core/network.js';
import { NetState } from './states.js';
import { isNicupError } from './errors.js';
import { installSealing, seal } from './sealing.js';
import { setSealedOpener } from './core/sealed-hook.js';
import { SimPlatform, defaultWorld } from './platform/sim/index.js';
import type { NetInterface } from './core/interface.js';

const PASSWORD = 'Pr0xy-Pa55word!';
const BASIC = `Basic ${Buffer.from(`alice:${PASSWORD}`).toString('base64')}`;
const silent = { debug: () => {}, error: () => {} };

interface Seen {
  head: string;
  /** Bytes the client sent after the proxy's answer to CONNECT. */
  after: Buffer;
}

/** A fake HTTP proxy: records each request head and answers with `answer(head)`. */
async function fakeProxy(answer: (head: string) => string | null): Promise<{ port: number; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((socket: Socket) => {
    let buffered = Buffer.alloc(0);
    let entry: Seen | undefined;
    socket.on('data', (chunk: Buffer) => {
      if (entry) {
        entry.after = Buffer.concat([entry.after, chunk]);
        if (entry.after.length >= 5) socket.destroy();
        return;
      }
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      entry = { head: buffered.subarray(0, end).toString('latin1'), after: buffered.subarray(end + 4) };
      seen.push(entry);
      const reply = answer(entry.head);
      if (reply === null) return; // silent: the client must time out
      socket.write(reply);
      if (!entry.head.startsWith('CONNECT') || !/^HTTP\/1\.1 2/.test(reply)) socket.end();
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return { port: address.port, seen, server };
}

/** eth0 on the simulator, CONNECTED, with the given proxyconfig. */
async function simEth(proxyconfig: Record<string, unknown> | undefined): Promise<{ iface: NetInterface; net: Network }> {
  const world = defaultWorld();
  const net = await Network.create(new SimPlatform(world), { logger: silent });
  const iface = net.open({ interface: 'eth0', ...(proxyconfig ? { proxyconfig } : {}) });
  assert.ok(await world.runUntil(() => iface.state === NetState.CONNECTED), 'eth0 reaches CONNECTED on the simulator');
  return { iface, net };
}

const PROXY = { type: 'HTTP', address: 'proxy.example', port: 3128, username: 'alice', password: PASSWORD };

function via(port: number, targets: ProxyTarget[] = []) {
  return {
    connect: (t: ProxyTarget) => {
      targets.push(t);
      return connect({ host: '127.0.0.1', port });
    },
    resolve4: async (name: string) => (name === 'proxy.example' ? ['192.0.2.80'] : []),
  };
}

function header(head: string, name: string): string | undefined {
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

test('http: the request goes to the proxy in absolute form with Basic credentials, from the interface address', async () => {
  const proxy = await fakeProxy(() => 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
  const { iface, net } = await simEth(PROXY);
  try {
    const targets: ProxyTarget[] = [];
    const d = await proxyDispatcher(iface, via(proxy.port, targets));
    const res = await d.request('http://origin.example:8080/path?q=1');
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'hello');
    const head = proxy.seen[0]?.head ?? '';
    assert.equal(head.split('\r\n')[0], 'GET http://origin.example:8080/path?q=1 HTTP/1.1');
    assert.equal(header(head, 'host'), 'origin.example:8080');
    assert.equal(header(head, 'proxy-authorization'), BASIC);
    assert.deepEqual(targets, [{ host: '192.0.2.80', hostname: 'proxy.example', port: 3128, localAddress: iface.ipv4?.address }]);
    d.close();
  } finally {
    proxy.server.close();
    await net.close();
  }
});

test('https: a CONNECT to the origin with the credentials, then TLS (a ClientHello naming the origin) through the tunnel', async () => {
  const proxy = await fakeProxy(() => 'HTTP/1.1 200 Connection established\r\n\r\n');
  const { iface, net } = await simEth(PROXY);
  try {
    const d = await proxyDispatcher(iface, via(proxy.port));
    // The fake proxy hangs up after the first TLS bytes: the request fails, but the tunnel was used.
    await assert.rejects(d.request('https://origin.example/'), (e: unknown) => isNicupError(e, 'NICUP_PLATFORM'));
    const seen = proxy.seen[0];
    assert.ok(seen);
    assert.equal(seen.head.split('\r\n')[0], 'CONNECT origin.example:443 HTTP/1.1');
    assert.equal(header(seen.head, 'host'), 'origin.example:443');
    assert.equal(header(seen.head, 'proxy-authorization'), BASIC);
    assert.equal(seen.after[0], 0x16, 'a TLS handshake record follows the 200');
    assert.ok(seen.after.includes(Buffer.from('origin.example')), 'the ClientHello carries the origin as SNI');
    d.close();
  } finally {
    proxy.server.close();
    await net.close();
  }
});

test('407 from the proxy: PermissionError naming the proxy and the user, never the password (CONNECT and absolute form)', async () => {
  const proxy = await fakeProxy(() => 'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="x"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  const { iface, net } = await simEth(PROXY);
  try {
    const d = await proxyDispatcher(iface, via(proxy.port));
    for (const url of ['https://origin.example/', 'http://origin.example/']) {
      await assert.rejects(d.request(url), (e: unknown) => {
        assert.ok(isNicupError(e, 'NICUP_PERMISSION'), `${url}: ${String(e)}`);
        assert.match(e.message, /407 Proxy Authentication Required/);
        assert.match(e.message, /proxy proxy\.example:3128 \(eth0\)/);
        assert.match(e.message, /user "alice"/);
        assert.equal(e.field, 'proxyconfig');
        assert.ok(!e.message.includes(PASSWORD) && !e.message.includes(BASIC.slice(6)), 'no password in the message');
        return true;
      });
    }
    assert.equal(proxy.seen.length, 2);
  } finally {
    proxy.server.close();
    await net.close();
  }
});

test('http: a 401 without Via is the proxy refusing the credentials (tinyproxy); a 401 the proxy forwarded (with Via) is the origin\'s answer', async () => {
  let forwarded = false;
  const proxy = await fakeProxy(() =>
    forwarded
      ? 'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="origin"\r\nVia: 1.1 proxy\r\nContent-Length: 6\r\nConnection: close\r\n\r\norigin'
      : 'HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm="Tinyproxy"\r\nConnection: close\r\n\r\n',
  );
  const { iface, net } = await simEth(PROXY);
  try {
    const d = await proxyDispatcher(iface, via(proxy.port));
    await assert.rejects(d.request('http://origin.example/'), (e: unknown) => isNicupError(e, 'NICUP_PERMISSION') && /: 401 Unauthorized: the proxy refused the credentials of user "alice"$/.test(e.message));
    forwarded = true;
    const res = await d.request('http://origin.example/');
    assert.equal(res.status, 401);
    assert.equal(res.body.toString(), 'origin');
  } finally {
    proxy.server.close();
    await net.close();
  }
});

test('a proxy without credentials configured: 407 says to add them; no Proxy-Authorization is sent', async () => {
  const proxy = await fakeProxy(() => 'HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n');
  const { iface, net } = await simEth({ type: 'HTTP', address: '192.0.2.80', port: 3128 });
  try {
    const d = await proxyDispatcher(iface, via(proxy.port));
    await assert.rejects(d.request('https://origin.example/'), /asks for credentials; add proxyconfig\.username and proxyconfig\.password/);
    assert.equal(header(proxy.seen[0]?.head ?? '', 'proxy-authorization'), undefined);
  } finally {
    proxy.server.close();
    await net.close();
  }
});

test('a CONNECT refused with another status, and a proxy that never answers, are named errors', async () => {
  const refusing = await fakeProxy(() => 'HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
  const silentProxy = await fakeProxy(() => null);
  const { iface, net } = await simEth(PROXY);
  try {
    const d = await proxyDispatcher(iface, via(refusing.port));
    await assert.rejects(d.request('https://origin.example:8443/'), (e: unknown) => isNicupError(e, 'NICUP_PLATFORM') && /CONNECT origin\.example:8443 refused: 502 Bad Gateway/.test(e.message));
    const slow = await proxyDispatcher(iface, { ...via(silentProxy.port), connectTimeoutMs: 30 });
    await assert.rejects(slow.request('https://origin.example/'), (e: unknown) => isNicupError(e, 'NICUP_TIMEOUT') && /no answer within 30 ms/.test(e.message));
  } finally {
    refusing.server.close();
    silentProxy.server.close();
    await net.close();
  }
});

test('a sealed proxy password is opened with the device key and sent as the Basic credentials', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nicup-proxy-'));
  const keyFile = join(dir, 'device.key');
  const proxy = await fakeProxy(() => 'HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n');
  installSealing({ keyFile });
  const { iface, net } = await simEth({ ...PROXY, password: seal(PASSWORD, 'proxyconfig.password', { keyFile }) });
  try {
    const d = await proxyDispatcher(iface, via(proxy.port));
    assert.equal((await d.request('http://origin.example/')).status, 204);
    assert.equal(header(proxy.seen[0]?.head ?? '', 'proxy-authorization'), BASIC);
    for (const shown of [inspect(d, { depth: 6 }), inspect(d.httpAgent, { depth: 6 }), inspect(d.httpsAgent, { depth: 6 }), JSON.stringify(iface.ipTable())]) {
      assert.ok(!shown.includes(PASSWORD) && !shown.includes(BASIC.slice(6)), 'inspect and the IP table never show the password');
    }
    assert.deepEqual(iface.ipTable()?.ipv4.proxy, { address: 'proxy.example', port: 3128, type: 'http', user: 'alice' });
    // Sealed with another device's key: refused when the dispatcher is made.
    const other = seal(PASSWORD, 'proxyconfig.password', { keyFile: join(dir, 'other.key') });
    const { iface: eth2, net: net2 } = await simEth({ ...PROXY, password: other });
    await assert.rejects(proxyDispatcher(eth2, via(proxy.port)), (e: unknown) => isNicupError(e, 'NICUP_SEALED_KEY') && /proxyconfig\.password: sealed on another device/.test(e.message));
    await net2.close();
  } finally {
    setSealedOpener(undefined);
    proxy.server.close();
    await net.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('refused before any connection: no proxyconfig, port 0, a closed handle, another scheme, not CONNECTED, an interface outside this namespace', async () => {
  const bare = await simEth(undefined);
  await assert.rejects(proxyDispatcher(bare.iface), (e: unknown) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === 'proxyconfig' && /eth0 has none/.test(e.message));
  await bare.net.close();

  const zero = await simEth({ type: 'HTTP', address: '192.0.2.80', port: 0 });
  await assert.rejects(proxyDispatcher(zero.iface), (e: unknown) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === 'proxyconfig.port');
  await zero.net.close();

  const { iface, net } = await simEth(PROXY);
  const d = await proxyDispatcher(iface);
  assert.throws(() => d.agentFor('ftp://origin.example/'), (e: unknown) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === 'url');
  // The simulator's addresses do not exist on this host: said plainly, not a bare EADDRNOTAVAIL.
  await assert.rejects(d.request('http://origin.example/'), (e: unknown) => isNicupError(e, 'NICUP_NOT_SUPPORTED') && /not an address of this process's network namespace/.test(e.message));
  await iface.close();
  await assert.rejects(d.request('http://origin.example/'), (e: unknown) => isNicupError(e, 'NICUP_CLOSED'));
  await assert.rejects(proxyDispatcher(iface), (e: unknown) => isNicupError(e, 'NICUP_CLOSED'));
  await net.close();

  // Not CONNECTED yet: the dispatcher can be made, but a request is refused.
  const world = defaultWorld();
  const net2 = await Network.create(new SimPlatform(world), { logger: silent });
  const early = net2.open({ interface: 'eth0', proxyconfig: PROXY });
  const d2 = await proxyDispatcher(early, via(1));
  await assert.rejects(d2.request('http://origin.example/'), (e: unknown) => isNicupError(e, 'NICUP_INTERFACE_NOT_UP') && /eth0: not CONNECTED/.test(e.message));
  await net2.close();
});
