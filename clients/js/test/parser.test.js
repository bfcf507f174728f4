// The SSE parser against a stream built to hold every case the standard names, fed whole, byte by byte, split at
// every point and in random chunks: the events must come out the same every time.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SseParser } from '../src/index.js';
import { chunkings, parseChunks } from './support/chunks.js';

const encoder = new TextEncoder();

// A BOM, then comments, retry, LF / CRLF / CR line ends, multi-line data, a field without a colon, an id with a
// NUL, one leading space stripped (and only one), unknown fields, an event without data, an empty id, emoji and
// CJK (multi-byte UTF-8), and an event cut off by the end of the stream.
const STREAM = encoder.encode([
    '\uFEFF: a comment after a BOM\n',
    'retry: 1500\n',
    'id: 1\nevent: greeting\ndata: {"text":"héllo 😀"}\n\n',
    'id:2\r\nevent:multi\r\ndata:line one\r\ndata:line two\r\ndata\r\n\r\n',
    'id:3\revent:cr\rdata:only CR 🎉\r\r',
    ':heartbeat\n\n',
    'id:4\rdata:mixed\n\r\n',
    'id: 5\0bad\ndata:  two spaces\nunknown: field\n\n',
    'retry: 12x\nevent:noData\n\n',
    'id\ndata:after empty id\n\n',
    'id:6\ndata:{"family":"👩‍👩‍👧","cjk":"日本語"}\n\n',
    'data:incomplete at the end',
].join(''));

const EXPECTED = {
    events: [
        { type: 'greeting', data: '{"text":"héllo 😀"}', lastEventId: '1', id: '1' },
        { type: 'multi', data: 'line one\nline two\n', lastEventId: '2', id: '2' },
        { type: 'cr', data: 'only CR 🎉', lastEventId: '3', id: '3' },
        { type: 'message', data: 'mixed', lastEventId: '4', id: '4' },
        { type: 'message', data: ' two spaces', lastEventId: '4', id: undefined },
        { type: 'message', data: 'after empty id', lastEventId: '', id: '' },
        { type: 'message', data: '{"family":"👩‍👩‍👧","cjk":"日本語"}', lastEventId: '6', id: '6' },
    ],
    retries: [1500],
    comments: [' a comment after a BOM', 'heartbeat'],
};

test('parses the whole stream in one chunk', () => {
    assert.deepEqual(parseChunks([STREAM]), EXPECTED);
});

test('parses the stream fed byte by byte', () => {
    assert.deepEqual(parseChunks([...STREAM].map((byte) => Uint8Array.of(byte))), EXPECTED);
});

test('parses the stream split at every point, and at every pair of points up to 16 bytes apart', () => {
    for (let i = 0; i <= STREAM.length; i++) {
        assert.deepEqual(parseChunks([STREAM.subarray(0, i), STREAM.subarray(i)]), EXPECTED, `split at ${i}`);
    }
    // A short middle chunk: a CR, part of a character or a lone LF between two others.
    for (let i = 0; i <= STREAM.length; i++) {
        for (let j = i; j <= Math.min(i + 16, STREAM.length); j++) {
            const chunks = [STREAM.subarray(0, i), STREAM.subarray(i, j), STREAM.subarray(j)];
            const result = parseChunks(chunks);
            if (!isDeepStrictEqual(result, EXPECTED)) {
                assert.deepEqual(result, EXPECTED, `split at ${i} and ${j}`);
            }
        }
    }
});

test('parses the stream in random chunkings', () => {
    for (const chunks of chunkings(STREAM, 500, 0x5eed)) {
        assert.deepEqual(parseChunks(chunks), EXPECTED, `chunks of ${chunks.map((c) => c.length)}`);
    }
});

test('a CR at the end of one chunk and an LF at the start of the next are one line end', () => {
    const events = [];
    const parser = new SseParser({ onEvent: (event) => events.push(event) });
    parser.push(encoder.encode('data:a\r'));
    parser.push(encoder.encode('\ndata:b\r'));
    parser.push(encoder.encode('\n\r'));
    parser.push(encoder.encode('\n'));
    assert.deepEqual(events.map((event) => event.data), ['a\nb']);
});

test('an emoji split across chunks is decoded once, not as replacement characters', () => {
    const bytes = encoder.encode('data:😀\n\n');
    for (let i = 0; i <= bytes.length; i++) {
        const { events } = parseChunks([bytes.subarray(0, i), bytes.subarray(i)]);
        assert.deepEqual(events.map((event) => event.data), ['😀'], `split at ${i}`);
    }
});

test('only a leading BOM is stripped', () => {
    const { events } = parseChunks([encoder.encode('\uFEFFdata:x\n\n\uFEFFdata:y\n\n')]);
    assert.deepEqual(events.map((event) => [event.type, event.data]), [['message', 'x']]);
});

test('strings can be pushed as well as bytes', () => {
    const events = [];
    const parser = new SseParser({ onEvent: (event) => events.push(event) });
    parser.push('event:e\nda');
    parser.push('ta:1\n\n');
    assert.deepEqual(events, [{ type: 'e', data: '1', lastEventId: '', id: undefined }]);
});

function isDeepStrictEqual(a, b) {
    try {
        assert.deepEqual(a, b);
        return true;
    } catch {
        return false;
    }
}
