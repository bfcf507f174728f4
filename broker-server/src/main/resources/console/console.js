// The console page: log in with the admin token, then users, the live tail and the figures at a glance.
import { AdminApi, ApiError } from './api.js';

const TOKEN_KEY = 'broker.console.adminToken';
const STATS_INTERVAL_MS = 3000;
const TAIL_LIMIT = 500;      // events kept on the page; older ones leave
const PAUSED_LIMIT = 1000;   // events held while paused; beyond that the oldest are dropped

const $ = (id) => document.getElementById(id);

let api = null;
let users = [];
let statsTimer = null;
let tailAbort = null;
let paused = [];
let pausedDropped = 0;

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function reason(failure) {
  return failure instanceof ApiError ? `${failure.message} (HTTP ${failure.status})` : String(failure.message || failure);
}

function say(target, text, ok) {
  target.textContent = text;
  target.className = `message ${ok ? 'ok' : 'bad'}`;
}

// --- log in / out ---------------------------------------------------------------------------------------------

async function logIn(token) {
  const candidate = new AdminApi(token);
  await candidate.stats(); // a 401 here means a wrong token
  api = candidate;
  sessionStorage.setItem(TOKEN_KEY, token);
  $('login-section').hidden = true;
  $('app').hidden = false;
  $('logout').hidden = false;
  refreshStats();
  statsTimer = setInterval(refreshStats, STATS_INTERVAL_MS);
  await refreshUsers();
}

function logOut() {
  stopTail();
  clearInterval(statsTimer);
  api = null;
  users = [];
  sessionStorage.removeItem(TOKEN_KEY);
  $('admin-token').value = '';
  $('app').hidden = true;
  $('logout').hidden = true;
  $('login-section').hidden = false;
  $('admin-token').focus();
}

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const token = $('admin-token').value;
  $('login-error').textContent = '';
  try {
    await logIn(token);
    $('admin-token').value = '';
  } catch (failure) {
    $('login-error').textContent = failure instanceof ApiError && failure.status === 401
      ? 'Wrong admin token.' : `Cannot log in: ${reason(failure)}`;
  }
});
$('logout').addEventListener('click', logOut);

// --- figures at a glance --------------------------------------------------------------------------------------

