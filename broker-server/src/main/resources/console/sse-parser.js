// An incremental parser of the text/event-stream format (the WHATWG HTML standard, "Server-sent events"):
// lines end in CR, LF or CRLF (a CRLF may be split across chunks), `data` lines of one event are joined with LF,
// a blank line dispatches the event, lines starting with a colon are comments, one space after a field's colon
// is dropped. Feed it decoded text (a TextDecoder with {stream: true} keeps UTF-8 split across chunks whole).
export class SseParser {
  /**
   * @param {(event: {type: string, data: string, lastEventId: string}) => void} onEvent
   * @param {(comment: string) => void} [onComment]
   */
  constructor(onEvent, onComment = () => {}) {
    this.onEvent = onEvent;
    this.onComment = onComment;
    this.pending = '';        // the start of a line not yet ended
    this.skipLineFeed = false; // the last chunk ended in CR: a LF opening the next one belongs to it
    this.data = [];
    this.eventType = '';
    this.lastEventId = '';
    this.retry = null;
  }

  push(chunk) {
    let text = this.pending + chunk;
    this.pending = '';
    let start = 0;
    if (this.skipLineFeed && text.charCodeAt(0) === 10) {
      start = 1;
    }
    this.skipLineFeed = false;
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) {
        continue;
      }
      this.line(text.slice(start, i));
      if (c === 13) {
        if (i + 1 === text.length) {
          this.skipLineFeed = true;
        } else if (text.charCodeAt(i + 1) === 10) {
          i++;
        }
      }
      start = i + 1;
    }
    this.pending = text.slice(start);
  }

  line(line) {
    if (line === '') {
      if (this.data.length > 0) {
        this.onEvent({ type: this.eventType || 'message', data: this.data.join('\n'), lastEventId: this.lastEventId });
      }
      this.data = [];
      this.eventType = '';
      return;
    }
    if (line.charCodeAt(0) === 58) { // ':'
      this.onComment(line.slice(1));
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) {
      value = value.slice(1);
    }
    switch (field) {
      case 'data': this.data.push(value); break;
      case 'event': this.eventType = value; break;
      case 'id': if (!value.includes('\0')) this.lastEventId = value; break;
      case 'retry': if (/^[0-9]+$/.test(value)) this.retry = Number(value); break;
      default: break; // unknown fields are ignored
    }
  }
}
