// Types of @broker-dev/client (hand-written; the package is plain JavaScript).

/** Reconnect, resume and watchdog settings: the third argument of the BrokerClient constructor. */
export interface BrokerClientOptions {
    /** Reconnect after a network error, an end of stream, a silent stream, a 429 or a 5xx. Default `true`. */
    reconnect?: boolean;
    /** Base of the exponential back-off in ms, until the server sends `retry:`. Default 1000. */
    initialRetryMs?: number;
    /** Upper bound of any wait between two attempts, in ms. Default 30000. */
    maxRetryMs?: number;
    /** The server's heartbeat period (its `--heartbeat` flag) in ms. Default 30000. */
    heartbeatMs?: number;
    /** Reconnect when no byte arrived for `heartbeatMs * watchdogFactor`. Default 2.5. */
    watchdogFactor?: number;
    /** The watchdog period in ms, overriding the two above; `0` or `Infinity` turns the watchdog off. */
    watchdogMs?: number;
    /** Resume after this id: the first request already sends `Last-Event-ID` (e.g. one kept in sessionStorage). */
    lastEventId?: string | number;
    /** The fetch to use (default: the global one). */
    fetch?: typeof fetch;
    /** The random source of the jitter, in [0, 1) (default `Math.random`). */
    random?: () => number;
}

/** The latest event of one name. */
export interface BrokerStateEntry {
    readonly event: string;
    readonly id: string;
    /** The event's data: the inserted JSON, as text. */
    readonly data: string;
    /** `data` parsed (`undefined` if it is not JSON). */
    readonly value: unknown;
}

/** The latest event of every name seen so far; a new object after each change. */
export type BrokerState = Readonly<Record<string, BrokerStateEntry>>;

/** Reported through `onerror` / `error` listeners, thrown by the helpers. */
export declare class BrokerError extends Error {
    constructor(message: string, init?: { status?: number; code?: string; retrying?: boolean; body?: unknown; cause?: unknown });
    readonly name: 'BrokerError';
    /** HTTP status when the server answered (401: bad or revoked credential; the client then stops). */
    status?: number;
    /** `'http'`, `'network'`, `'eof'`, `'watchdog'`, `'content-type'` or `'request'` (invalid headers). */
    code?: string;
    /** Whether the client goes on reconnecting after this error. */
    retrying: boolean;
    /** The response body (parsed JSON when it is JSON). */
    body?: unknown;
}

export type BrokerMessageListener = (this: BrokerClient, event: MessageEvent<string>) => void;

export declare class BrokerClient {
    static readonly CONNECTING: 0;
    static readonly OPEN: 1;
    static readonly CLOSED: 2;

    /**
     * Subscribes to `url` (Broker's `GET /sse`) at once.
     * @param init a fetch RequestInit; credentials go in `init.headers` (see `bearer()` and `basic()`).
     */
    constructor(url: string | URL, init?: RequestInit, options?: BrokerClientOptions);

    readonly url: string;
    /** 0 connecting (or waiting to reconnect), 1 open, 2 closed for good. */
    readonly readyState: 0 | 1 | 2;
    /** `readyState` under broker-client's name. */
    readonly readState: 0 | 1 | 2;
    /** The id of the last event delivered; sent as `Last-Event-ID` when reconnecting. */
    readonly lastEventId: string | undefined;
    /** The latest event of every name. */
    readonly state: BrokerState;
    getState: () => BrokerState;
    /** Calls `listener` after every change of `state`; returns the unsubscribe function. */
    subscribe: (listener: (state: BrokerState) => void) => () => void;

    /** Called with every event, whatever its name (as in broker-client; EventSource calls it for "message" only). */
    onmessage: BrokerMessageListener | null;
    /** Called each time a stream opens (after every reconnect too). */
    onopen: ((this: BrokerClient, event: Event) => void) | null;
    /** Called on every lost connection (`error.retrying === true`) and on the final failure (`false`). */
    onerror: ((this: BrokerClient, error: BrokerError) => void) | null;

    addEventListener(name: 'open', callback: (this: BrokerClient, event: Event) => void): void;
    addEventListener(name: 'error', callback: (this: BrokerClient, error: BrokerError) => void): void;
    addEventListener(name: string, callback: BrokerMessageListener): void;
    /** Without a callback, removes every listener of `name` (as broker-client's one-argument form does). */
    removeEventListener(name: string, callback?: (...args: any[]) => void): void;

    /** Stops for good: aborts the request and clears every timer. */
    close(): void;
}

export default BrokerClient;

export declare const DEFAULT_HEARTBEAT_MS: 30000;

/** An event as the parser hands it over. */
export interface SseEvent {
    type: string;
    data: string;
    lastEventId: string;
    /** The event's own `id:` field; `undefined` when it carried none. */
    id: string | undefined;
}

/** The incremental text/event-stream parser (WHATWG HTML "Interpreting an event stream"). */
export declare class SseParser {
    constructor(handlers: {
        onEvent: (event: SseEvent) => void;
        onRetry?: (ms: number) => void;
        onComment?: (text: string) => void;
    });
    readonly lastEventId: string;
    push(chunk: Uint8Array | string): void;
    end(): void;
}

export type Credentials = string | { token: string } | { username: string; password: string };

export interface CallOptions {
    fetch?: typeof fetch;
    signal?: AbortSignal;
}

export declare function bearer(jwt: string): { Authorization: string };
export declare function basic(username: string, password: string): { Authorization: string };
/** `POST /login`; resolves to the JWT. */
export declare function login(baseUrl: string | URL, user: { username: string; password: string }, options?: CallOptions): Promise<string>;
/** `POST /insert`; resolves once the event is durable. */
export declare function insert(baseUrl: string | URL, credentials: Credentials, event: string, data: unknown, options?: CallOptions):
    Promise<{ id: string; event: string; timestamp: number }>;
/** `GET /verify`. */
export declare function verify(baseUrl: string | URL, credentials: Credentials, options?: CallOptions):
    Promise<{ username: string; tenant_name: string }>;
