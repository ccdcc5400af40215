/**
 * proxyDispatcher on a real kernel against a real proxy: tinyproxy (Debian's) and an
 * HTTP + HTTPS origin (node) in the server namespace, dnsmasq giving the lease and
 * answering for the proxy's name. nicup runs in a child process inside the client
 * namespace: Node's TCP sockets and its DNS resolver live in the process's own namespace
 * (only nicup's UDP and netlink sockets can be made in another), so the program must run
 * where its interface is, as a real one does.
 *
 * What is checked: the request reached the proxy (its log) from the interface's leased
 * address — eth0 also carries a foreign address the kernel would pick by itself — and
 * reached the origin from the proxy; the proxy's name was looked up with the interface's
 * DNS server; credentials (plain and sealed) are accepted, wrong ones give a 407 error
 * that never shows the password; no proxyconfig gives a clear error.
 * Needs root, iproute2, dnsmasq-base, tinyproxy and openssl; fails naming what is missing.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { seal } from '../src/sealing.js';
import { findBinary, type Lab } from './lab/netns.js';
import { ethernetSetup, rootSnapshot, waitForOutput, waitUntil, withWorld, type RootSnapshot, type TestWorld } from './lab/extra.js';

const TEST_TIMEOUT_MS = 90_000;
const ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const SERVER = '192.168.77.1';
/** On eth0 before nicup opens it: the kernel's own choice of source address. */
const FOREIGN = '192.168.77.200';
const PROXY_PORT = 8888;
const HTTP_PORT = 8080;
const HTTPS_PORT = 8443;
const USER = 'alice';
const PASSWORD = 'Pr0xy-Pa55word'; // tinyproxy's BasicAuth takes [-a-z0-9._] only

function requireBinary(name: string, pkg: string): string {
  try {
    return findBinary(name);
  } catch {
    throw new Error(`the proxy tests need \`${name}\`, which is not installed: apt-get install ${pkg}`);
  }
}

/** An HTTP and an HTTPS origin; one JSON line per request on stdout (CommonJS for `node -e`). */
const ORIGIN_SCRIPT = `
const http = require('node:http');
const https = require('node:https');
const fs = require('node:fs');
const [host, httpPort, httpsPort, keyPath, certPath] = process.argv.slice(1);
const handler = (kind) => (req, res) => {
  console.log(JSON.stringify({ kind, method: req.method, url: req.url, remoteAddress: req.socket.remoteAddress,
    via: req.headers.via ?? null, proxyAuthorization: req.headers['proxy-authorization'] ?? null }));
  res.end(kind + ' says hello to ' + req.url);
};
http.createServer(handler('http')).listen(Number(httpPort), host, () => {
  https.createServer({ key: fs.readFileSync(keyPath), cert: fs.readFileSync(certPath) }, handler('https'))
    .listen(Number(httpsPort), host, () => console.log(JSON.stringify({ ready: true })));
});
`;

/**
 * The program under test, run in the client namespace (ESM for `node --import tsx -e`):
 * for each step it opens eth0 with the step's NIC (re-configuring after the first),
 * makes a dispatcher and sends the step's requests; prints one JSON line.
 */
const CLIENT_SCRIPT = `
const job = JSON.parse(process.argv[1]);
const { createNetwork, proxyDispatcher } = await import(job.root + '/src/index.ts');
const { installSealing } = await import(job.root + '/src/sealing.ts');
if (job.keyFile) installSealing({ keyFile: job.keyFile });
const errorOf = (e) => ({ name: e?.name, code: e?.code, field: e?.field, message: String(e?.message ?? e) });
const revive = (nic) => {
  const p = nic.proxyconfig;
  if (p && p.password && typeof p.password === 'object') p.password = new Uint8Array(Buffer.from(p.password.sealedBase64, 'base64'));
  return nic;
};
const guard = setTimeout(() => { console.log(JSON.stringify({ fatal: 'client timed out' })); process.exit(3); }, job.timeoutMs);
const net = await createNetwork({ platform: 'linux', logger: { debug() {}, error() {} } });
const steps = [];
let previous;
let iface;
try {
  for (const step of job.steps) {
    const r = { name: step.name, requests: [] };
    steps.push(r);
    try {
      if (step.reopen === 'close') await iface?.close();
      iface = net.open(revive(step.nic), step.reopen === 'reconfigure' ? { reconfigure: true } : {});
      const table = await iface.connected({ signal: AbortSignal.timeout(10000) });
      r.address = table.ipv4.address;
      r.proxyInTable = table.ipv4.proxy ?? null;
      if (previous) {
        try { await previous.request(step.requests[0]?.url ?? 'http://192.0.2.1/'); r.stale = 'no error'; } catch (e) { r.stale = errorOf(e); }
      }
      const d = await proxyDispatcher(iface);
      previous = d;
      for (const url of step.requests.map((q) => q.url)) {
        try {
          const res = await d.request(url, { ca: job.ca, timeoutMs: 5000 });
          r.requests.push({ url, status: res.status, body: res.body.toString() });
        } catch (e) {
          r.requests.push({ url, error: errorOf(e) });
        }
      }
    } catch (e) {
      r.error = errorOf(e);
    }
  }
} finally {
  await net.close();
  await net.platform.dispose();
  clearTimeout(guard);
}
console.log(JSON.stringify({ steps }));
process.exit(0);
`;

