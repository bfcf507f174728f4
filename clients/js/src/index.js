// The JavaScript client of Broker: a drop-in for the npm package `broker-client` (same constructor, listeners and
// MessageEvents) that also reconnects, resumes with Last-Event-ID, watches the server's heartbeat and keeps the
// latest event of every name. Runs on fetch + ReadableStream: browsers and Node 18+. No dependencies.

import { SseParser } from './parser.js';

export { SseParser };

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

/** The server's default heartbeat period (`--heartbeat 30`). */
export const DEFAULT_HEARTBEAT_MS = 30_000;

const DEFAULTS = Object.freeze({
    reconnect: true,
    initialRetryMs: 1_000,
    maxRetryMs: 30_000,
    heartbeatMs: DEFAULT_HEARTBEAT_MS,
    watchdogFactor: 2.5,
    lastEventId: undefined,
});

/**
 * An error the client reports through `onerror` / the `error` listeners, or that the helpers throw.
 * `status` is the HTTP status when there was a response (401, 503, ...), `retrying` tells whether the client
 * goes on reconnecting after it.
 */
export class BrokerError extends Error {
    constructor(message, { status, code, retrying = false, body, cause } = {}) {
        super(message, cause === undefined ? undefined : { cause });
        this.name = 'BrokerError';
        this.status = status;
        this.code = code;
        this.retrying = retrying;
        this.body = body;
    }
}

function makeEvent(type) {
    return typeof Event === 'function' ? new Event(type) : { type };
}

/** A MessageEvent where the platform has one (browsers, Node 15+), else an object of the same shape. */
function makeMessageEvent(type, data, lastEventId, origin) {
    if (typeof MessageEvent === 'function') {
        return new MessageEvent(type, { data, lastEventId, origin });
    }
    return { type, data, lastEventId, origin, source: null, ports: [] };
}

