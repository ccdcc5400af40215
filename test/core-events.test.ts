/**
 * Delivery of state changes: the open() callback, on('state'), the async iterator and
 * connected() see the same ordered changes; a throwing callback harms nobody; callbacks run
 * after the transition that made their change, never inside it; waits end on close/abort.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { AbortError, ClosedError, NetState, stateName } from '../src/index.js';
import type { IpTable, NetInterface, StateChange } from '../src/index.js';
import { assertChangeInvariants, closeAndCheck, recordingLogger, recorder, simNetwork, until, untilState } from './helpers/sim.js';

/** Collects a handle's changes through its async iterator, in the background. */
function iterate(iface: NetInterface, signal?: AbortSignal): { changes: StateChange[]; done: Promise<void> } {
  const changes: StateChange[] = [];
  const done = (async () => {
    for await (const c of iface.changes(signal ? { signal } : {})) changes.push(c);
  })();
  return { changes, done };
}

/**
 * Runs `fn` with the process's uncaughtException handlers (node:test's among them)
 * replaced by one that collects: a throwing user callback is rethrown outside the
 * transition, where it surfaces as an uncaught exception.
 */
async function collectingUncaught(fn: (errors: unknown[]) => Promise<void>): Promise<unknown[]> {
  const errors: unknown[] = [];
  const saved = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  const collect = (err: unknown) => void errors.push(err);
  process.on('uncaughtException', collect);
  try {
    await fn(errors);
  } finally {
    process.off('uncaughtException', collect);
    for (const l of saved) process.on('uncaughtException', l);
  }
  return errors;
}

describe('four ways to see changes', () => {
  test('callback, on("state"), changes() and connected() see the same ordered changes', async () => {
    const { world, net } = await simNetwork();
    const viaCallback = recorder();
    const eth = net.open({ interface: 'eth0' }, viaCallback.onState);
    const viaEvent: StateChange[] = [];
    eth.on('state', (c) => viaEvent.push(c));
    const viaIterator = iterate(eth);
    const connectedEvents: IpTable[] = [];
    eth.on('connected', (t) => connectedEvents.push(t));
    let atConnected: StateChange[] | undefined;
    const connected = eth.connected().then((table) => {
      atConnected = [...viaEvent];
      return table;
    });

    const table = await (async () => {
      await untilState(world, eth, NetState.CONNECTED);
      return connected;
    })();
    assert.deepEqual(table, eth.ipTable());
    assert.equal(table.ipv4.address, '192.168.1.100');
    assert.equal(atConnected?.at(-1)?.state, NetState.CONNECTED, 'connected() resolves once CONNECTED was delivered');
    assert.deepEqual(connectedEvents, [table]);

    world.setCable('eth0', false);
    await untilState(world, eth, NetState.ETHERNET_STOPPED_NO_LINK);
    world.setCable('eth0', true);
    await untilState(world, eth, NetState.CONNECTED);
    await eth.close();
    await viaIterator.done;

    const names = viaCallback.changes.map((c) => c.name);
    assert.deepEqual(names, [
      'STARTING',
      'ETHERNET_LINK_UP',
      'ETHERNET_DHCPING',
      'CONNECTED',
      'ETHERNET_STOPPED_NO_LINK',
      'ETHERNET_LINK_UP',
      'ETHERNET_DHCPING',
      'CONNECTED',
      'ETHERNET_STOPPED',
    ]);
    assert.deepEqual(viaEvent, viaCallback.changes);
    assert.deepEqual(viaIterator.changes, viaCallback.changes);
    for (let i = 0; i < viaEvent.length; i++) assert.equal(viaEvent[i], viaCallback.changes[i], 'the same change objects');
    assert.equal(connectedEvents.length, 2, "'connected' after each CONNECTED");
    assertChangeInvariants(viaCallback.changes, { ifname: 'eth0' });
    await closeAndCheck(world, eth);
  });

  test('two handles on one interface see the same changes in the same order', async () => {
    const { world, net } = await simNetwork('no-cable');
    const ra = recorder();
    const rb = recorder();
    const a = net.open({ interface: 'eth0' }, ra.onState);
    const b = net.open({ interface: 'eth0' }, rb.onState);
    await world.run(1000);
    world.setCable('eth0', true);
    await untilState(world, a, NetState.CONNECTED);
    await world.run(1000);
    // b was opened before STARTING was delivered, so it sees that too.
    assert.deepEqual(rb.changes, ra.changes);
    assert.deepEqual(rb.steps(), ['STARTING opened', 'ETHERNET_STOPPED_NO_LINK no-carrier', 'ETHERNET_LINK_UP carrier', 'ETHERNET_DHCPING dhcp-started', 'CONNECTED dhcp-bound']);
    const c = net.open({ interface: 'eth0' });
    const rc: StateChange[] = [];
    c.on('state', (x) => rc.push(x));
    world.setCable('eth0', false);
    await untilState(world, a, NetState.ETHERNET_STOPPED_NO_LINK);
    assert.deepEqual(rc, [ra.last()], 'a later handle sees changes from its open on');
    await closeAndCheck(world, a, b, c);
  });

  test('the diagnostics channel "nicup:state" carries the same changes', async () => {
    const { subscribe, unsubscribe } = await import('node:diagnostics_channel');
    const published: unknown[] = [];
    const onMessage = (m: unknown) => void published.push(m);
    subscribe('nicup:state', onMessage);
    try {
      const { world, net } = await simNetwork();
      const rec = recorder();
      const eth = net.open({ interface: 'eth0' }, rec.onState);
      await untilState(world, eth, NetState.CONNECTED);
      await eth.close();
      assert.deepEqual(published, rec.changes);
      await closeAndCheck(world, eth);
    } finally {
      unsubscribe('nicup:state', onMessage);
    }
  });
});

