// Reconnect and resume against a real Broker that is killed (SIGKILL) mid-stream and restarted on the same port
// and database: every event inserted before, during and after the outage arrives once, in order.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BrokerClient, insert } from '../src/index.js';
import { newUser, startBroker, waitUntil } from './support/broker.js';

const BEFORE = 20;
const DURING = 10;
const AFTER = 20;

test('survives a killed and restarted server without losing or repeating an event', async () => {
    let broker = await startBroker();
    const user = await newUser(broker);
    const received = [];
    const errors = [];
    let opens = 0;
    // Holds the client's requests back while closed, so that events surely land between two connections.
    let gate = Promise.resolve();
    let openGate = () => {};
    const gatedFetch = async (...args) => {
        await gate;
        return fetch(...args);
    };
    const client = new BrokerClient(`${broker.url}/sse`, { headers: { Authorization: `Bearer ${user.jwt}` } },
        { initialRetryMs: 100, maxRetryMs: 400, fetch: gatedFetch });
    client.onmessage = (event) => received.push({ id: event.lastEventId, data: JSON.parse(event.data) });
    client.onopen = () => opens++;
    client.onerror = (error) => errors.push(error);
    const inserted = [];
    try {
        await waitUntil(() => opens === 1, 10_000, 'the first open');
        for (let n = 0; n < BEFORE; n++) {
            inserted.push(await insert(broker.url, user.jwt, 'tick', { n }));
        }
        await waitUntil(() => received.length === BEFORE, 10_000, 'the events before the kill');

        gate = new Promise((resolve) => {
            openGate = resolve;
        });
        await broker.kill();
        await waitUntil(() => errors.length > 0, 10_000, 'the client to notice');
        assert.ok(errors.every((error) => error.retrying), 'lost connections are retried');

        broker = await startBroker({ port: broker.port, db: broker.db });
        // Inserted while the client cannot reconnect: only the resume from Last-Event-ID brings them.
        for (let n = BEFORE; n < BEFORE + DURING; n++) {
            inserted.push(await insert(broker.url, user.jwt, 'tick', { n }));
        }
        openGate();
        await waitUntil(() => opens >= 2, 10_000, 'the reconnect');
        for (let n = BEFORE + DURING; n < BEFORE + DURING + AFTER; n++) {
            inserted.push(await insert(broker.url, user.jwt, 'tick', { n }));
        }
        await waitUntil(() => received.length >= inserted.length, 15_000, 'every event');
        // Anything repeated would arrive right behind the last one: give it a moment to show.
        await new Promise((done) => setTimeout(done, 200));

        assert.deepEqual(received, inserted.map((event, n) => ({ id: event.id, data: { n } })));
        const ids = received.map((event) => BigInt(event.id));
        assert.ok(ids.every((id, i) => i === 0 || id > ids[i - 1]), 'ids strictly increase');
        assert.equal(client.lastEventId, inserted.at(-1).id);
        assert.equal(client.readyState, BrokerClient.OPEN);
    } finally {
        client.close();
        await broker.stop();
    }
});