function parseJson(text) {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

function originOf(url) {
    try {
        return new URL(url, globalThis.location?.href).origin;
    } catch {
        return '';
    }
}

/** Ids are decimal integers that strictly increase within a tenant; compare them without losing precision. */
function isNewer(id, last) {
    if (last === undefined || !/^[0-9]+$/.test(id) || !/^[0-9]+$/.test(last)) {
        return true;
    }
    return BigInt(id) > BigInt(last);
}

/**
 * Subscribes to Broker's `GET /sse`.
 *
 * `new BrokerClient(url, init, options)`: `url` is the stream's URL, `init` a fetch RequestInit (credentials go in
 * `init.headers`), `options` the reconnect, resume and watchdog settings (see the README and index.d.ts).
 */
export class BrokerClient {
    static CONNECTING = CONNECTING;
    static OPEN = OPEN;
    static CLOSED = CLOSED;

    onopen = null;
    onmessage = null;
    onerror = null;

    #url;
    #init;
    #options;
    #fetch;
    #random;
    #listeners = new Map();
    #stateListeners = new Set();
    #state = Object.freeze({});
    #readyState = CONNECTING;
    #lastEventId;
    #attempt = 0;
    #serverRetryMs;
    #controller = null;
    #reader = null;
    #watchdogTimer = null;
    #retryTimer = null;
    #connection = 0;

    constructor(url, init = {}, options = {}) {
        this.#url = String(url);
        this.#init = init ?? {};
        this.#options = { ...DEFAULTS, ...options };
        this.#fetch = options.fetch ?? ((...args) => globalThis.fetch(...args));
        this.#random = options.random ?? Math.random;
        this.#lastEventId = this.#options.lastEventId === undefined ? undefined : String(this.#options.lastEventId);
        // The client owns the request's signal (it aborts to reconnect); a caller's signal closes the client.
        const signal = this.#init.signal;
        if (signal?.aborted) {
            this.#readyState = CLOSED;
            return;
        }
        signal?.addEventListener('abort', () => this.close(), { once: true });
        this.#connect();
    }

    /** `CONNECTING` (0), `OPEN` (1) or `CLOSED` (2), as on EventSource. */
    get readyState() {
        return this.#readyState;
    }

    /** The same as `readyState`, under the name `broker-client` used. */
    get readState() {
        return this.#readyState;
    }

    get url() {
        return this.#url;
    }

    /** The id of the last event delivered: what the next reconnect sends as `Last-Event-ID`. */
    get lastEventId() {
        return this.#lastEventId;
    }

    /**
     * The latest event of every name seen so far, as a frozen object `{ [name]: { event, id, data, value } }`
     * (`data` the JSON text, `value` its parsed value). A new object after each event, the same one in between,
     * so it can serve as a snapshot for UI frameworks.
     */
    get state() {
        return this.#state;
    }

    /** The same as `state`, as a function (for `useSyncExternalStore` and friends). */
    getState = () => this.#state;

    /** Calls `listener(state)` after every change of `state`; returns the function that unsubscribes it. */
    subscribe = (listener) => {
        this.#stateListeners.add(listener);
        return () => {
            this.#stateListeners.delete(listener);
        };
    };

    /**
     * Listens to the events of one name (`cb` gets a MessageEvent), or to `open` / `error`.
     * Several listeners per name are allowed; adding the same function twice has no effect.
     */
    addEventListener(name, callback) {
        if (typeof callback !== 'function') {
            return;
        }
        let callbacks = this.#listeners.get(name);
        if (!callbacks) {
            callbacks = new Set();
            this.#listeners.set(name, callbacks);
        }
        callbacks.add(callback);
    }

    /** Removes one listener, or, without a callback (as in `broker-client`), every listener of that name. */
    removeEventListener(name, callback) {
        if (callback === undefined) {
            this.#listeners.delete(name);
        } else {
            this.#listeners.get(name)?.delete(callback);
        }
    }

    /** Stops for good: aborts the request, clears every timer, no more callbacks. */
    close() {
        if (this.#readyState === CLOSED) {
            return;
        }
        this.#readyState = CLOSED;
        this.#connection++;
        this.#clearTimers();
        this.#abort();
    }

    // ---- connection lifecycle -------------------------------------------------------------------------------------

    async #connect() {
        const connection = ++this.#connection;
        const controller = new AbortController();
        this.#controller = controller;
        this.#readyState = CONNECTING;
        this.#armWatchdog(connection);

        // Asynchronous from here on, as EventSource is: handlers set right after the constructor see every error.
        await null;
        if (connection !== this.#connection) {
            return;
        }
        let headers;
        try {
            headers = new Headers(this.#init.headers);
            headers.set('Accept', 'text/event-stream');
            if (this.#lastEventId !== undefined) {
                headers.set('Last-Event-ID', this.#lastEventId);
            }
        } catch (cause) {
            // Headers that are no valid header values will not become valid by asking again.
            this.#fail(new BrokerError(`invalid request headers: ${cause?.message ?? cause}`, { code: 'request', cause }));
            return;
        }
        let response;
        try {
            response = await this.#fetch(this.#url, {
                ...this.#init,
                headers,
                cache: 'no-store',
                signal: controller.signal,
            });
        } catch (cause) {
            if (connection === this.#connection) {
                this.#lost(new BrokerError(`cannot connect: ${cause?.message ?? cause}`, { code: 'network', cause }));
            }
            return;
        }
        if (connection !== this.#connection) {
            response.body?.cancel().catch(() => {});
            return;
        }
        if (!response.ok) {
            await this.#refused(response, connection);
            return;
        }
        const type = response.headers.get('Content-Type') ?? '';
        if (!type.toLowerCase().startsWith('text/event-stream') || !response.body) {
            response.body?.cancel().catch(() => {});
            this.#fail(new BrokerError(`expected text/event-stream, got "${type}"`, {
                status: response.status,
                code: 'content-type',
            }));
            return;
        }

        this.#readyState = OPEN;
        this.#emit('open', makeEvent('open'), this.onopen);
        if (connection !== this.#connection) {
            return; // closed by an open handler
        }
        const origin = originOf(response.url || this.#url);
        const parser = new SseParser({
            onEvent: (event) => {
                if (connection === this.#connection) {
                    this.#deliver(event, origin);
                }
            },
            onRetry: (ms) => {
                this.#serverRetryMs = ms;
            },
        });
        const reader = response.body.getReader();
        this.#reader = reader;
        try {
            for (;;) {
                const { done, value } = await reader.read();
                if (connection !== this.#connection) {
                    return;
                }
                if (done) {
                    parser.end();
                    break;
                }
                // Any bytes prove the stream alive: events and heartbeat comments alike.
                this.#attempt = 0;
                this.#armWatchdog(connection);
                parser.push(value);
            }
        } catch (cause) {
            if (connection === this.#connection) {
                this.#lost(new BrokerError(`stream broken: ${cause?.message ?? cause}`, { code: 'network', cause }));
            }
            return;
        }
        if (connection === this.#connection) {
            this.#lost(new BrokerError('the server ended the stream', { code: 'eof' }));
        }
    }

    async #refused(response, connection) {
        let body;
        try {
            body = await response.text();
        } catch {
            body = undefined;
        }
        if (connection !== this.#connection) {
            return; // closed, or given up by the watchdog, while the body was read
        }
        const reason = parseJson(body)?.error ?? response.statusText;
        const status = response.status;
        const message = `GET /sse answered ${status}${reason ? `: ${reason}` : ''}`;
        // 429 and 5xx are passing trouble; other 4xx (401 first of all) will not change by asking again.
        if (status === 429 || status >= 500) {
            const retryAfter = Number.parseFloat(response.headers.get('Retry-After') ?? '');
            const minimumMs = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : 0;
            this.#lost(new BrokerError(message, { status, code: 'http', body }), minimumMs);
        } else {
            this.#fail(new BrokerError(message, { status, code: 'http', body }));
        }
    }

    /** The connection is gone (or never came); reconnect unless told not to. */
    #lost(error, minimumDelayMs = 0) {
        this.#connection++;
        this.#clearTimers();
        this.#abort();
        if (!this.#options.reconnect) {
            this.#fail(error);
            return;
        }
        this.#readyState = CONNECTING;
        error.retrying = true;
        this.#emit('error', error, this.onerror);
        if (this.#readyState === CLOSED) {
            return; // closed by an error handler
        }
        const delay = Math.max(minimumDelayMs, this.#backoff());
        this.#attempt++;
        this.#retryTimer = setTimeout(() => {
            this.#retryTimer = null;
            this.#connect();
        }, delay);
    }

    /** Full jitter: a random wait below min(max, base * 2^attempt); the server's `retry:` sets the base. */
    #backoff() {
        const base = this.#serverRetryMs ?? this.#options.initialRetryMs;
        const ceiling = Math.min(this.#options.maxRetryMs, base * 2 ** Math.min(this.#attempt, 30));
        return Math.floor(this.#random() * ceiling);
    }

    #fail(error) {
        this.#readyState = CLOSED;
        this.#connection++;
        this.#clearTimers();
        this.#abort();
        error.retrying = false;
        this.#emit('error', error, this.onerror);
    }

    #armWatchdog(connection) {
        if (this.#watchdogTimer !== null) {
            clearTimeout(this.#watchdogTimer);
        }
        const period = this.#options.watchdogMs ?? this.#options.heartbeatMs * this.#options.watchdogFactor;
        if (!(period > 0) || !Number.isFinite(period)) {
            this.#watchdogTimer = null;
            return;
        }
        this.#watchdogTimer = setTimeout(() => {
            this.#watchdogTimer = null;
            if (connection === this.#connection) {
                this.#lost(new BrokerError(`no data for ${period} ms`, { code: 'watchdog' }));
            }
        }, period);
    }

    #clearTimers() {
        if (this.#watchdogTimer !== null) {
            clearTimeout(this.#watchdogTimer);
            this.#watchdogTimer = null;
        }
        if (this.#retryTimer !== null) {
            clearTimeout(this.#retryTimer);
            this.#retryTimer = null;
        }
    }

    #abort() {
        const reader = this.#reader;
        this.#reader = null;
        reader?.cancel().catch(() => {});
        const controller = this.#controller;
        this.#controller = null;
        controller?.abort();
    }

    // ---- delivery -------------------------------------------------------------------------------------------------

    #deliver(event, origin) {
        if (event.id !== undefined && event.id !== '') {
            // Ids strictly increase within a tenant: anything not newer was delivered already.
            if (!isNewer(event.id, this.#lastEventId)) {
                return;
            }
            this.#lastEventId = event.id;
        }
        const message = makeMessageEvent(event.type, event.data, event.lastEventId, origin);
        this.#state = Object.freeze({
            ...this.#state,
            [event.type]: Object.freeze({
                event: event.type,
                id: event.lastEventId,
                data: event.data,
                value: parseJson(event.data),
            }),
        });
        this.#emit(event.type, message, this.onmessage);
        for (const listener of [...this.#stateListeners]) {
            this.#call(listener, this.#state);
        }
    }

    #emit(name, event, handler) {
        if (typeof handler === 'function') {
            this.#call(handler, event);
        }
        const callbacks = this.#listeners.get(name);
        if (callbacks) {
            for (const callback of [...callbacks]) {
                this.#call(callback, event);
            }
        }
    }

    /** A throwing callback must not break the stream (or the other callbacks); it is reported asynchronously. */
    #call(callback, argument) {
        try {
            callback.call(this, argument);
        } catch (error) {
            queueMicrotask(() => {
                throw error;
            });
        }
    }
}

