/**
 * Fuzz inputs as JSON, so a crash or hang can be kept as a data file and replayed forever.
 * Plain JSON values pass as they are; what JSON cannot hold is tagged `{ "$": kind, ... }`:
 * undefined, NaN/±Infinity/-0, bigint, byte arrays (hex), typed arrays, Map, Set, Date,
 * boxed primitives, null-prototype objects and sparse arrays (the shapes fast-check's
 * `anything` makes for the NIC fuzzer).
 */

type Tagged = { $: string; [k: string]: unknown };

export function encodeInput(value: unknown): unknown {
  if (value === undefined) return { $: 'undefined' };
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return { $: 'number', v: 'NaN' };
    if (value === Infinity) return { $: 'number', v: 'Infinity' };
    if (value === -Infinity) return { $: 'number', v: '-Infinity' };
    if (Object.is(value, -0)) return { $: 'number', v: '-0' };
    return value;
  }
  if (typeof value === 'bigint') return { $: 'bigint', v: value.toString() };
  if (typeof value !== 'object') return { $: 'unsupported', v: String(value) };
  if (value instanceof Uint8Array && value.constructor === Uint8Array) return { $: 'bytes', hex: Buffer.from(value).toString('hex') };
  if (ArrayBuffer.isView(value)) {
    const view = value as unknown as { constructor: { name: string }; length?: number } & ArrayLike<number | bigint>;
    return { $: 'typed', type: view.constructor.name, items: Array.from(view, (x) => encodeInput(x)) };
  }
  if (value instanceof Date) return { $: 'date', v: Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString() };
  if (value instanceof Map) return { $: 'map', entries: [...value].map(([k, v]) => [encodeInput(k), encodeInput(v)]) };
  if (value instanceof Set) return { $: 'set', items: [...value].map((v) => encodeInput(v)) };
  if (value instanceof Number || value instanceof String || value instanceof Boolean) return { $: 'boxed', v: encodeInput(value.valueOf()) };
  if (Array.isArray(value)) {
    const dense = value.length === Object.keys(value).length;
    if (dense) return value.map((v) => encodeInput(v));
    return { $: 'sparse', length: value.length, items: Object.keys(value).map((k) => [Number(k), encodeInput(value[Number(k)])]) };
  }
  const proto = Object.getPrototypeOf(value);
  const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, encodeInput(v)]);
  if (proto === null) return { $: 'nullproto', entries };
  // A plain object with an own "$" (would read back as a tag) or "__proto__" key keeps its entries as a list.
  if (entries.some(([k]) => k === '$' || k === '__proto__')) return { $: 'object', entries };
  return Object.fromEntries(entries);
}

const TYPED: Record<string, new (items: ArrayLike<never>) => ArrayBufferView> = {
  Int8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array,
  Uint8Array,
} as unknown as Record<string, new (items: ArrayLike<never>) => ArrayBufferView>;

export function decodeInput(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => decodeInput(v));
  const t = value as Tagged;
  if (typeof t.$ !== 'string') return objectOf(Object.entries(t), Object.prototype);
  switch (t.$) {
    case 'undefined':
      return undefined;
    case 'number':
      return t.v === '-0' ? -0 : Number(t.v);
    case 'bigint':
      return BigInt(t.v as string);
    case 'bytes':
      return Uint8Array.from(Buffer.from(t.hex as string, 'hex'));
    case 'typed': {
      const C = TYPED[t.type as string];
      if (!C) throw new Error(`fuzz codec: unknown typed array ${String(t.type)}`);
      return new C((t.items as unknown[]).map((x) => decodeInput(x)) as never[]);
    }
    case 'date':
      return new Date(t.v === 'invalid' ? NaN : (t.v as string));
    case 'map':
      return new Map((t.entries as [unknown, unknown][]).map(([k, v]) => [decodeInput(k), decodeInput(v)]));
    case 'set':
      return new Set((t.items as unknown[]).map((v) => decodeInput(v)));
    case 'boxed':
      return Object(decodeInput(t.v));
    case 'sparse': {
      const a: unknown[] = new Array(t.length as number);
      for (const [i, v] of t.items as [number, unknown][]) a[i] = decodeInput(v);
      return a;
    }
    case 'nullproto':
      return objectOf(t.entries as [string, unknown][], null);
    case 'object':
      return objectOf(t.entries as [string, unknown][], Object.prototype);
    default:
      throw new Error(`fuzz codec: cannot decode a value tagged ${t.$}`);
  }
}

/** Own properties set with defineProperty: a key "__proto__" stays a key, as it was generated. */
function objectOf(entries: [string, unknown][], proto: object | null): Record<string, unknown> {
  const o = Object.create(proto) as Record<string, unknown>;
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: decodeInput(v), enumerable: true, writable: true, configurable: true });
  return o;
}