function uptime(seconds) {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m ${seconds % 60}s`;
}

async function refreshStats() {
  if (!api) return;
  try {
    const stats = await api.stats();
    $('stat-streams').textContent = String(stats.open_streams.total);
    $('stat-inserts').textContent = stats.inserts_per_second.toFixed(1);
    $('stat-deliveries').textContent = stats.deliveries_per_second.toFixed(1);
    $('stat-uptime').textContent = uptime(stats.uptime_seconds);
    const body = $('stat-tenants').tBodies[0];
    body.replaceChildren(...stats.open_streams.top.map((row) => {
      const tr = element('tr');
      tr.append(element('td', row.tenant), element('td', String(row.streams)));
      return tr;
    }));
    if (stats.open_streams.top.length === 0) {
      const tr = element('tr');
      const td = element('td', 'No open streams.', 'note');
      td.colSpan = 2;
      tr.append(td);
      body.append(tr);
    }
    $('stats-error').textContent = '';
  } catch (failure) {
    $('stats-error').textContent = `Figures unavailable: ${reason(failure)}`;
  }
}

// --- users ----------------------------------------------------------------------------------------------------

async function refreshUsers() {
  try {
    users = await api.listUsers();
    users.sort((a, b) => a.username.localeCompare(b.username));
    renderUsers();
  } catch (failure) {
    say($('users-message'), `Cannot list users: ${reason(failure)}`, false);
  }
}

function renderUsers() {
  const query = $('user-search').value.trim().toLowerCase();
  const shown = users.filter((u) => !query
    || u.username.toLowerCase().includes(query) || u.tenant_name.toLowerCase().includes(query));
  $('users').tBodies[0].replaceChildren(...shown.map(userRow));
  $('user-count').textContent = `${shown.length} of ${users.length} users`;
  const tenants = [...new Set(users.map((u) => u.tenant_name))].sort();
  $('tenant-names').replaceChildren(...tenants.map((t) => {
    const option = element('option');
    option.value = t;
    return option;
  }));
}

function userRow(user) {
  const tr = element('tr');
  tr.dataset.username = user.username;
  const status = element('td', user.revoked ? 'revoked' : 'active', user.revoked ? 'revoked' : 'active');
  const actions = element('td');
  const toggle = element('button', user.revoked ? 'Unrevoke' : 'Revoke', 'secondary');
  toggle.type = 'button';
  toggle.setAttribute('aria-label', `${user.revoked ? 'Unrevoke' : 'Revoke'} ${user.username}`);
  toggle.addEventListener('click', () => setRevoked(user.username, !user.revoked));
  const watch = element('button', 'Watch tenant', 'secondary');
  watch.type = 'button';
  watch.setAttribute('aria-label', `Watch the tenant of ${user.username}`);
  watch.addEventListener('click', () => {
    $('tail-tenant').value = user.tenant_name;
    startTail(user.tenant_name);
  });
  actions.append(toggle, watch);
  tr.append(element('td', user.username), element('td', user.tenant_name), status, actions);
  return tr;
}

async function setRevoked(username, revoked) {
  try {
    await api.setRevoked(username, revoked);
    say($('users-message'), `${revoked ? 'Revoked' : 'Unrevoked'} ${username}.`, true);
  } catch (failure) {
    say($('users-message'), `Cannot ${revoked ? 'revoke' : 'unrevoke'} ${username}: ${reason(failure)}`, false);
  }
  await refreshUsers();
}

$('create-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const username = $('new-username').value;
  try {
    await api.createUser(username, $('new-password').value, $('new-tenant').value);
    say($('users-message'), `Created ${username}.`, true);
    $('new-username').value = '';
    $('new-password').value = '';
    await refreshUsers();
  } catch (failure) {
    say($('users-message'), `Cannot create ${username}: ${reason(failure)}`, false);
  }
});
$('user-search').addEventListener('input', renderUsers);
$('refresh-users').addEventListener('click', refreshUsers);

// --- live tail ------------------------------------------------------------------------------------------------

function prettyData(data) {
  try {
    return JSON.stringify(JSON.parse(data), null, 2);
  } catch (notJson) {
    return data;
  }
}

function matchesFilter(name) {
  const filter = $('tail-filter').value.trim();
  return !filter || name.includes(filter);
}

function showEvent(event) {
  const li = element('li');
  li.dataset.event = event.type;
  const meta = element('div', undefined, 'meta');
  meta.append(element('span', event.type, 'name'), element('span', `id ${event.lastEventId}`, 'id'),
    element('time', `received ${event.receivedAt.toLocaleTimeString()}`, 'time'));
  meta.lastChild.dateTime = event.receivedAt.toISOString();
  li.append(meta, element('pre', prettyData(event.data)));
  li.hidden = !matchesFilter(event.type);
  const list = $('tail');
  list.append(li);
  while (list.children.length > TAIL_LIMIT) {
    list.firstElementChild.remove();
  }
  li.scrollIntoView({ block: 'nearest' });
}

function onTailEvent(event) {
  const received = { ...event, receivedAt: new Date() };
  if ($('tail-pause').checked) {
    paused.push(received);
    if (paused.length > PAUSED_LIMIT) {
      paused.shift();
      pausedDropped++;
    }
    $('tail-status').textContent = `paused: ${paused.length} held` + (pausedDropped ? `, ${pausedDropped} dropped` : '');
    return;
  }
  showEvent(received);
}

function startTail(tenant) {
  stopTail();
  $('tail').replaceChildren();
  const abort = new AbortController();
  tailAbort = abort;
  $('tail-stop').disabled = false;
  $('tail-status').textContent = `connecting to ${tenant}…`;
  api.tail(tenant, {
    signal: abort.signal,
    onEvent: onTailEvent,
    onStatus: (status) => {
      if (tailAbort === abort) $('tail-status').textContent = `${status}: ${tenant}`;
    },
  }).catch((failure) => {
    if (tailAbort === abort) {
      $('tail-status').textContent = `Cannot watch ${tenant}: ${reason(failure)}`;
      $('tail-stop').disabled = true;
      tailAbort = null;
    }
  });
}

function stopTail() {
  if (tailAbort) {
    tailAbort.abort();
    tailAbort = null;
    $('tail-status').textContent = 'stopped';
  }
  $('tail-stop').disabled = true;
}

$('tail-form').addEventListener('submit', (e) => {
  e.preventDefault();
  startTail($('tail-tenant').value);
});
$('tail-stop').addEventListener('click', stopTail);
$('tail-clear').addEventListener('click', () => $('tail').replaceChildren());
$('tail-pause').addEventListener('change', () => {
  if ($('tail-pause').checked) return;
  const held = paused;
  paused = [];
  pausedDropped = 0;
  held.forEach(showEvent);
  $('tail-status').textContent = tailAbort ? 'resumed' : 'stopped';
});
$('tail-filter').addEventListener('input', () => {
  for (const li of $('tail').children) {
    li.hidden = !matchesFilter(li.dataset.event);
  }
});

$('insert-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const tenant = $('tail-tenant').value;
  if (!tenant) {
    say($('insert-message'), 'Pick a tenant to watch first.', false);
    return;
  }
  let data;
  try {
    data = JSON.parse($('insert-data').value);
  } catch (notJson) {
    say($('insert-message'), `The data is not JSON: ${notJson.message}`, false);
    return;
  }
  try {
    const inserted = await api.insert(tenant, $('insert-event').value, data);
    say($('insert-message'), `Inserted ${inserted.event} with id ${inserted.id}.`, true);
  } catch (failure) {
    say($('insert-message'), `Cannot insert: ${reason(failure)}`, false);
  }
});

// --- start ----------------------------------------------------------------------------------------------------

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) {
  logIn(saved).catch(() => logOut());
} else {
  $('admin-token').focus();
}
