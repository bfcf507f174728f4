// Type-checked (never run) by types.test.js: the hand-written declarations accept what the README shows and
// reject misuse.
import BrokerClient, { BrokerClient as Named, BrokerError, basic, bearer, insert, login, verify } from '@broker-dev/client';
import type { BrokerState, BrokerStateEntry } from '@broker-dev/client';
import { BrokerProvider, useBrokerClient, useBrokerEvent, useBrokerState } from '@broker-dev/client/react';

const same: typeof Named = BrokerClient;
const client = new BrokerClient('https://broker.example/sse', { headers: bearer('jwt') }, {
    heartbeatMs: 30_000,
    watchdogFactor: 2.5,
    maxRetryMs: 10_000,
    lastEventId: 41,
});
new same('https://broker.example/sse', { headers: basic('ada', 'secret') });
new BrokerClient(new URL('https://broker.example/sse'));

client.addEventListener('score', (event) => {
    const text: string = event.data;
    const id: string = event.lastEventId;
    console.log(text, id);
});
client.addEventListener('error', (error) => {
    const status: number | undefined = error.status;
    const retrying: boolean = error.retrying;
    console.log(status, retrying);
});
client.onmessage = (event) => console.log(event.type, event.data);
client.onerror = (error: BrokerError) => console.log(error.code);
client.onopen = () => {};
const state: BrokerState = client.state;
const entry: BrokerStateEntry | undefined = state['score'];
const unsubscribe: () => void = client.subscribe((next) => console.log(next['score']?.value));
unsubscribe();
client.removeEventListener('score');
const ready: 0 | 1 | 2 = client.readyState;
console.log(entry, ready, client.lastEventId);
client.close();

async function helpers(): Promise<void> {
    const jwt: string = await login('https://broker.example', { username: 'ada', password: 'secret' });
    const { id, timestamp } = await insert('https://broker.example', jwt, 'score', { points: 1 });
    const who = await verify('https://broker.example', { username: 'ada', password: 'secret' });
    console.log(id.length, timestamp + 1, who.tenant_name);
    // @ts-expect-error: credentials are a JWT, { token } or { username, password }
    await verify('https://broker.example', { user: 'ada' });
}

function hooks(): void {
    const all: BrokerState = useBrokerState(client);
    const one: BrokerStateEntry | undefined = useBrokerEvent(client, 'score');
    const fromProvider: BrokerStateEntry | undefined = useBrokerEvent('score');
    const provided: BrokerClient = useBrokerClient();
    const whole: BrokerState = useBrokerState();
    // @ts-expect-error: a name is needed
    useBrokerEvent(client);
    console.log(all, one, fromProvider, provided, whole, BrokerProvider({ client }));
}

console.log(helpers, hooks);
