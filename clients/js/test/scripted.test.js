// What a healthy Broker never does, from a scripted server: a silent stream (the watchdog), a repeated event
// (dedup), retry:, 429 and 5xx (retried), other 4xx and a wrong content type (final), and close() leaving nothing.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { BrokerClient } from '../src/index.js';
import { waitUntil } from './support/broker.js';
import { errorAnswer, scriptedServer, stream } from './support/scripted-server.js';

function collect(client) {
    const received = [];
    const errors = [];
    client.onmessage = (event) => received.push([event.type, event.lastEventId, event.data]);
    client.onerror = (error) => errors.push(error);
    return { received, errors };
}

test('the watchdog reconnects a silent stream, resumes after the last id and drops a repeated event', async () => {
    const server = await scriptedServer([
        // One event, then silence: no heartbeat, no end.
        (request, response) => stream(response, 'id:7\nevent:tick\ndata:{"n":1}\n\n'),
        // The resumed stream repeats event 7 (a server would not, but the client must not deliver it twice), then
        // beats, so that it stays the only reconnect.
        (request, response) => {
            stream(response, 'id:7\nevent:tick\ndata:{"n":1}\n\nid:8\nevent:tick\ndata:{"n":2}\n\n');
            const beat = setInterval(() => response.write(':\n\n'), 100);
            response.on('close', () => clearInterval(beat));
        },
    ]);
    const client = new BrokerClient(server.url, { headers: { Authorization: 'Bearer t' } },
        { watchdogMs: 1_000, initialRetryMs: 10 });
    const { received, errors } = collect(client);
    try {
        await waitUntil(() => received.length === 2, 10_000, 'the event after the reconnect');
        assert.deepEqual(received, [['tick', '7', '{"n":1}'], ['tick', '8', '{"n":2}']]);
        assert.equal(errors.length, 1);
        assert.equal(errors[0].code, 'watchdog');
        assert.equal(errors[0].retrying, true);
        assert.equal(server.requests.length, 2);
        assert.equal(server.requests[0]['last-event-id'], undefined);
        assert.equal(server.requests[1]['last-event-id'], '7');
        assert.equal(server.requests[1].authorization, 'Bearer t', 'init.headers on every request');
        assert.equal(server.requests[1].accept, 'text/event-stream');
    } finally {
        client.close();
        await server.close();
    }
});

test('heartbeat comments keep the watchdog quiet', async () => {
    let beat;
    const server = await scriptedServer([(request, response) => {
        stream(response, 'id:1\nevent:tick\ndata:1\n\n');
        beat = setInterval(() => response.write(':\n\n'), 100);
        response.on('close', () => clearInterval(beat));
    }]);
    const client = new BrokerClient(server.url, {}, { heartbeatMs: 400, watchdogFactor: 2.5 });
    const { received, errors } = collect(client);
    try {
        await waitUntil(() => received.length === 1, 10_000, 'the event');
        // Three watchdog periods (1 s each) of heartbeats only.
        await new Promise((done) => setTimeout(done, 3_000));
        assert.deepEqual(errors, []);
        assert.equal(server.requests.length, 1);
    } finally {
        clearInterval(beat);
        client.close();
        await server.close();
    }
});

test('an ended stream is resumed, waiting as the server\'s retry: field says', async () => {
    const server = await scriptedServer([
        (request, response) => {
            stream(response, 'retry:200\nid:1\nevent:a\ndata:1\n\n');
            response.end();
        },
        (request, response) => stream(response, 'id:2\nevent:a\ndata:2\n\n'),
    ]);
    // random() near 1: the wait is just under the base the server set (200 ms), not the client's 5 ms.
    const client = new BrokerClient(server.url, {}, { initialRetryMs: 5, random: () => 0.99 });
    const { received, errors } = collect(client);
    const started = Date.now();
    try {
        await waitUntil(() => received.length === 2, 10_000, 'the second event');
        assert.ok(Date.now() - started >= 190, `reconnected after ${Date.now() - started} ms`);
        assert.equal(errors[0].code, 'eof');
        assert.equal(server.requests[1]['last-event-id'], '1');
        assert.deepEqual(received.map(([, id]) => id), ['1', '2']);
    } finally {
        client.close();
        await server.close();
    }
});

