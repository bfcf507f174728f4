// A tiny HTTP server that answers the n-th request with the n-th scripted handler (the last one repeats), and
// remembers every request's headers: for behaviours a healthy Broker never shows (silence, 503, repeats).

import { createServer } from 'node:http';
import { once } from 'node:events';

export async function scriptedServer(handlers) {
    const requests = [];
    const open = new Set();
    const server = createServer((request, response) => {
        requests.push(request.headers);
        open.add(response);
        response.on('close', () => open.delete(response));
        handlers[Math.min(requests.length, handlers.length) - 1](request, response);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return {
        url: `http://127.0.0.1:${server.address().port}/sse`,
        requests,
        async close() {
            for (const response of open) {
                response.destroy();
            }
            server.close();
            server.closeAllConnections();
            await once(server, 'close');
        },
    };
}

/** Starts an event stream and writes `text` (frames, comments, retry fields) without ending it. */
export function stream(response, text = '') {
    response.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    response.write(text);
}

export function errorAnswer(status, headers = {}) {
    return (request, response) => {
        response.writeHead(status, { 'Content-Type': 'application/json', ...headers });
        response.end(JSON.stringify({ error: `scripted ${status}` }));
    };
}
