// An incremental text/event-stream parser, as the WHATWG HTML standard specifies it
// ("9.2.6 Interpreting an event stream"): bytes go in as they arrive, in chunks split anywhere,
// and whole events come out.

const LF = 0x0a;
const CR = 0x0d;

/**
 * Feed it bytes with `push(chunk)`; it calls `onEvent({ type, data, lastEventId, id })` for each dispatched event,
 * `onRetry(ms)` for a valid `retry:` field and `onComment(text)` for a comment line.
 * `id` is the event's own `id:` field, or `undefined` when the event carried none (its `lastEventId` is then
 * the one inherited from earlier events, as the standard says).
 */
export class SseParser {
    #decoder = new TextDecoder('utf-8'); // strips one leading BOM, as the standard asks
    #onEvent;
    #onRetry;
    #onComment;
    #line = '';
    #afterCR = false;
    #data = '';
    #hasData = false;
    #type = '';
    #lastEventId = '';
    #ownId = undefined;

    constructor({ onEvent, onRetry = () => {}, onComment = () => {} }) {
        this.#onEvent = onEvent;
        this.#onRetry = onRetry;
        this.#onComment = onComment;
    }

    /** The last event ID buffer: what a reconnecting client sends as `Last-Event-ID`. */
    get lastEventId() {
        return this.#lastEventId;
    }

    /** Takes the next chunk of the stream: a Uint8Array (decoded as UTF-8, split anywhere) or a string. */
    push(chunk) {
        const text = typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true });
        this.#feed(text);
    }

    /**
     * The stream ended. Flushes an incomplete UTF-8 sequence (as U+FFFD); an event without its closing blank line
     * is discarded, as the standard says.
     */
    end() {
        this.#feed(this.#decoder.decode());
        this.#line = '';
        this.#data = '';
        this.#hasData = false;
        this.#type = '';
        this.#ownId = undefined;
    }

    #feed(text) {
        let start = 0;
        const length = text.length;
        if (this.#afterCR && length > 0) {
            // A CR ended the previous chunk: an LF starting this one is the second half of the same CRLF.
            if (text.charCodeAt(0) === LF) {
                start = 1;
            }
            this.#afterCR = false;
        }
        for (let i = start; i < length; i++) {
            const c = text.charCodeAt(i);
            if (c !== LF && c !== CR) {
                continue;
            }
            const line = this.#line + text.slice(start, i);
            this.#line = '';
            if (c === CR) {
                if (i + 1 < length) {
                    if (text.charCodeAt(i + 1) === LF) {
                        i++;
                    }
                } else {
                    this.#afterCR = true;
                }
            }
            start = i + 1;
            this.#processLine(line);
        }
        if (start < length) {
            this.#line += text.slice(start);
        }
    }

    #processLine(line) {
        if (line === '') {
            this.#dispatch();
            return;
        }
        const colon = line.indexOf(':');
        if (colon === 0) {
            this.#onComment(line.slice(1));
            return;
        }
        let field = line;
        let value = '';
        if (colon > 0) {
            field = line.slice(0, colon);
            value = line.charCodeAt(colon + 1) === 0x20 ? line.slice(colon + 2) : line.slice(colon + 1);
        }
        switch (field) {
            case 'event':
                this.#type = value;
                break;
            case 'data':
                this.#data = this.#hasData ? this.#data + '\n' + value : value;
                this.#hasData = true;
                break;
            case 'id':
                if (!value.includes('\0')) {
                    this.#lastEventId = value;
                    this.#ownId = value;
                }
                break;
            case 'retry':
                if (/^[0-9]+$/.test(value)) {
                    this.#onRetry(Number.parseInt(value, 10));
                }
                break;
            default:
                // Unknown fields are ignored.
                break;
        }
    }

    #dispatch() {
        const id = this.#ownId;
        this.#ownId = undefined;
        if (!this.#hasData) {
            this.#type = '';
            return;
        }
        const event = { type: this.#type || 'message', data: this.#data, lastEventId: this.#lastEventId, id };
        this.#data = '';
        this.#hasData = false;
        this.#type = '';
        this.#onEvent(event);
    }
}