test('503 and 429 are retried (Retry-After respected), then the stream opens', async () => {
    const server = await scriptedServer([
        errorAnswer(503, { 'Retry-After': '0' }),
        errorAnswer(429, { 'Retry-After': '0' }),
        (request, response) => stream(response, 'id:1\nevent:a\ndata:1\n\n'),
    ]);
    const client = new BrokerClient(server.url, {}, { initialRetryMs: 10 });
    const { received, errors } = collect(client);
    try {
        await waitUntil(() => received.length === 1, 10_000, 'the event');
        assert.deepEqual(errors.map((error) => [error.status, error.retrying]), [[503, true], [429, true]]);
        assert.match(errors[0].message, /scripted 503/);
        assert.equal(client.readyState, BrokerClient.OPEN);
    } finally {
        client.close();
        await server.close();
    }
});

test('a 403, or a 200 that is no event stream, stops the client for good', async () => {
    for (const [handler, status, code] of [
        [errorAnswer(403), 403, 'http'],
        [(request, response) => response.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>'), 200,
            'content-type'],
    ]) {
        const server = await scriptedServer([handler]);
        const client = new BrokerClient(server.url, {}, { initialRetryMs: 10 });
        const { errors } = collect(client);
        try {
            await waitUntil(() => errors.length === 1, 10_000, 'the error');
            assert.equal(errors[0].status, status);
            assert.equal(errors[0].code, code);
            assert.equal(errors[0].retrying, false);
            assert.equal(client.readyState, BrokerClient.CLOSED);
            await new Promise((done) => setTimeout(done, 200));
            assert.equal(server.requests.length, 1, 'no retry');
        } finally {
            client.close();
            await server.close();
        }
    }
});

test('headers that are no valid header values stop the client, reported to handlers set after the constructor', async () => {
    const server = await scriptedServer([(request, response) => stream(response)]);
    const client = new BrokerClient(server.url, { headers: { 'X-Broken': 'a\nb' } }, { initialRetryMs: 10 });
    const { errors } = collect(client);
    try {
        await waitUntil(() => errors.length === 1, 10_000, 'the error');
        assert.equal(errors[0].code, 'request');
        assert.equal(errors[0].retrying, false);
        assert.equal(client.readyState, BrokerClient.CLOSED);
        assert.equal(server.requests.length, 0);
    } finally {
        client.close();
        await server.close();
    }
});

test('back-off without server help: full jitter below a ceiling that doubles up to maxRetryMs', async () => {
    // random() = 0 makes every wait 0 ms whatever the base: many attempts in little time prove the jitter is
    // drawn from random() (a fixed 60 s base would otherwise allow one attempt only).
    const server = await scriptedServer([errorAnswer(502)]);
    const client = new BrokerClient(server.url, {}, { initialRetryMs: 60_000, random: () => 0 });
    try {
        await waitUntil(() => server.requests.length >= 5, 10_000, 'five attempts');
    } finally {
        client.close();
        await server.close();
    }
});

test('aborting the signal of init closes the client', async () => {
    const server = await scriptedServer([(request, response) => stream(response, 'id:1\nevent:a\ndata:1\n\n')]);
    const controller = new AbortController();
    const client = new BrokerClient(server.url, { signal: controller.signal }, { initialRetryMs: 10 });
    const { received, errors } = collect(client);
    try {
        await waitUntil(() => received.length === 1, 10_000, 'the event');
        controller.abort();
        assert.equal(client.readyState, BrokerClient.CLOSED);
        await new Promise((done) => setTimeout(done, 200));
        assert.deepEqual(errors, []);
        assert.equal(server.requests.length, 1, 'no reconnect');
    } finally {
        client.close();
        await server.close();
    }
});

test('close() leaves no timer, request or stream behind: the process exits by itself', async () => {
    const server = await scriptedServer([(request, response) => stream(response, 'id:1\nevent:tick\ndata:1\n\n')]);
    const retrying = await scriptedServer([errorAnswer(503)]);
    try {
        const probe = fileURLToPath(new URL('./support/close-probe.js', import.meta.url));
        const child = spawn(process.execPath, [probe, server.url, retrying.url], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (text) => {
            out += text;
        });
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        const [code, signal] = await once(child, 'exit');
        clearTimeout(timer);
        assert.equal(signal, null, 'the probe had to be killed: something kept it alive after close()');
        assert.equal(code, 0);
        assert.deepEqual(JSON.parse(out), { reading: BrokerClient.CLOSED, retrying: BrokerClient.CLOSED });
    } finally {
        await server.close();
        await retrying.close();
    }
});