describe('callbacks and transitions', () => {
  test('a callback that throws stops neither the other listeners (same or other handle) nor the state', async () => {
    const logger = recordingLogger();
    const { world, net } = await simNetwork('default', { logger });
    let thrown = 0;
    const viaEvent: StateChange[] = [];
    const other = recorder();
    let iterated: { changes: StateChange[]; done: Promise<void> } | undefined;
    let table: IpTable | undefined;
    let eth: NetInterface | undefined;
    const errors = await collectingUncaught(async () => {
      eth = net.open({ interface: 'eth0' }, () => {
        thrown++;
        throw new Error(`callback failure ${thrown}`);
      });
      eth.on('state', (c) => viaEvent.push(c));
      iterated = iterate(eth);
      void eth.connected().then((t) => (table = t));
      const b = net.open({ interface: 'eth0' }, other.onState);
      await untilState(world, eth, NetState.CONNECTED);
      await until(world, () => table !== undefined, 'connected() of the handle whose callback throws resolves', 5000);
      await b.close();
      await eth.close();
      await iterated.done;
      await world.run(10);
    });
    assert.ok(eth);
    const names = viaEvent.map((c) => c.name);
    assert.deepEqual(names, ['STARTING', 'ETHERNET_LINK_UP', 'ETHERNET_DHCPING', 'CONNECTED', 'ETHERNET_STOPPED']);
    assert.equal(thrown, 5, 'the callback itself was called for every change');
    assert.deepEqual(iterated?.changes, viaEvent, 'the iterator of the same handle saw every change');
    assert.equal(table?.ipv4.address, '192.168.1.100', 'connected() of the same handle resolved');
    assert.deepEqual(other.steps(), ['STARTING opened', 'ETHERNET_LINK_UP carrier', 'ETHERNET_DHCPING dhcp-started', 'CONNECTED dhcp-bound']);
    assert.equal(eth.state, NetState.ETHERNET_STOPPED);
    assert.deepEqual(
      errors.map((e) => (e as Error).message),
      [1, 2, 3, 4, 5].map((n) => `callback failure ${n}`),
      'each error surfaces once, outside the transition',
    );
    assert.equal(logger.lines.filter((l) => l.startsWith('error ') && l.includes('callback failure')).length, 5, 'and is logged');
    assertChangeInvariants(viaEvent, { ifname: 'eth0' });
    await closeAndCheck(world, eth);
  });

  test('an on("state") listener that throws does not starve connected() or the iterator', async () => {
    const { world, net } = await simNetwork();
    let eth: NetInterface | undefined;
    let table: IpTable | undefined;
    let iterated: { changes: StateChange[]; done: Promise<void> } | undefined;
    const errors = await collectingUncaught(async () => {
      eth = net.open({ interface: 'eth0' });
      eth.on('state', () => {
        throw new Error('listener failure');
      });
      iterated = iterate(eth);
      void eth.connected().then((t) => (table = t));
      await untilState(world, eth, NetState.CONNECTED);
      await until(world, () => table !== undefined, 'connected() resolves despite a throwing listener', 5000);
      await eth.close();
      await iterated.done;
      await world.run(10);
    });
    assert.ok(eth);
    assert.equal(table?.ipv4.address, '192.168.1.100');
    assert.deepEqual(iterated?.changes.map((c) => c.name), ['STARTING', 'ETHERNET_LINK_UP', 'ETHERNET_DHCPING', 'CONNECTED', 'ETHERNET_STOPPED']);
    assert.ok(errors.length > 0 && errors.every((e) => (e as Error).message === 'listener failure'));
    await closeAndCheck(world, eth);
  });

  test('callbacks never run inside a transition: iface.state and reason inside a callback are those of its change', async () => {
    for (const nic of [{ interface: 'eth0' }, { interface: 'wl0', wificonfig: { ssid: 'Network', key: 'Password' } }, { interface: 'cell0' }]) {
      const { world, net } = await simNetwork();
      const mismatches: string[] = [];
      const seen: string[] = [];
      // The callback reads `iface`: it runs after open() returned (a call inside open would hit the TDZ).
      const check = (c: StateChange, via: string) => {
        seen.push(`${via} ${c.name}`);
        if (iface.state !== c.state || iface.reason !== c.reason) {
          mismatches.push(`${via}: change ${c.name} (${c.reason}) but iface.state ${stateName(iface.state)} (${iface.reason})`);
        }
      };
      const iface: NetInterface = net.open(nic, (_s, c) => check(c, 'callback'));
      iface.on('state', (c) => check(c, 'event'));
      await untilState(world, iface, NetState.CONNECTED, 30_000);
      world.setCable('eth0', false);
      await world.run(2000);
      await iface.close();
      assert.ok(seen.includes('callback STARTING'), 'iface was set before the first callback');
      assert.deepEqual(mismatches, [], `${iface.name}: callbacks saw a later state`);
      await closeAndCheck(world, iface);
    }
  });

  test('a transition made from inside a callback is delivered after it, in order', async () => {
    const { world, net } = await simNetwork();
    const rec = recorder();
    const order: string[] = [];
    const eth: NetInterface = net.open({ interface: 'eth0' }, (s, c) => {
      rec.onState(s, c);
      order.push(`begin ${c.name}`);
      if (s === NetState.CONNECTED) void eth.close();
      order.push(`end ${c.name}`);
    });
    await until(world, () => eth.state === NetState.ETHERNET_STOPPED, 'closed from the callback');
    await world.run(10);
    assert.deepEqual(order.slice(-4), ['begin CONNECTED', 'end CONNECTED', 'begin ETHERNET_STOPPED', 'end ETHERNET_STOPPED']);
    assertChangeInvariants(rec.changes, { ifname: 'eth0' });
    await closeAndCheck(world, eth);
  });
});

