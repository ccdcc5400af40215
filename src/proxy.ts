/**
 * HTTP and HTTPS through an interface's proxy (the NIC's `proxyconfig`), over that interface.
 *
 *   const eth = net.open({ interface: 'eth0', proxyconfig: { type: 'HTTP', address: 'proxy.lan', port: 3128 } });
 *   await eth.connected();
 *   const proxy = await proxyDispatcher(eth);
 *   const res = await proxy.request('https://example.com/');            // or:
 *   https.get('https://example.com/', { agent: proxy.httpsAgent }, …);   // any client that takes an agent
 *
 * - https: URLs go through an HTTP CONNECT tunnel, then TLS with the origin end to end.
 * - http: URLs are sent to the proxy in absolute form (RFC 9112 §3.2.2).
 * - The TCP connection to the proxy is bound to the interface's address (`localAddress`).
 *   Node's TCP sockets cannot be bound to a device (no SO_BINDTODEVICE), so the routing
 *   table still picks the way out: see docs/proxy.md.
 * - The proxy's name is resolved with the interface's DNS servers (`iface.resolver()`);
 *   the origin's name is resolved by the proxy, as with every HTTP proxy.
 * - A sealed proxy password is opened once, here, and kept only inside this object as the
 *   Basic credentials; it never appears in an error, a log line or `getiptable()`.
 *
 * No dependency: node:http agents (a CONNECT in `createConnection`, the absolute form in
 * `addRequest`), usable by http.request, https.request and any client that takes an agent.
 * Node's built-in fetch() takes an undici dispatcher instead, which this is not.
 */
