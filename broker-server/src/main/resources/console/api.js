// The console's calls to Broker. The admin token travels in a request body (the contract's user management) or in
// an Authorization header (the admin endpoints), never in a URL. Errors carry the server's {"error": …} text.
import { SseParser } from './sse-parser.js';

/** A failed call: the HTTP status and the server's reason. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// The API lives one level above /console/ (relative, so a proxy may mount Broker under a prefix).
const base = new URL('../', document.baseURI);

async function reasonOf(response) {
  try {
    const body = await response.json();
    if (body && typeof body.error === 'string') {
      return body.error;
    }
  } catch (notJson) {
    // fall through
  }
  return `HTTP ${response.status}`;
}

export class AdminApi {
  constructor(token) {
    this.token = token;
  }

  async call(path, { method = 'GET', body, query } = {}) {
    const url = new URL(path, base);
    for (const [name, value] of Object.entries(query || {})) {
      url.searchParams.set(name, value);
    }
    const init = { method, headers: { Authorization: `Bearer ${this.token}` }, cache: 'no-store' };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(url, init);
    if (!response.ok) {
      throw new ApiError(response.status, await reasonOf(response));
    }
    return response.json();
  }

  stats() {
    return this.call('admin/stats');
  }

  listUsers() {
    return this.call('list_users', { method: 'POST', body: { admin_token: this.token } });
  }

  createUser(username, password, tenant) {
    return this.call('create_user', {
      method: 'POST', body: { username, password, tenant_name: tenant, admin_token: this.token },
    });
  }

  setRevoked(username, revoked) {
    return this.call(revoked ? 'revoke_user' : 'unrevoke_user', {
      method: 'POST', body: { admin_token: this.token, username },
    });
  }

  insert(tenant, event, data) {
    return this.call('admin/insert', { method: 'POST', query: { tenant }, body: { event, data } });
  }

  /**
   * Watches a tenant's events (GET /admin/sse) until `signal` aborts: the snapshot, then live events. A dropped
   * stream is resumed after a pause with Last-Event-ID, so nothing is missed or repeated. Resolves when aborted;
   * rejects on an answer other than 200 (a 401, a 400).
   */
  async tail(tenant, { onEvent, onStatus, signal }) {
    let lastEventId = '';
    while (!signal.aborted) {
      const headers = { Authorization: `Bearer ${this.token}` };
      if (lastEventId) {
        headers['Last-Event-ID'] = lastEventId;
      }
      const url = new URL('admin/sse', base);
      url.searchParams.set('tenant', tenant);
      let response;
      try {
        response = await fetch(url, { headers, signal, cache: 'no-store' });
      } catch (failure) {
        if (signal.aborted) return;
        onStatus('disconnected, retrying…');
        await pause(2000, signal);
        continue;
      }
      if (!response.ok) {
        throw new ApiError(response.status, await reasonOf(response));
      }
      onStatus('connected');
      const parser = new SseParser((event) => {
        lastEventId = event.lastEventId;
        onEvent(event);
      });
      const decoder = new TextDecoder();
      const reader = response.body.getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.push(decoder.decode(value, { stream: true }));
        }
      } catch (failure) {
        if (signal.aborted) return;
      }
      if (signal.aborted) return;
      onStatus('disconnected, retrying…');
      await pause(2000, signal);
    }
  }
}

function pause(millis, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, millis);
    signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}