interface ErrorView {
  name?: string;
  code?: string;
  field?: string;
  message: string;
}
interface RequestResult {
  url: string;
  status?: number;
  body?: string;
  error?: ErrorView;
}
interface StepResult {
  name: string;
  address?: string;
  proxyInTable?: Record<string, unknown> | null;
  stale?: ErrorView | string;
  requests: RequestResult[];
  error?: ErrorView;
}
interface OriginRequest {
  kind: 'http' | 'https';
  method: string;
  url: string;
  remoteAddress: string;
  via: string | null;
  proxyAuthorization: string | null;
}
interface Step {
  name: string;
  /** How this step's NIC replaces the previous one's. */
  reopen?: 'reconfigure' | 'close';
  nic: Record<string, unknown>;
  requests: { url: string }[];
}

interface ProxyLab {
  w: TestWorld;
  client: string;
  server: string;
  dir: string;
  ca: string;
  proxyLog: () => string;
  dnsLog: () => string;
  originRequests: () => OriginRequest[];
}

/** Client and server namespaces, dnsmasq (DHCP + DNS for proxy.lab), the origin and tinyproxy. */
async function proxyLab(w: TestWorld, options: { basicAuth?: boolean } = {}): Promise<ProxyLab> {
  const tinyproxy = requireBinary('tinyproxy', 'tinyproxy');
  const openssl = requireBinary('openssl', 'openssl');
  const lab: Lab = w.lab;
  const { client, server, pair } = await ethernetSetup(lab, { serverCidr: `${SERVER}/24` });
  const dir = mkdtempSync(join(tmpdir(), 'nicup-proxy-test-'));
  w.defer(async () => rmSync(dir, { recursive: true, force: true }));

  // eth0 carries a foreign address first: the kernel would use it as the source; nicup's localAddress must win.
  await lab.exec(client, ['ip', 'addr', 'add', `${FOREIGN}/24`, 'dev', 'eth0']);

  await lab.startDnsmasq({ ns: server, iface: pair.serverName, range: ['192.168.77.10', '192.168.77.50'], extraArgs: [`--dhcp-option=6,${SERVER}`] });
  // A second dnsmasq as the DNS server the lease names (the lab's DHCP one runs with --port=0): it knows proxy.lab only.
  const dns = lab.spawn(server, [
    findBinary('dnsmasq'), '-k', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--port=53', '--bind-interfaces',
    `--listen-address=${SERVER}`, `--address=/proxy.lab/${SERVER}`, '--log-queries', '--log-facility=-',
    `--pid-file=${join(dir, 'dns.pid')}`, '--user=root', '--group=root',
  ]);
  await waitForOutput(dns, (o) => o.stderr.includes('started, version'), 'dnsmasq to serve DNS');

  const key = join(dir, 'origin.key');
  const cert = join(dir, 'origin.crt');
  execFileSync(openssl, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=nicup lab origin', '-addext', `subjectAltName=IP:${SERVER}`], { stdio: 'ignore' });
  const origin = lab.spawn(server, [process.execPath, '-e', ORIGIN_SCRIPT, SERVER, String(HTTP_PORT), String(HTTPS_PORT), key, cert]);
  await waitForOutput(origin, (o) => o.stdout.includes('"ready":true'), 'the origin to listen');

  const logFile = join(dir, 'tinyproxy.log');
  const config = [
    `Port ${PROXY_PORT}`,
    `Listen ${SERVER}`,
    'Allow 192.168.77.0/24',
    'Timeout 30',
    'LogLevel Connect',
    `LogFile "${logFile}"`,
    `PidFile "${join(dir, 'tinyproxy.pid')}"`,
    ...(options.basicAuth ? [`BasicAuth ${USER} ${PASSWORD}`] : []),
  ];
  const configFile = join(dir, 'tinyproxy.conf');
  writeFileSync(configFile, `${config.join('\n')}\n`, { mode: 0o600 });
  writeFileSync(logFile, '');
  // -d: in the foreground, so the lab owns (and stops) the process.
  const proxy = lab.spawn(server, [tinyproxy, '-d', '-c', configFile]);
  const proxyLog = () => readFileSync(logFile, 'utf8');
  let exited = false;
  void proxy.exited.then(() => (exited = true));
  await waitUntil('tinyproxy to accept connections', () => {
    if (exited) throw new Error(`tinyproxy exited: ${proxy.stderr().trim()} ${proxyLog().trim()}`);
    return lab.exec(server, ['cat', '/proc/net/tcp']).then((r) => r.stdout.includes(`:${PROXY_PORT.toString(16).toUpperCase()} 00000000:0000 0A`));
  });

  return {
    w,
    client,
    server,
    dir,
    ca: readFileSync(cert, 'utf8'),
    proxyLog,
    dnsLog: () => dns.stderr(),
    originRequests: () =>
      origin
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('{"kind"'))
        .map((l) => JSON.parse(l) as OriginRequest),
  };
}

