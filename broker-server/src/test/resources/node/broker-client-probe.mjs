// Subscribes to Broker with the published npm client `broker-client` and prints what it receives.
// Used by dev.broker.server.client.BrokerClientCompatibilityTest, which copies this file next to a patched copy
// of the package (./broker-client/index.js) and reads stdout.
//
// Usage: node broker-client-probe.mjs <sse url> <jwt> <events to wait for> <timeout ms> <event name>...
// Prints one JSON line per event received by a listener: {"event", "data", "lastEventId"}; exits 0 after the
// given number of events, 3 on timeout (after printing {"timeout": true, "received": n}).
import BrokerClient from './broker-client/index.js';

const [url, jwt, countText, timeoutText, ...names] = process.argv.slice(2);
const expected = Number(countText);
let received = 0;

const timer = setTimeout(() => {
    console.log(JSON.stringify({ timeout: true, received }));
    process.exit(3);
}, Number(timeoutText));

const client = new BrokerClient(url, { headers: { Authorization: `Bearer ${jwt}` } });

for (const name of names) {
    client.addEventListener(name, (event) => {
        console.log(JSON.stringify({ event: event.type, data: event.data, lastEventId: event.lastEventId }));
        received += 1;
        if (received >= expected) {
            clearTimeout(timer);
            process.exit(0);
        }
    });
}
