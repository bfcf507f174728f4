// Opens clients in every waiting state, closes them, and must then exit by itself: a timer, a fetch or a stream
// left behind would keep the process alive. Usage: node close-probe.js <stream url> <retrying url>
import { BrokerClient } from '../../src/index.js';

const [streamUrl, retryingUrl] = process.argv.slice(2);

// One reading a live stream (watchdog armed), closed from its listener.
const reading = new BrokerClient(streamUrl, {}, { watchdogMs: 60_000 });
reading.addEventListener('tick', () => reading.close());

// One waiting out a back-off after a 503 (retry timer armed), closed from its error handler.
const retrying = new BrokerClient(retryingUrl, {}, { initialRetryMs: 60_000, watchdogMs: 60_000 });
retrying.onerror = (error) => {
    if (error.retrying) {
        retrying.close();
    }
};

// One still connecting (fetch pending), closed at once.
new BrokerClient(streamUrl, {}, { watchdogMs: 60_000 }).close();

process.on('exit', () => {
    console.log(JSON.stringify({ reading: reading.readyState, retrying: retrying.readyState }));
});
