// Against a real Broker: a recorded stream through the parser at every split point, the drop-in API of
// broker-client, the helpers, and a 401 that stops the client.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import BrokerClientDefault, { BrokerClient, BrokerError, basic, insert, login, verify } from '../src/index.js';
import { startBroker, newUser, tempDir, waitUntil } from './support/broker.js';
import { chunkings, parseChunks } from './support/chunks.js';

let broker;

before(async () => {
    broker = await startBroker({ flags: ['--heartbeat', '1'] });
});

after(async () => {
    await broker?.stop();
});

/** Reads `/sse` raw until `done(text)` says enough; returns the bytes exactly as they came. */
async function record(user, done) {
    const controller = new AbortController();
    const response = await fetch(`${broker.url}/sse`, {
        headers: { Authorization: `Bearer ${user.jwt}` },
        signal: controller.signal,
    });
    assert.equal(response.status, 200);
    const reader = response.body.getReader();
    const parts = [];
    const decoder = new TextDecoder();
    let text = '';
    while (!done(text)) {
        const { value, done: ended } = await reader.read();
        assert.ok(!ended, 'the stream ended early');
        parts.push(value);
        text += decoder.decode(value, { stream: true });
    }
    controller.abort();
    const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
    let at = 0;
    for (const part of parts) {
        bytes.set(part, at);
        at += part.length;
    }
    return bytes;
}

test('a stream recorded from Broker parses the same at every split point', async () => {
    const user = await newUser(broker);
    // Event names travel as raw UTF-8 (data is \u-escaped by the server): multi-byte characters in the bytes.
    const inserted = [];
    for (const [event, data] of [
        ['température 🌡', { celsius: 21.5 }],
        ['greeting', { text: 'héllo 😀', lines: 'a\nb' }],
        ['日本語', [1, null, true]],
        ['greeting', { text: 'second' }],
    ]) {
        inserted.push(await insert(broker.url, user.jwt, event, data));
    }
    const live = insert(broker.url, user.jwt, 'live 🎉', { n: 1 });
    // The snapshot (the latest of each name: 3), one live event, and at least one heartbeat comment.
    const bytes = await record(user, (text) => (text.match(/\n\n/g) ?? []).length >= 5 && /^:/m.test(text));
    inserted.push(await live);

    const whole = parseChunks([bytes]);
    const latest = [inserted[0], inserted[2], inserted[3], inserted[4]];
    assert.deepEqual(whole.events.map((event) => [event.type, event.id]), latest.map((e) => [e.event, e.id]));
    assert.deepEqual(JSON.parse(whole.events[2].data), { text: 'second' });
    assert.ok(whole.comments.length >= 1, 'a heartbeat comment');

    for (let i = 0; i <= bytes.length; i++) {
        assert.deepEqual(parseChunks([bytes.subarray(0, i), bytes.subarray(i)]), whole, `split at ${i}`);
    }
    for (const chunks of chunkings(bytes, 200, 42)) {
        assert.deepEqual(parseChunks(chunks), whole);
    }
    assert.deepEqual(parseChunks([...bytes].map((byte) => Uint8Array.of(byte))), whole);
});

test('drop-in for broker-client: default export, listeners get MessageEvents with the JSON text and id', async () => {
    assert.equal(BrokerClientDefault, BrokerClient);
    const user = await newUser(broker);
    await insert(broker.url, user.jwt, 'greeting', { n: 1 });
    const status = await insert(broker.url, user.jwt, 'status', { s: 'é😀 "quoted"', ok: true });
    const greeting = await insert(broker.url, user.jwt, 'greeting', { n: 2 });

    const received = [];
    const all = [];
    const client = new BrokerClientDefault(`${broker.url}/sse`, { headers: { Authorization: `Bearer ${user.jwt}` } });
    try {
        for (const name of ['greeting', 'status', 'live']) {
            client.addEventListener(name, (event) => received.push(event));
        }
        client.onmessage = (event) => all.push(event.type);
        let opened = 0;
        client.onopen = () => opened++;
        await waitUntil(() => received.length === 2, 10_000, 'the snapshot');
        assert.equal(opened, 1);
        assert.equal(client.readyState, BrokerClient.OPEN);
        assert.equal(client.readState, BrokerClient.OPEN);
        const live = await insert(broker.url, user.jwt, 'live', [1, { x: null }]);
        await waitUntil(() => received.length === 3, 10_000, 'the live event');

        assert.ok(received.every((event) => event instanceof MessageEvent));
        assert.deepEqual(received.map((event) => [event.type, event.lastEventId, JSON.parse(event.data)]), [
            ['status', status.id, { s: 'é😀 "quoted"', ok: true }],
            ['greeting', greeting.id, { n: 2 }],
            ['live', live.id, [1, { x: null }]],
        ]);
        assert.deepEqual(all, ['status', 'greeting', 'live']);
        assert.equal(client.lastEventId, live.id);
        assert.deepEqual(Object.keys(client.state).sort(), ['greeting', 'live', 'status']);
        assert.deepEqual(client.state.status.value, { s: 'é😀 "quoted"', ok: true });
        assert.equal(client.state.live.id, live.id);
    } finally {
        client.close();
    }
    assert.equal(client.readyState, BrokerClient.CLOSED);
});

