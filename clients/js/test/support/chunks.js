// Feeding a parser in pieces.

import { SseParser } from '../../src/index.js';

/** Parses `chunks` with a fresh parser and ends the stream: `{ events, retries, comments }`. */
export function parseChunks(chunks) {
    const events = [];
    const retries = [];
    const comments = [];
    const parser = new SseParser({
        onEvent: (event) => events.push(event),
        onRetry: (ms) => retries.push(ms),
        onComment: (text) => comments.push(text),
    });
    for (const chunk of chunks) {
        parser.push(chunk);
    }
    parser.end();
    return { events, retries, comments };
}

/** `count` random ways to cut `bytes` into chunks (1 to 16 bytes each), reproducible from `seed`. */
export function* chunkings(bytes, count, seed) {
    let state = seed >>> 0;
    const next = () => {
        // xorshift32: deterministic, so a failure names a chunking that can be replayed.
        state ^= state << 13;
        state >>>= 0;
        state ^= state >>> 17;
        state ^= state << 5;
        state >>>= 0;
        return state;
    };
    for (let n = 0; n < count; n++) {
        const chunks = [];
        for (let at = 0; at < bytes.length;) {
            const size = 1 + (next() % 16);
            chunks.push(bytes.subarray(at, at + size));
            at += size;
        }
        yield chunks;
    }
}