export default BrokerClient;

// ---- helpers that speak the HTTP contract ------------------------------------------------------------------------

/** `{ Authorization: 'Bearer <jwt>' }`, for `init.headers`. */
export function bearer(jwt) {
    return { Authorization: `Bearer ${jwt}` };
}

/** `{ Authorization: 'Basic …' }` with the UTF-8 bytes of `username:password`, for `init.headers`. */
export function basic(username, password) {
    const bytes = new TextEncoder().encode(`${username}:${password}`);
    let binary = '';
    for (const byte of bytes) {
        binary += String.fromCharCode(byte);
    }
    return { Authorization: `Basic ${btoa(binary)}` };
}

function endpoint(baseUrl, path) {
    return `${String(baseUrl).replace(/\/+$/, '')}${path}`;
}

/** Credentials as the helpers take them: a JWT string, `{ token }`, or `{ username, password }`. */
function authorization(credentials) {
    if (typeof credentials === 'string') {
        return bearer(credentials);
    }
    if (credentials && typeof credentials.token === 'string') {
        return bearer(credentials.token);
    }
    if (credentials && typeof credentials.username === 'string' && typeof credentials.password === 'string') {
        return basic(credentials.username, credentials.password);
    }
    throw new TypeError('credentials: a JWT string, { token } or { username, password }');
}

