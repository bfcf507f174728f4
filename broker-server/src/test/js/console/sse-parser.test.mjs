// The console's SSE parser (src/main/resources/console/sse-parser.js, copied next to this file by the test that
// runs it): every way of ending a line, split at every point of the stream; multi-line data; comments; ids; retry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser } from './sse-parser.js';

function parse(chunks) {
  const events = [];
  const comments = [];
  const parser = new SseParser((e) => events.push(e), (c) => comments.push(c));
  for (const chunk of chunks) parser.push(chunk);
  return { events, comments, retry: parser.retry };
}

const STREAM = ': hello\n\nid:1\nevent:greeting\ndata:{"n":1}\n\n'
  + 'id: 2\nevent: multi\ndata: first\ndata:second\ndata\n\n'
  + 'data:no event name\n\n'
  + 'retry: 1500\nid:3\nevent:last\ndata:é😀\n\n'
  + 'event:dropped\n\n'
  + 'data:unfinished';

const EXPECTED = [
  { type: 'greeting', data: '{"n":1}', lastEventId: '1' },
  { type: 'multi', data: 'first\nsecond\n', lastEventId: '2' },
  { type: 'message', data: 'no event name', lastEventId: '2' },
  { type: 'last', data: 'é😀', lastEventId: '3' },
];

for (const [name, ending] of [['LF', '\n'], ['CR', '\r'], ['CRLF', '\r\n']]) {
  const stream = STREAM.replaceAll('\n', ending);

  test(`${name}: in one piece`, () => {
    const { events, comments, retry } = parse([stream]);
    assert.deepEqual(events, EXPECTED);
    assert.deepEqual(comments, [' hello']);
    assert.equal(retry, 1500);
  });

  test(`${name}: split at every point`, () => {
    for (let i = 0; i <= stream.length; i++) {
      assert.deepEqual(parse([stream.slice(0, i), stream.slice(i)]).events, EXPECTED, `split at ${i}`);
    }
  });

  test(`${name}: one character at a time`, () => {
    assert.deepEqual(parse([...stream]).events, EXPECTED);
  });
}

test('an event without data is not dispatched, and its name does not leak into the next', () => {
  assert.deepEqual(parse(['event:x\n\ndata:1\n\n']).events, [{ type: 'message', data: '1', lastEventId: '' }]);
});

test('an id with NUL is ignored; an empty id resets', () => {
  assert.deepEqual(parse(['id:5\ndata:a\n\nid:6\0\ndata:b\n\nid\ndata:c\n\n']).events.map((e) => e.lastEventId),
    ['5', '5', '']);
});
