// Real Broker servers for the tests: `java -jar broker.jar` as a child process on a loopback port with a temporary
// database, killed when the test (or the test process) ends.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The server jar: `BROKER_JAR`, or the one `mvn package` builds in this repository. */
export const BROKER_JAR = resolve(process.env.BROKER_JAR
    ?? join(here, '..', '..', '..', '..', 'broker-server', 'target', 'broker.jar'));
export const ADMIN_TOKEN = 'js-client-test-admin-token';
export const JWT_SECRET = 'js-client-test-jwt-secret-of-32-bytes-or-more';
const JVM_OPTIONS = ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'];
const STARTUP_TIMEOUT_MS = 30_000;
const LISTENING = /^Broker listening on port (\d+)$/m;

const running = new Set();
process.on('exit', () => {
    for (const child of running) {
        child.kill('SIGKILL');
    }
});

/** A temporary directory, removed when the process exits. */
export function tempDir(prefix) {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    return dir;
}

/**
 * Starts a server. `port` 0 lets the kernel pick one (read back from the server's "listening" line); give the
 * same `port` and `db` to restart a killed server where it was.
 */
export async function startBroker({ port = 0, db = join(tempDir('broker-js-db-'), 'db'), flags = [] } = {}) {
    if (!existsSync(BROKER_JAR)) {
        throw new Error(`no server jar at ${BROKER_JAR}: build it with "mvn -B -o -q package -DskipTests" `
            + 'or point BROKER_JAR at one');
    }
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('BROKER_')));
    const child = spawn('java', [...JVM_OPTIONS, '-jar', BROKER_JAR,
        '--port', String(port), '--bind', '127.0.0.1', '--db', db,
        '--admin_token', ADMIN_TOKEN, '--jwt_secret', JWT_SECRET, ...flags], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    const exited = once(child, 'exit').then(() => running.delete(child));
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text) => {
        stderr = (stderr + text).slice(-20_000);
    });
    const listening = new Promise((resolvePort, reject) => {
        const timer = setTimeout(() => reject(new Error(`Broker did not start in ${STARTUP_TIMEOUT_MS} ms`)),
            STARTUP_TIMEOUT_MS);
        child.stdout.setEncoding('utf8').on('data', (text) => {
            stdout += text;
            const match = LISTENING.exec(stdout);
            if (match) {
                clearTimeout(timer);
                resolvePort(Number(match[1]));
            }
        });
        child.on('exit', (code, signal) => {
            clearTimeout(timer);
            reject(new Error(`Broker exited (${code ?? signal}) before listening; stderr: ${stderr}`));
        });
    });
    const boundPort = await listening;
    const url = `http://127.0.0.1:${boundPort}`;
    await waitUntil(async () => (await fetch(`${url}/healthz`)).ok, STARTUP_TIMEOUT_MS, 'healthz');
    return {
        port: boundPort,
        db,
        url,
        pid: child.pid,
        stderr: () => stderr,
        /** SIGKILL: no shutdown hook, no flush; resolves once the process is gone. */
        async kill() {
            child.kill('SIGKILL');
            await exited;
        },
        async stop() {
            child.kill('SIGTERM');
            const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
            await exited;
            clearTimeout(timer);
        },
    };
}

/** Polls `check` until it returns truthy (errors count as false) or the deadline passes. */
export async function waitUntil(check, timeoutMs, what) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        try {
            const value = await check();
            if (value) {
                return value;
            }
        } catch {
            // not yet
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        }
        await new Promise((done) => setTimeout(done, 25));
    }
}

async function post(url, body) {
    const response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) {
        throw new Error(`${url}: ${response.status} ${text}`);
    }
    return JSON.parse(text);
}

let users = 0;

/** Creates a user in `tenant` (a fresh one by default) and logs in: `{ username, password, tenant, jwt }`. */
export async function newUser(broker, tenant = `tenant-${process.pid}-${++users}`) {
    const username = `user-${process.pid}-${++users}`;
    const password = `password-${users}`;
    await post(`${broker.url}/create_user`, { username, password, admin_token: ADMIN_TOKEN, tenant_name: tenant });
    const { jwt } = await post(`${broker.url}/login`, { username, password });
    return { username, password, tenant, jwt };
}