/** Runs the program under test in the client namespace. */
async function runClient(p: ProxyLab, steps: Step[], keyFile?: string): Promise<StepResult[]> {
  const job = { root: ROOT, ca: p.ca, keyFile, timeoutMs: 40_000, steps };
  const r = await p.w.lab.exec(p.client, [process.execPath, '--import', 'tsx', '--input-type=module', '-e', CLIENT_SCRIPT, JSON.stringify(job)], { allowFailure: true });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let parsed: { steps?: StepResult[]; fatal?: string } = {};
  try {
    parsed = JSON.parse(line) as typeof parsed;
  } catch {
    // reported below
  }
  if (r.code !== 0 || !parsed.steps) throw new Error(`client exited ${r.code}: ${parsed.fatal ?? ''} ${r.stderr.trim().slice(0, 2000)}`);
  return parsed.steps;
}

const HTTP_URL = `http://${SERVER}:${HTTP_PORT}/hello?via=proxy`;
const HTTPS_URL = `https://${SERVER}:${HTTPS_PORT}/secure`;

function proxyNic(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { interface: 'eth0', proxyconfig: { type: 'HTTP', address: 'proxy.lab', port: PROXY_PORT, ...extra } };
}

let rootBefore: RootSnapshot;
before(async () => {
  rootBefore = await rootSnapshot();
});

