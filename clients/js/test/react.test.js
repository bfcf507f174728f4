// The React hooks (./react entry point) with react-test-renderer: components follow the client's state, given the
// client or under a BrokerProvider, and a component watching one name does not re-render for others.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createElement } from 'react';
import TestRenderer from 'react-test-renderer';
import { BrokerClient } from '@broker-dev/client';
import { BrokerProvider, useBrokerEvent, useBrokerState } from '@broker-dev/client/react';
import { waitUntil } from './support/broker.js';
import { scriptedServer, stream } from './support/scripted-server.js';

globalThis.IS_REACT_ACT_ENVIRONMENT = true;
const { act, create } = TestRenderer;

test('useBrokerEvent and useBrokerState render the latest events, with a client or a BrokerProvider', async () => {
    let send;
    const server = await scriptedServer([(request, response) => {
        stream(response);
        send = (text) => response.write(text);
    }]);
    const client = new BrokerClient(server.url);
    const renders = { score: 0, other: 0 };
    function Score() {
        renders.score++;
        const score = useBrokerEvent(client, 'score');
        return createElement('p', null, score ? `score ${score.value.points} (#${score.id})` : 'no score yet');
    }
    function Other() {
        renders.other++;
        const other = useBrokerEvent('other'); // the client of the BrokerProvider
        return createElement('p', null, other ? `other ${other.data}` : 'no other yet');
    }
    function Names() {
        const state = useBrokerState(); // the client of the BrokerProvider
        return createElement('p', null, Object.keys(state).join(','));
    }
    let root;
    try {
        await act(() => {
            root = create(createElement(BrokerProvider, { client },
                createElement('div', null, createElement(Score), createElement(Other), createElement(Names))));
        });
        const texts = () => root.root.findAllByType('p').map((p) => p.children.join(''));
        assert.deepEqual(texts(), ['no score yet', 'no other yet', '']);

        await waitUntil(() => send, 10_000, 'the stream');
        const changed = (n) => new Promise((resolve) => {
            const unsubscribe = client.subscribe((state) => {
                if (Object.keys(state).length + (state.score?.value.points ?? 0) >= n) {
                    unsubscribe();
                    resolve();
                }
            });
        });
        await act(async () => {
            const seen = changed(1 + 1);
            send('id:1\nevent:score\ndata:{"points":1}\n\n');
            await seen;
        });
        assert.deepEqual(texts(), ['score 1 (#1)', 'no other yet', 'score']);
        const otherRenders = renders.other;
        await act(async () => {
            const seen = changed(1 + 2);
            send('id:2\nevent:score\ndata:{"points":2}\n\n');
            await seen;
        });
        assert.deepEqual(texts(), ['score 2 (#2)', 'no other yet', 'score']);
        assert.equal(renders.other, otherRenders, 'Other does not re-render for score events');
        await act(async () => {
            const seen = changed(2 + 2);
            send('id:3\nevent:other\ndata:"x"\n\n');
            await seen;
        });
        assert.deepEqual(texts(), ['score 2 (#2)', 'other "x"', 'score,other']);
    } finally {
        await act(() => root?.unmount());
        client.close();
        await server.close();
    }
});
