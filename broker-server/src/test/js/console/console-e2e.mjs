// Drives the Broker console in headless Chromium (the system's browser, through playwright-core) like an operator:
// log in, create a user, watch its tenant, insert, see the events, revoke. Checks the visible text of the page and
// that nothing breaks the Content-Security-Policy; saves screenshots. Called by ConsoleBrowserTest:
//   node console-e2e.mjs <broker base URL> <admin token> <screenshot directory> <chromium executable>
// Prints one JSON line at the end: {"ok": true, "seen": {...}} or {"ok": false, "error": "..."}; exits 0 or 1.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const [base, adminToken, shots, executablePath] = process.argv.slice(2);
const STEP_MS = 15000;
const username = `ada-${Date.now()}`;
const password = 'correct horse battery staple';
const tenant = 'acme-browser';
const seen = {};
const problems = [];
let provokingViolation = false; // set for the deliberate inline script at the end, whose report is expected

mkdirSync(shots, { recursive: true });

async function textOf(locator) {
  return (await locator.innerText()).trim();
}

/** Waits until the locator's visible text contains `expected`; returns that text. */
async function waitForText(locator, expected, what) {
  const deadline = Date.now() + STEP_MS;
  let last = '';
  while (Date.now() < deadline) {
    if (await locator.count() > 0 && await locator.first().isVisible()) {
      last = (await locator.first().innerText()).trim();
      if (last.includes(expected)) {
        return last;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what}: expected visible text containing ${JSON.stringify(expected)}, got ${JSON.stringify(last)}`);
}

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** The contract's way in for a user: a JWT from /login, then /insert (as an app of the tenant would). */
async function insertAsUser(event, data) {
  const login = await fetch(new URL('/login', base), { method: 'POST', body: JSON.stringify({ username, password }) });
  const { jwt } = await login.json();
  const inserted = await fetch(new URL('/insert', base), {
    method: 'POST', headers: { Authorization: `Bearer ${jwt}` }, body: JSON.stringify({ event, data }),
  });
  if (inserted.status !== 200) throw new Error(`insert as the user: HTTP ${inserted.status}`);
  return (await inserted.json()).id;
}

const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'], headless: true });
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  // Every console error and uncaught exception fails the run, except the 401 and 409 this run provokes on purpose.
  page.on('console', (message) => {
    const text = message.text();
    if (/Content.Security.Policy|Refused to/i.test(text)) {
      if (!provokingViolation) problems.push(`CSP: ${text}`);
    } else if (message.type() === 'error'
        && !/Failed to load resource: the server responded with a status of (401|409)/.test(text)) {
      problems.push(`console error: ${text}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  await page.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation',
      (e) => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });

  // The bare path redirects to the page; it opens with the log-in form.
  const opened = await page.goto(new URL('/console', base).href);
  if (!opened.ok()) throw new Error(`GET /console: HTTP ${opened.status()}`);
  if (!page.url().endsWith('/console/')) throw new Error(`redirected to ${page.url()}`);
  seen.title = await page.title();
  await waitForText(page.locator('#login-section'), 'Admin token', 'log-in form');
  await shot(page, '01-login');

  // A wrong token is refused plainly.
  await page.getByLabel('Admin token').fill('not-the-token');
  await page.getByRole('button', { name: 'Log in' }).click();
  seen.wrongToken = await waitForText(page.locator('#login-error'), 'Wrong admin token', 'wrong token');

  // The right one opens the console; the token is in no URL.
  await page.getByLabel('Admin token').fill(adminToken);
  await page.getByRole('button', { name: 'Log in' }).click();
  await waitForText(page.locator('#users-section'), 'Create a user', 'users section');
  if (page.url().includes(adminToken)) throw new Error('the admin token is in the URL');
  seen.figures = await waitForText(page.locator('#stats-section'), 'Open streams', 'figures');

  // Create a user; it shows in the list. Creating it again shows the contract's error.
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Tenant', { exact: true }).fill(tenant);
  await page.getByRole('button', { name: 'Create' }).click();
  seen.created = await waitForText(page.locator('#users-message'), `Created ${username}.`, 'created message');
  const row = page.locator('#users tbody tr', { hasText: username });
  seen.userRow = await waitForText(row, 'active', 'user row');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill('another');
  await page.getByLabel('Tenant', { exact: true }).fill(tenant);
  await page.getByRole('button', { name: 'Create' }).click();
  seen.duplicate = await waitForText(page.locator('#users-message'), 'username already taken (HTTP 409)',
    'duplicate message');

  // Search filters the list.
  await page.getByLabel('Search').fill(username.slice(0, 8));
  seen.searchCount = await waitForText(page.locator('#user-count'), '1 of', 'search count');
  await page.getByLabel('Search').fill('no-such-user-anywhere');
  seen.searchNone = await waitForText(page.locator('#user-count'), '0 of', 'search count');
  await page.getByLabel('Search').fill('');
  await shot(page, '02-users');

  // Watch the tenant; insert by hand; the event shows with its name and pretty JSON.
  await page.getByLabel('Tenant to watch').fill(tenant);
  await page.getByRole('button', { name: 'Watch', exact: true }).click();
  seen.tailStatus = await waitForText(page.locator('#tail-status'), `connected: ${tenant}`, 'tail status');
  await page.getByLabel('Event name', { exact: true }).fill('greeting');
  await page.getByLabel('Data (JSON)').fill('{"hello": "from the console", "n": 1}');
  await page.getByRole('button', { name: 'Insert' }).click();
  seen.inserted = await waitForText(page.locator('#insert-message'), 'Inserted greeting with id', 'insert message');
  seen.tailGreeting = await waitForText(page.locator('#tail li', { hasText: 'greeting' }), '"hello": "from the console"',
    'tail greeting');

  // An event inserted by the user through the contract shows too.
  const userId = await insertAsUser('status', { up: true });
  seen.tailStatusEvent = await waitForText(page.locator('#tail li', { hasText: `id ${userId}` }), '"up": true',
    'tail status event');

  // Filter by event name.
  await page.getByLabel('Filter by event name').fill('status');
  await waitForText(page.locator('#tail'), 'status', 'filtered tail');
  if (await page.locator('#tail li', { hasText: 'greeting' }).isVisible()) throw new Error('the filter shows greeting');
  seen.filtered = await textOf(page.locator('#tail'));
  await page.getByLabel('Filter by event name').fill('');

  // Pause holds events; resume shows them.
  await page.getByLabel('Pause').check();
  const heldId = await insertAsUser('held', [1, 2, 3]);
  seen.paused = await waitForText(page.locator('#tail-status'), 'paused: 1 held', 'paused status');
  if (await page.locator('#tail li', { hasText: `id ${heldId}` }).count() > 0) throw new Error('shown while paused');
  await page.getByLabel('Pause').uncheck();
  seen.resumed = await waitForText(page.locator('#tail li', { hasText: `id ${heldId}` }), 'held', 'resumed event');
  await shot(page, '03-tail');

  // Watching again starts from the snapshot: the latest event of each name.
  await page.getByRole('button', { name: 'Stop' }).click();
  await page.getByRole('button', { name: 'Watch', exact: true }).click();
  seen.snapshot = await waitForText(page.locator('#tail'), 'held', 'snapshot');
  await waitForText(page.locator('#tail'), 'greeting', 'snapshot');

  // The figures count the console's own stream.
  seen.openStreams = await waitForText(page.locator('#stat-streams'), '1', 'open streams');
  seen.tenantFigures = await waitForText(page.locator('#stat-tenants'), tenant, 'streams per tenant');

  // Revoke the user: the row says so, and the operator's tail stays open.
  await page.getByRole('button', { name: `Revoke ${username}`, exact: true }).click();
  seen.revoked = await waitForText(page.locator('#users-message'), `Revoked ${username}.`, 'revoked message');
  seen.revokedRow = await waitForText(page.locator('#users tbody tr', { hasText: username }), 'revoked', 'revoked row');
  await page.getByLabel('Event name', { exact: true }).fill('after-revoke');
  await page.getByRole('button', { name: 'Insert' }).click();
  seen.afterRevoke = await waitForText(page.locator('#tail'), 'after-revoke', 'tail after revoke');
  await shot(page, '04-revoked');

  // No violation so far; and the policy is enforced: an injected inline script does not run.
  const before = await page.evaluate(() => window.cspViolations.slice());
  if (before.length > 0) problems.push(`CSP violations: ${before.join('; ')}`);
  provokingViolation = true;
  const inlineRan = await page.evaluate(async () => {
    const script = document.createElement('script');
    script.textContent = 'window.inlineRan = true;';
    document.body.append(script);
    await new Promise((resolve) => setTimeout(resolve, 200));
    return window.inlineRan === true || window.cspViolations.length === 0;
  });
  if (inlineRan) problems.push('an inline script ran: the Content-Security-Policy is not enforced');

  // Log out: the token leaves the tab.
  await page.getByRole('button', { name: 'Log out' }).click();
  await waitForText(page.locator('#login-section'), 'Admin token', 'logged out');
  const stored = await page.evaluate(() => JSON.stringify(sessionStorage));
  if (stored.includes(adminToken)) problems.push('the token is still in sessionStorage after log-out');

  if (problems.length > 0) throw new Error(problems.join('\n'));
  console.log(JSON.stringify({ ok: true, username, tenant, seen }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error && error.stack || error), problems, seen }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
