// Serves the browser test page and the client's source from a loopback origin of its own, so that the page talks
// to Broker across origins (Broker answers CORS, as it would for a real web app).

import { createServer } from 'node:http';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const root = new URL('../../', import.meta.url);
const ROUTES = new Map([
    ['/', ['test/browser/index.html', 'text/html; charset=utf-8']],
    ['/src/index.js', ['src/index.js', 'text/javascript; charset=utf-8']],
    ['/src/parser.js', ['src/parser.js', 'text/javascript; charset=utf-8']],
]);

export async function staticServer() {
    const server = createServer(async (request, response) => {
        const route = ROUTES.get(new URL(request.url, 'http://localhost').pathname);
        if (!route) {
            response.writeHead(404).end();
            return;
        }
        const body = await readFile(fileURLToPath(new URL(route[0], root)));
        response.writeHead(200, { 'Content-Type': route[1], 'Cache-Control': 'no-store' }).end(body);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return {
        origin: `http://127.0.0.1:${server.address().port}`,
        async close() {
            server.closeAllConnections();
            server.close();
            await once(server, 'close');
        },
    };
}