import { Agent as HttpAgent, type AgentOptions as HttpAgentOptions, type ClientRequest, type ClientRequestArgs, type IncomingHttpHeaders, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions, request as httpsRequest } from 'node:https';
import { connect as netConnect, isIPv4, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { Duplex } from 'node:stream';
import { inspect } from 'node:util';
import { AbortError, ArgumentError, ClosedError, InterfaceNotUpError, NicupError, NotSupportedError, PermissionError, PlatformError, TimeoutError } from './errors.js';
import { openSealedText } from './core/sealed-hook.js';
import type { NetInterface } from './core/interface.js';
import type { ProxyConfig } from './nic.js';
import { NetState } from './states.js';

/** Where a connection to the proxy goes. */
export interface ProxyTarget {
  /** The proxy's IPv4 address (resolved with the interface's DNS servers). */
  host: string;
  /** The proxy's name as configured (equal to host for a dotted quad). */
  hostname: string;
  port: number;
  /** The interface's own address: the source of the connection. */
  localAddress: string;
}

export interface ProxyDispatcherOptions {
  /** How long connecting to the proxy, and its answer to CONNECT, may take (default 10000). */
  connectTimeoutMs?: number;
  /**
   * Opens the TCP connection to the proxy. Default: net.connect bound to the interface's
   * address. For programs with their own routing, and for tests.
   */
  connect?: (target: ProxyTarget) => Socket;
  /** Resolves the proxy's name. Default: `iface.resolver().resolve4`. */
  resolve4?: (hostname: string) => Promise<string[]>;
  /** Options for both agents (keepAlive, maxSockets…) and TLS options for https origins (ca…). */
  agent?: HttpsAgentOptions;
}

export interface ProxyRequestOptions {
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Uint8Array;
  /** Aborts the request. */
  signal?: AbortSignal;
  /** Gives up when the whole exchange takes longer (default 30000). */
  timeoutMs?: number;
  /** Refuses a longer response body (default 16 MiB). */
  maxBodyBytes?: number;
  /** TLS: certificate authorities to trust for an https origin (default: Node's). */
  ca?: string | Buffer | (string | Buffer)[];
}

export interface ProxyResponse {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface ProxyDispatcher {
  /** The interface's name. */
  readonly interface: string;
  /** For http: URLs (requests sent to the proxy in absolute form). */
  readonly httpAgent: HttpAgent;
  /** For https: URLs (a CONNECT tunnel, then TLS with the origin). */
  readonly httpsAgent: HttpsAgent;
  /** The agent for a URL's scheme; throws for other schemes. */
  agentFor(url: string | URL): HttpAgent;
  /**
   * One request through the proxy; resolves with the status, headers and whole body.
   * Rejects with PermissionError when the proxy wants (other) credentials (407).
   */
  request(url: string | URL, options?: ProxyRequestOptions): Promise<ProxyResponse>;
  /** Destroys the agents' sockets; later requests still work (new connections). */
  close(): void;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_BODY_BYTES = 16 << 20;
/** A CONNECT answer is a status line and a few headers; more is not a proxy talking. */
const MAX_CONNECT_RESPONSE_BYTES = 16 * 1024;

/**
 * An HTTP(S) dispatcher through `iface`'s proxyconfig proxy. Throws ArgumentError when the
 * interface has no proxyconfig, ClosedError when the handle is closed, SealedKeyError when
 * a sealed password cannot be opened on this device. The interface need not be CONNECTED
 * yet: each connection checks (InterfaceNotUpError).
 */
export async function proxyDispatcher(iface: NetInterface, options: ProxyDispatcherOptions = {}): Promise<ProxyDispatcher> {
  if (iface.closed) throw new ClosedError(`${iface.name}: interface handle is closed`);
  const config = iface.rawNic.proxyconfig;
  if (config === undefined) {
    throw new ArgumentError(`proxyconfig: ${iface.name} has none; open it with proxyconfig { type: "HTTP", address, port } to use a proxy`, { field: 'proxyconfig' });
  }
  if (config.port === 0) throw new ArgumentError('proxyconfig.port: 0 cannot be connected to; give the port the proxy listens on', { field: 'proxyconfig.port' });
  if (options.connectTimeoutMs !== undefined && (!Number.isInteger(options.connectTimeoutMs) || options.connectTimeoutMs < 1)) {
    throw new ArgumentError('connectTimeoutMs: must be a positive integer', { field: 'connectTimeoutMs' });
  }
  const password = config.password === undefined ? undefined : typeof config.password === 'string' ? config.password : await openSealedText(config.password.sealed, 'proxyconfig.password');
  const authorization = config.username === undefined ? undefined : `Basic ${Buffer.from(`${config.username}:${password ?? ''}`, 'utf8').toString('base64')}`;
  const tunnel = new ProxyTunnel(iface, config, authorization, options);
  const agentOptions = options.agent ?? {};
  const httpAgent = new ProxyHttpAgent(tunnel, agentOptions);
  const httpsAgent = new ProxyHttpsAgent(tunnel, agentOptions);
  const agentFor = (url: string | URL): HttpAgent => {
    const protocol = new URL(url).protocol;
    if (protocol === 'http:') return httpAgent;
    if (protocol === 'https:') return httpsAgent;
    throw new ArgumentError(`url: must be http: or https: (got ${protocol})`, { field: 'url' });
  };
  return {
    interface: iface.name,
    httpAgent,
    httpsAgent,
    agentFor,
    request: (url, o) => requestThrough(tunnel, agentFor(url), new URL(url), o ?? {}),
    close: () => {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
    [inspect.custom]: () => `ProxyDispatcher { interface: '${iface.name}', proxy: '${tunnel.label}' }`,
  } as ProxyDispatcher;
}

/** Opens connections to the proxy over the interface and runs the CONNECT handshake. */
class ProxyTunnel {
  readonly #iface: NetInterface;
  readonly #config: ProxyConfig;
  /** "Basic …" — the only place the password lives. */
  readonly #authorization: string | undefined;
  readonly #options: ProxyDispatcherOptions;
  readonly label: string;

  constructor(iface: NetInterface, config: ProxyConfig, authorization: string | undefined, options: ProxyDispatcherOptions) {
    this.#iface = iface;
    this.#config = config;
    this.#authorization = authorization;
    this.#options = options;
    this.label = `${config.address}:${config.port}`;
  }

  get authorization(): string | undefined {
    return this.#authorization;
  }

  /** Who refused: "proxy 192.168.77.1:8888 (eth0)", and the user when there is one. */
  describe(): string {
    return `proxy ${this.label} (${this.#iface.name})`;
  }

  /**
   * The proxy refused: 407, or 401 (tinyproxy answers wrong credentials so). Says whether
   * credentials were sent, and for which user; never the password.
   */
  authError(what: string, status: number, statusText: string): PermissionError {
    const user = this.#config.username;
    const why = user === undefined ? 'asks for credentials; add proxyconfig.username and proxyconfig.password' : `refused the credentials of user "${user}"`;
    return new PermissionError(`${this.describe()}: ${what}: ${status} ${printable(statusText)}: the proxy ${why}`, { field: 'proxyconfig' });
  }

  /** A TCP connection to the proxy, from the interface's address. */
  async connect(): Promise<Socket> {
    const target = await this.target();
    const timeoutMs = this.#options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const socket = this.#options.connect ? this.#options.connect(target) : netConnect({ host: target.host, port: target.port, localAddress: target.localAddress, family: 4 });
    return new Promise<Socket>((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        socket.off('connect', onConnect);
        socket.off('error', onError);
        if (err) {
          socket.destroy();
          reject(err);
        } else resolve(socket);
      };
      const onConnect = () => done();
      const onError = (e: NodeJS.ErrnoException) =>
        done(new PlatformError(`${this.describe()}: cannot connect from ${target.localAddress} to ${target.host}:${target.port} (${e.code ?? e.message})`, { cause: e }));
      const timer = setTimeout(() => done(new TimeoutError(`${this.describe()}: no TCP connection within ${timeoutMs} ms`)), timeoutMs);
      if (!socket.connecting && !socket.destroyed && socket.remoteAddress !== undefined) return done();
      socket.once('connect', onConnect);
      socket.once('error', onError);
    });
  }

  /** Asks the proxy for a tunnel to host:port (RFC 9110 §9.3.6); resolves once it answers 2xx. */
  async handshake(socket: Socket, host: string, port: number): Promise<void> {
    const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`];
    if (this.#authorization !== undefined) lines.push(`Proxy-Authorization: ${this.#authorization}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    const timeoutMs = this.#options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const head = await readResponseHead(socket, timeoutMs, () => `${this.describe()}: CONNECT ${authority}`);
    const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(head.statusLine);
    if (!m) throw new PlatformError(`${this.describe()}: CONNECT ${authority}: not an HTTP answer`);
    const status = Number(m[1]);
    const reason = printable(m[2] ?? '');
    // Only the proxy answers CONNECT: a 401 is its own too.
    if (status === 407 || status === 401) throw this.authError(`CONNECT ${authority}`, status, reason);
    if (status < 200 || status > 299) throw new PlatformError(`${this.describe()}: CONNECT ${authority} refused: ${status}${reason ? ` ${reason}` : ''}`);
    if (head.rest.length > 0) socket.unshift(head.rest);
  }

  /** Checks the interface and finds the proxy: its address, port and our source address. */
  private async target(): Promise<ProxyTarget> {
    const iface = this.#iface;
    if (iface.closed) throw new ClosedError(`${iface.name}: interface handle is closed`);
    if (iface.rawNic.proxyconfig !== this.#config) {
      throw new ArgumentError(`proxyconfig: ${iface.name} was reconfigured since this dispatcher was made; make a new one`, { field: 'proxyconfig' });
    }
    const local = iface.ipv4?.address;
    if (iface.state !== NetState.CONNECTED || local === undefined) {
      throw new InterfaceNotUpError(`${iface.name}: not CONNECTED: no connection to the ${this.describe()}`);
    }
    if (!this.#options.connect && !hasLocalAddress(iface.name, local)) {
      throw new NotSupportedError(
        `${iface.name}: ${local} is not an address of this process's network namespace (a simulated interface, or one in another namespace): Node's TCP sockets can only use this namespace's interfaces; pass options.connect to open connections yourself`,
      );
    }
    const name = this.#config.address;
    let host = name;
    if (!isIPv4(name)) {
      let found: string[];
      try {
        found = await (this.#options.resolve4 ?? ((n: string) => resolve4With(iface, n)))(name);
      } catch (err) {
        if (err instanceof NicupError) throw err;
        const code = (err as NodeJS.ErrnoException)?.code;
        throw new PlatformError(`proxyconfig.address: cannot resolve "${name}" with ${iface.name}'s DNS servers (${code ?? 'failed'})`, { field: 'proxyconfig.address', cause: err });
      }
      const first = found.find((a) => isIPv4(a));
      if (first === undefined) throw new PlatformError(`proxyconfig.address: "${name}" has no IPv4 address in ${iface.name}'s DNS`, { field: 'proxyconfig.address' });
      host = first;
    }
    return { host, hostname: name, port: this.#config.port, localAddress: local };
  }
}

/** A status text from the network, safe to put in a message. */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '').slice(0, 80);
}

function hasLocalAddress(ifname: string, address: string): boolean {
  return (networkInterfaces()[ifname] ?? []).some((a) => a.family === 'IPv4' && a.address === address);
}

function resolve4With(iface: NetInterface, name: string): Promise<string[]> {
  const resolver = iface.resolver();
  return new Promise((resolve, reject) => resolver.resolve4(name, (err, addresses) => (err ? reject(err) : resolve(addresses))));
}

/** Reads an HTTP response head (status line and headers) without consuming what follows. */
function readResponseHead(socket: Socket, timeoutMs: number, what: () => string): Promise<{ statusLine: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const done = (err: Error | undefined, value?: { statusLine: string; rest: Buffer }) => {
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('error', onError);
      if (err) reject(err);
      else resolve(value!);
    };
    const onReadable = () => {
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
        buffered = Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf('\r\n\r\n');
        if (end >= 0) {
          const head = buffered.subarray(0, end).toString('latin1');
          return done(undefined, { statusLine: head.split('\r\n')[0] ?? '', rest: buffered.subarray(end + 4) });
        }
        if (buffered.length > MAX_CONNECT_RESPONSE_BYTES) return done(new PlatformError(`${what()}: the answer is too long to be a proxy's`));
      }
    };
    const onEnd = () => done(new PlatformError(`${what()}: the proxy closed the connection without answering`));
    const onError = (e: NodeJS.ErrnoException) => done(new PlatformError(`${what()}: ${e.code ?? e.message}`, { cause: e }));
    const timer = setTimeout(() => done(new TimeoutError(`${what()}: no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
    socket.once('error', onError);
    onReadable();
  });
}

type AddRequest = (this: HttpAgent, req: ClientRequest, options: ClientRequestArgs) => void;
// Not in @types/node, but public in Node since 0.x: every proxy agent hooks it.
const baseAddRequest = (HttpAgent.prototype as unknown as { addRequest: AddRequest }).addRequest;

/** http: URLs: each request goes to the proxy in absolute form, with the credentials. */
class ProxyHttpAgent extends HttpAgent {
  readonly #tunnel: ProxyTunnel;

  constructor(tunnel: ProxyTunnel, options: HttpAgentOptions) {
    super(options);
    this.#tunnel = tunnel;
  }

  addRequest(req: ClientRequest, options: ClientRequestArgs): void {
    if (req.headersSent) {
      // Headers given as an array (or with Expect) are written at once, before an agent can add to them.
      req.destroy(new ArgumentError('headers: give them as an object, not an array, to send a request through the proxy', { field: 'headers' }));
      return;
    }
    const host = req.getHeader('host');
    const authority = typeof host === 'string' ? host : `${options.hostname ?? options.host ?? 'localhost'}${options.port !== undefined && Number(options.port) !== 80 ? `:${options.port}` : ''}`;
    if (!/^[a-z]+:\/\//i.test(req.path)) req.path = `http://${authority}${req.path.startsWith('/') ? '' : '/'}${req.path}`;
    const authorization = this.#tunnel.authorization;
    if (authorization !== undefined) req.setHeader('Proxy-Authorization', authorization);
    baseAddRequest.call(this, req, options);
  }

  override createConnection(_options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    this.#tunnel.connect().then(
      (socket) => callback?.(null, socket),
      (err: Error) => callback?.(err, undefined as unknown as Duplex),
    );
    return undefined;
  }

  override getName(options?: ClientRequestArgs): string {
    return `proxy:${super.getName(options)}`;
  }

  /** Its sockets carry requests whose headers hold the credentials: show the proxy only. */
  [inspect.custom](): string {
    return `ProxyHttpAgent { proxy: '${this.#tunnel.label}' }`;
  }
}

/** https: URLs: a CONNECT tunnel through the proxy, then TLS with the origin. */
class ProxyHttpsAgent extends HttpsAgent {
  readonly #tunnel: ProxyTunnel;

  constructor(tunnel: ProxyTunnel, options: HttpsAgentOptions) {
    super(options);
    this.#tunnel = tunnel;
  }

  override createConnection(options: ClientRequestArgs & ConnectionOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const host = options.hostname ?? options.host ?? 'localhost';
    const port = Number(options.port ?? 443);
    (async () => {
      const socket = await this.#tunnel.connect();
      try {
        await this.#tunnel.handshake(socket, host, port);
      } catch (err) {
        socket.destroy();
        throw err;
      }
      const tlsOptions: ConnectionOptions = { ...options, socket };
      if (!tlsOptions.servername) delete tlsOptions.servername;
      return tlsConnect(tlsOptions);
    })().then(
      (tls) => callback?.(null, tls),
      (err: Error) => callback?.(err, undefined as unknown as Duplex),
    );
    return undefined;
  }

  override getName(options?: ClientRequestArgs): string {
    return `proxy:${super.getName(options)}`;
  }

  /** Its sockets carry requests whose headers hold the credentials: show the proxy only. */
  [inspect.custom](): string {
    return `ProxyHttpsAgent { proxy: '${this.#tunnel.label}' }`;
  }
}

/** One request through an agent; collects the body; turns a 407 into a PermissionError. */
function requestThrough(tunnel: ProxyTunnel, agent: HttpAgent, url: URL, o: ProxyRequestOptions): Promise<ProxyResponse> {
  const timeoutMs = o.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const maxBodyBytes = o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<ProxyResponse>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, value?: ProxyResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(value!);
    };
    const req = send(url, { method: o.method ?? 'GET', headers: o.headers ?? {}, agent, ...(o.ca !== undefined ? { ca: o.ca } : {}) }, (res: IncomingMessage) => {
      if (isProxyRefusal(res, tunnel, url)) {
        res.resume();
        finish(tunnel.authError(`${o.method ?? 'GET'} ${url.origin}`, res.statusCode ?? 0, res.statusMessage ?? ''));
        return;
      }
      const chunks: Buffer[] = [];
      let length = 0;
      res.on('data', (c: Buffer) => {
        length += c.length;
        if (length > maxBodyBytes) finish(new PlatformError(`${url.origin}: response body longer than maxBodyBytes (${maxBodyBytes})`));
        else chunks.push(c);
      });
      res.once('end', () => finish(undefined, { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, body: Buffer.concat(chunks) }));
      res.once('error', (e: Error) => finish(e));
    });
    const timer = setTimeout(() => finish(new TimeoutError(`${url.origin}: no complete answer through the ${tunnel.describe()} within ${timeoutMs} ms`)), timeoutMs);
    const onAbort = () => finish(new AbortError(`${url.origin}: request aborted`, { cause: o.signal?.reason }));
    if (o.signal?.aborted) return onAbort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    req.once('error', (e: Error) => finish(e instanceof NicupError ? e : new PlatformError(`${url.origin} through the ${tunnel.describe()}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, { cause: e })));
    req.end(o.body);
  });
}

/**
 * Whether a response to a request sent in absolute form is the proxy refusing it: 407; or
 * a 401 without Via to a request that carried credentials. A proxy must add Via to every
 * response it forwards (RFC 9110 §7.6.3), so a 401 without one is the proxy's own:
 * tinyproxy answers wrong credentials so. Through CONNECT (https) the origin's answers
 * are inside TLS, so this is for http: only.
 */
function isProxyRefusal(res: IncomingMessage, tunnel: ProxyTunnel, url: URL): boolean {
  if (url.protocol !== 'http:') return false;
  if (res.statusCode === 407) return true;
  return res.statusCode === 401 && res.headers.via === undefined && tunnel.authorization !== undefined;
}
