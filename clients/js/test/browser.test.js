// The same client in headless Chromium (the system's, driven by playwright-core): a page on its own origin logs
// in, subscribes with a Bearer header across origins, and shows live events, across a killed and restarted server.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { insert } from '../src/index.js';
import { newUser, startBroker } from './support/broker.js';
import { staticServer } from './support/static-server.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

test('a page in Chromium receives live events, and resumes after the server restarts', {
    skip: !existsSync(CHROMIUM) && process.env.BROKER_SKIP_BROWSER_TESTS === '1' && `no browser at ${CHROMIUM}`,
}, async () => {
    const site = await staticServer();
    let broker = await startBroker({ flags: ['--origin', site.origin] });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
        const page = await browser.newPage();
        const problems = [];
        page.on('pageerror', (error) => problems.push(error.message));
        await page.goto(`${site.origin}/`);

        const user = await newUser(broker);
        const first = await insert(broker.url, user.jwt, 'greeting', { text: 'héllo 😀' });
        await page.evaluate(([url, username, password]) => window.start(url, username, password),
            [broker.url, user.username, user.password]);
        const events = page.locator('#events li');
        await page.locator('#status', { hasText: 'open' }).waitFor({ timeout: 10_000 });
        await events.first().waitFor({ timeout: 10_000 });

        const live = await insert(broker.url, user.jwt, 'score', { points: 42 });
        const fromPage = await page.evaluate(() => window.insertFromPage('score', { points: 43 }));
        await events.nth(2).waitFor({ timeout: 10_000 });

        // Hold the page's reconnects back until two events of one name went in: a fresh snapshot would bring only
        // the second, the resume with Last-Event-ID (allowed by Broker's CORS preflight) brings both.
        let release;
        const gate = new Promise((resolve) => {
            release = resolve;
        });
        await page.route('**/sse', async (route) => {
            await gate;
            await route.continue();
        });
        await broker.kill();
        await page.locator('#status', { hasText: 'error' }).waitFor({ timeout: 10_000 });
        broker = await startBroker({ port: broker.port, db: broker.db, flags: ['--origin', site.origin] });
        const offline = [
            await insert(broker.url, user.jwt, 'score', { points: 44 }),
            await insert(broker.url, user.jwt, 'score', { points: 45 }),
        ];
        release();
        await events.nth(4).waitFor({ timeout: 15_000 });
        await page.locator('#status', { hasText: 'open' }).waitFor({ timeout: 10_000 });

        assert.deepEqual(await events.allInnerTexts(), [
            `greeting #${first.id} {"text":"héllo 😀"}`,
            `score #${live.id} {"points":42}`,
            `score #${fromPage.id} {"points":43}`,
            `score #${offline[0].id} {"points":44}`,
            `score #${offline[1].id} {"points":45}`,
        ]);
        assert.equal(await page.locator('#state').innerText(), 'greeting={"text":"héllo 😀"} score={"points":45}');
        assert.deepEqual(problems, []);
        await page.evaluate(() => window.client.close());
    } finally {
        await browser.close();
        await broker.stop();
        await site.close();
    }
});