test('the server\'s own broker-client probe runs unchanged with this package in place of broker-client', async () => {
    // The script the server's BrokerClientCompatibilityTest runs against broker-client 0.0.8, here importing this
    // package under broker-client's name.
    const probe = fileURLToPath(new URL(
        '../../../broker-server/src/test/resources/node/broker-client-probe.mjs', import.meta.url));
    const dir = tempDir('broker-js-probe-');
    mkdirSync(join(dir, 'broker-client'));
    const client = pathToFileURL(fileURLToPath(new URL('../src/index.js', import.meta.url))).href;
    writeFileSync(join(dir, 'broker-client', 'index.js'), `export { default } from ${JSON.stringify(client)};\n`);
    writeFileSync(join(dir, 'package.json'), '{"private":true,"type":"module"}\n');
    copyFileSync(probe, join(dir, 'broker-client-probe.mjs'));

    const user = await newUser(broker);
    const status = await insert(broker.url, user.jwt, 'status', { s: 'é😀' });
    const greeting = await insert(broker.url, user.jwt, 'greeting', { n: 2 });
    const run = promisify(execFile)(process.execPath,
        ['broker-client-probe.mjs', `${broker.url}/sse`, user.jwt, '3', '15000', 'greeting', 'status', 'live'],
        { cwd: dir });
    // The live event goes in once the snapshot is out; inserting it early would only put it in the snapshot.
    const lines = [];
    run.child.stdout.on('data', (text) => lines.push(...String(text).trim().split('\n')));
    await waitUntil(() => lines.length >= 2, 10_000, 'the snapshot from the probe');
    const live = await insert(broker.url, user.jwt, 'live', [1]);
    const { stdout } = await run;
    assert.deepEqual(stdout.trim().split('\n').map((line) => JSON.parse(line)), [
        { event: 'status', data: '{"s":"\\u00E9\\uD83D\\uDE00"}', lastEventId: status.id },
        { event: 'greeting', data: '{"n":2}', lastEventId: greeting.id },
        { event: 'live', data: '[1]', lastEventId: live.id },
    ]);
});

test('state changes notify subscribers with a new snapshot; unchanged state keeps its identity', async () => {
    const user = await newUser(broker);
    const client = new BrokerClient(`${broker.url}/sse`, { headers: basic(user.username, user.password) });
    try {
        const seen = [];
        const unsubscribe = client.subscribe((state) => seen.push(state));
        const before = client.state;
        assert.deepEqual(before, {});
        assert.equal(client.getState(), before);
        await waitUntil(() => client.readyState === BrokerClient.OPEN, 10_000, 'open');
        await insert(broker.url, user, 'counter', 1);
        await insert(broker.url, user, 'counter', 2);
        await waitUntil(() => seen.length === 2, 10_000, 'two changes');
        assert.notEqual(seen[0], seen[1]);
        assert.equal(seen[1], client.state);
        assert.equal(client.state.counter.value, 2);
        assert.ok(Object.isFrozen(client.state));
        unsubscribe();
        await insert(broker.url, user, 'other', 'x');
        await waitUntil(() => client.state.other, 10_000, 'the third event');
        assert.equal(seen.length, 2, 'no call after unsubscribe');
    } finally {
        client.close();
    }
});

test('login, insert and verify speak the contract with Bearer and Basic', async () => {
    const user = await newUser(broker);
    const jwt = await login(broker.url, { username: user.username, password: user.password });
    assert.match(jwt, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.deepEqual(await verify(broker.url, jwt), { username: user.username, tenant_name: user.tenant });
    assert.deepEqual(await verify(`${broker.url}/`, { username: user.username, password: user.password }),
        { username: user.username, tenant_name: user.tenant });
    const inserted = await insert(broker.url, { token: jwt }, 'e', { a: 1 });
    assert.match(inserted.id, /^\d+$/);
    assert.equal(inserted.event, 'e');

    await assert.rejects(login(broker.url, { username: user.username, password: 'wrong' }),
        (error) => error instanceof BrokerError && error.status === 401 && /\/login answered 401/.test(error.message));
    await assert.rejects(insert(broker.url, jwt, '', 1),
        (error) => error.status === 400 && typeof error.body.error === 'string');
});

test('a 401 stops the client and reports the status', async () => {
    const errors = [];
    let requests = 0;
    const client = new BrokerClient(`${broker.url}/sse`, { headers: { Authorization: 'Bearer not-a-jwt' } }, {
        initialRetryMs: 10,
        fetch: (...args) => {
            requests++;
            return fetch(...args);
        },
    });
    client.onerror = (error) => errors.push(error);
    await waitUntil(() => errors.length === 1, 10_000, 'the error');
    assert.equal(errors[0].status, 401);
    assert.equal(errors[0].retrying, false);
    assert.ok(errors[0] instanceof BrokerError);
    assert.equal(client.readyState, BrokerClient.CLOSED);
    // Give a wrongly scheduled retry (10 ms base) ample time to show itself.
    await new Promise((done) => setTimeout(done, 300));
    assert.equal(requests, 1);
    assert.equal(errors.length, 1);
});