async function call(baseUrl, path, init, options = {}) {
    const doFetch = options.fetch ?? ((...args) => globalThis.fetch(...args));
    let response;
    try {
        response = await doFetch(endpoint(baseUrl, path), { ...init, signal: options.signal });
    } catch (cause) {
        throw new BrokerError(`${path}: ${cause?.message ?? cause}`, { code: 'network', cause });
    }
    const text = await response.text();
    const body = parseJson(text);
    if (!response.ok) {
        const reason = body?.error ?? response.statusText;
        throw new BrokerError(`${path} answered ${response.status}${reason ? `: ${reason}` : ''}`, {
            status: response.status,
            code: 'http',
            body: body ?? text,
        });
    }
    return body;
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };

/** `POST /login`: resolves to the JWT. */
export async function login(baseUrl, { username, password }, options) {
    const body = await call(baseUrl, '/login', {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify({ username, password }),
    }, options);
    return body.jwt;
}

/** `POST /insert`: resolves to `{ id, event, timestamp }` once the event is durable. */
export function insert(baseUrl, credentials, event, data, options) {
    return call(baseUrl, '/insert', {
        method: 'POST',
        headers: { ...JSON_HEADERS, ...authorization(credentials) },
        body: JSON.stringify({ event, data }),
    }, options);
}

/** `GET /verify`: resolves to `{ username, tenant_name }`. */
export function verify(baseUrl, credentials, options) {
    return call(baseUrl, '/verify', { method: 'GET', headers: authorization(credentials) }, options);
}