describe('connected() and iterators', () => {
  test('connected() resolves at once when already CONNECTED', async () => {
    const { world, net } = await simNetwork();
    const eth = net.open({ interface: 'eth0' });
    await untilState(world, eth, NetState.CONNECTED);
    const t = await eth.connected();
    assert.deepEqual(t, eth.ipTable());
    await closeAndCheck(world, eth);
  });

  test('connected() rejects with AbortError on abort (and at once for an aborted signal)', async () => {
    const { world, net } = await simNetwork('no-cable');
    const eth = net.open({ interface: 'eth0' });
    const ac = new AbortController();
    const waiting = eth.connected({ signal: ac.signal });
    await world.run(5000);
    ac.abort(new Error('user gave up'));
    await assert.rejects(waiting, (err: unknown) => {
      assert.ok(err instanceof AbortError);
      assert.equal(err.code, 'NICUP_ABORTED');
      assert.equal((err.cause as Error).message, 'user gave up');
      return true;
    });
    await assert.rejects(eth.connected({ signal: AbortSignal.abort() }), AbortError);
    assert.equal(eth.listenerCount('state'), 0, 'aborted waits leave no listener behind');
    assert.equal(eth.state, NetState.ETHERNET_STOPPED_NO_LINK, 'aborting a wait does not touch the interface');
    await closeAndCheck(world, eth);
  });

  test('connected() rejects with ClosedError on close, and on a closed handle', async () => {
    const { world, net } = await simNetwork('no-cable');
    const eth = net.open({ interface: 'eth0' });
    const waiting = eth.connected();
    await world.run(5000);
    const closing = eth.close();
    await assert.rejects(waiting, ClosedError);
    await closing;
    await assert.rejects(eth.connected(), (err: unknown) => err instanceof ClosedError && err.code === 'NICUP_CLOSED');
    await closeAndCheck(world, eth);
  });

  test('connected() of one handle rejects with ClosedError when the interface stops under it', async () => {
    const { world, net } = await simNetwork('no-cable');
    const a = net.open({ interface: 'eth0' });
    const waiting = a.connected();
    await world.run(1000);
    await net.close();
    await assert.rejects(waiting, ClosedError);
    await closeAndCheck(world, a);
  });

  test('iterators end on close (after the STOPPED change) and on abort; on a closed handle at once', async () => {
    const { world, net } = await simNetwork();
    const eth = net.open({ interface: 'eth0' });
    const ac = new AbortController();
    const untilAbort = iterate(eth, ac.signal);
    const untilClose = iterate(eth);
    await untilState(world, eth, NetState.CONNECTED);
    ac.abort();
    await untilAbort.done;
    assert.deepEqual(untilAbort.changes.map((c) => c.name), ['STARTING', 'ETHERNET_LINK_UP', 'ETHERNET_DHCPING', 'CONNECTED']);
    await eth.close();
    await untilClose.done;
    assert.deepEqual(untilClose.changes.map((c) => c.name), ['STARTING', 'ETHERNET_LINK_UP', 'ETHERNET_DHCPING', 'CONNECTED', 'ETHERNET_STOPPED']);
    const after = iterate(eth);
    await after.done;
    assert.deepEqual(after.changes, []);
    assert.equal(eth.listenerCount('state'), 0, 'finished iterators leave no listener behind');
    await closeAndCheck(world, eth);
  });

  test('`for await (const c of iface)` works too', async () => {
    const { world, net } = await simNetwork();
    const eth = net.open({ interface: 'eth0' });
    const names: string[] = [];
    const loop = (async () => {
      for await (const c of eth) {
        names.push(c.name);
        if (c.state === NetState.CONNECTED) break;
      }
    })();
    await untilState(world, eth, NetState.CONNECTED);
    await loop;
    assert.deepEqual(names, ['STARTING', 'ETHERNET_LINK_UP', 'ETHERNET_DHCPING', 'CONNECTED']);
    assert.equal(eth.listenerCount('state'), 0, 'break releases the listener');
    await closeAndCheck(world, eth);
  });
});