describe('HTTP(S) through the interface proxy (tinyproxy in a namespace)', () => {
  test('http (absolute form) and https (CONNECT) reach the origin by the proxy, from eth0\'s leased address; no proxyconfig: a clear error', { timeout: TEST_TIMEOUT_MS }, () =>
    withWorld(async (w) => {
      const p = await proxyLab(w);
      const [withProxy, stale] = await runClient(p, [
        { name: 'proxy', nic: proxyNic(), requests: [{ url: HTTP_URL }, { url: HTTPS_URL }] },
        { name: 'no proxy', reopen: 'close', nic: { interface: 'eth0' }, requests: [{ url: HTTP_URL }] },
      ]);
      assert.ok(withProxy && stale);
      assert.equal(withProxy.error, undefined, JSON.stringify(withProxy.error));
      const lease = withProxy.address!;
      assert.match(lease, /^192\.168\.77\.(1\d|[2-4]\d|50)$/, 'a lease from the lab range');
      assert.deepEqual(withProxy.proxyInTable, { address: 'proxy.lab', port: PROXY_PORT, type: 'http' });
      assert.deepEqual(withProxy.requests, [
        { url: HTTP_URL, status: 200, body: 'http says hello to /hello?via=proxy' },
        { url: HTTPS_URL, status: 200, body: 'https says hello to /secure' },
      ]);

      // The proxy saw both, from the leased address (not the foreign one the kernel would pick).
      const log = p.proxyLog();
      const connects = [...log.matchAll(/Connect \(file descriptor \d+\): (\S+)/g)].map((m) => m[1]);
      assert.ok(connects.length >= 2, `tinyproxy logged the connections:\n${log}`);
      assert.deepEqual([...new Set(connects)], [lease], 'every connection came from eth0\'s leased address');
      assert.match(log, new RegExp(`Request \\(file descriptor \\d+\\): GET http://${SERVER}:${HTTP_PORT}/hello\\?via=proxy HTTP/1\\.1`));
      assert.match(log, new RegExp(`Request \\(file descriptor \\d+\\): CONNECT ${SERVER}:${HTTPS_PORT} HTTP/1\\.1`));

      // The origin was reached by the proxy (its address, its Via header), not by the client directly.
      const seen = p.originRequests();
      assert.deepEqual(seen.map((r) => `${r.kind} ${r.method} ${r.url} from ${r.remoteAddress}`), [`http GET /hello?via=proxy from ${SERVER}`, `https GET /secure from ${SERVER}`]);
      assert.match(seen[0]?.via ?? '', /tinyproxy/);

      // The proxy's name was looked up with eth0's DNS server, from eth0's address.
      assert.match(p.dnsLog(), new RegExp(`query\\[A\\] proxy\\.lab from ${lease.replace(/\./g, '\\.')}`));

      // Closed and opened again without proxyconfig: the old dispatcher and a new one both say why not.
      assert.equal((stale.stale as ErrorView)?.code, 'NICUP_CLOSED');
      assert.equal(stale.error?.code, 'NICUP_INVALID_ARGUMENT');
      assert.equal(stale.error?.field, 'proxyconfig');
      assert.match(stale.error?.message ?? '', /^proxyconfig: eth0 has none; open it with proxyconfig/);
      assert.equal(p.originRequests().length, 2, 'nothing more reached the origin');
    }),
  );

  test('Basic credentials: a sealed password is accepted; wrong or missing ones give a PermissionError that never shows the password', { timeout: TEST_TIMEOUT_MS }, () =>
    withWorld(async (w) => {
      const p = await proxyLab(w, { basicAuth: true });
      const keyFile = join(p.dir, 'keys', 'device.key');
      const sealed = Buffer.from(seal(PASSWORD, 'proxyconfig.password', { keyFile })).toString('base64');
      const wrong = 'Wr0ng-Pa55word';
      const [good, bad, none] = await runClient(
        p,
        [
          { name: 'sealed', nic: proxyNic({ username: USER, password: { sealedBase64: sealed } }), requests: [{ url: HTTP_URL }, { url: HTTPS_URL }] },
          { name: 'wrong', reopen: 'reconfigure', nic: proxyNic({ username: USER, password: wrong }), requests: [{ url: HTTP_URL }, { url: HTTPS_URL }] },
          { name: 'none', reopen: 'reconfigure', nic: proxyNic(), requests: [{ url: HTTP_URL }, { url: HTTPS_URL }] },
        ],
        keyFile,
      );
      assert.ok(good && bad && none);
      assert.equal(good.error, undefined, JSON.stringify(good.error));
      assert.deepEqual(good.proxyInTable, { address: 'proxy.lab', port: PROXY_PORT, type: 'http', user: USER }, 'the IP table shows the user, never the password');
      assert.deepEqual(good.requests.map((r) => r.status), [200, 200], JSON.stringify(good.requests));

      // Re-configured with other credentials: the dispatcher made before says so.
      assert.match((bad.stale as ErrorView)?.message ?? '', /^proxyconfig: eth0 was reconfigured since this dispatcher was made; make a new one$/);
      // tinyproxy answers wrong credentials with 401 (not 407), and none with 407: both are the proxy refusing.
      for (const [step, status, why] of [
        [bad, '401 Unauthorized', 'refused the credentials of user "alice"'],
        [none, '407 Proxy Authentication Required', 'asks for credentials; add proxyconfig.username and proxyconfig.password'],
      ] as const) {
        assert.equal(step.error, undefined, JSON.stringify(step.error));
        assert.equal(step.requests.length, 2);
        for (const r of step.requests) {
          assert.equal(r.error?.code, 'NICUP_PERMISSION', `${step.name} ${r.url}: ${JSON.stringify(r)}`);
          assert.equal(r.error?.field, 'proxyconfig');
          assert.ok(r.error?.message.startsWith('proxy proxy.lab:8888 (eth0): '), r.error?.message);
          assert.ok(r.error?.message.endsWith(`: ${status}: the proxy ${why}`), r.error?.message);
          for (const secret of [wrong, PASSWORD, Buffer.from(`${USER}:${wrong}`).toString('base64')]) assert.ok(!JSON.stringify(r).includes(secret), 'no password in the error');
        }
      }
      const seen = p.originRequests();
      assert.equal(seen.length, 2, 'only the two authorized requests reached the origin');
      assert.ok(seen.every((r) => r.proxyAuthorization === null), 'the credentials went to the proxy only, not on to the origin');
      assert.ok(!p.proxyLog().includes(PASSWORD), 'the proxy log holds no password');
    }),
  );

  test('the root namespace is untouched', async () => {
    assert.deepEqual(await rootSnapshot(), rootBefore);
  });
});
