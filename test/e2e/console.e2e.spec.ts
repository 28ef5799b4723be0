import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app';
import { localDayNumber } from '../../src/fares/domain/local-time';
import type { DailyStatement } from '../../src/settlement/statement';
import { testAccount, type TestAccount } from '../support/auth';
import { launchTestBrowser, type TestBrowser } from '../support/browser';
import { createConsoleDay, type ConsoleDay } from '../support/console-day';
import { createSettlementDatabase } from '../support/settlement';
import { testConfig } from '../support/test-app';

/** Where `npm run console:screenshots` wants the pictures; the tests otherwise take them into a temporary folder. */
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS_DIR;
const vnd = new Intl.NumberFormat('vi-VN', { style: 'currency', currency: 'VND' });
const hanoiClock = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Ho_Chi_Minh', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

/**
 * The operators' console in a real headless Chromium, against the whole service listening on a
 * loopback port, in a database of this file's own (the day is closed here). Every figure on the page
 * is compared with what the public API answers for the same caller.
 */
describe("the operators' console in a browser", () => {
  let app: NestFastifyApplication;
  let base: string;
  let browser: TestBrowser;
  let day: ConsoleDay;
  let admin: TestAccount;
  let metroStaff: TestAccount;
  const shots = SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'lien-thong-console-shots-'));

  beforeAll(async () => {
    const databaseUrl = await createSettlementDatabase();
    app = await createApp(testConfig({ DATABASE_URL: databaseUrl, GATE_TAP_STREAM: `gate:taps:console-${randomUUID()}`, GATE_REBUILD_ON_EMPTY_REDIS: 'false' }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    const yesterday = new Date((localDayNumber(Date.now()) - 1) * 86_400_000).toISOString().slice(0, 10);
    day = await createConsoleDay(app.get(DataSource), yesterday);
    [admin, metroStaff] = await Promise.all([testAccount(app, 'admin'), testAccount(app, 'operator', { operatorId: 'hmc' })]);
    browser = await launchTestBrowser();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    if (!SCREENSHOTS) rmSync(shots, { recursive: true, force: true });
  });

  const apiGet = async (path: string, who: TestAccount) => {
    const response = await fetch(`${base}${path}`, { headers: { authorization: who.bearer } });
    expect(response.status).toBe(200);
    return response;
  };
  const statementFor = async (who: TestAccount, operatorId?: string) =>
    (await (await apiGet(`/v1/settlements/daily?date=${day.date}${operatorId ? `&operatorId=${operatorId}` : ''}`, who)).json()) as DailyStatement;

  /** A new tab (its own session storage, so its own sign-in) on a page of the console. */
  async function signIn(who: TestAccount, hash = `#/day?date=${day.date}`): Promise<Page> {
    const page = await browser.context.newPage();
    await page.goto(`${base}/console/${hash}`);
    await page.fill('#email', who.email);
    await page.fill('#password', who.password);
    await page.press('#password', 'Enter');
    await page.waitForSelector('main[aria-busy="false"] #page-title');
    return page;
  }
  const figure = (page: Page, name: string) => page.locator(`[data-figure="${name}"]`);
  const value = async (page: Page, name: string) => Number(await figure(page, name).getAttribute('data-value'));
  const text = async (page: Page, name: string) => (await figure(page, name).textContent())!;

  it('serves the console and its chart library from the service itself, with a strict content security policy', async () => {
    const index = await fetch(`${base}/console/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await index.text()).toContain('vendor/chart.umd.min.js');
    const chart = await fetch(`${base}/console/vendor/chart.umd.min.js`);
    expect(chart.status).toBe(200);
    expect(chart.headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${base}/console/../package.json`)).status).toBe(404);
    expect((await fetch(`${base}/console`, { redirect: 'manual' })).status).toBe(301);
  });

  it('signs an admin in and shows the day with the figures of the API statement, the check balancing', async () => {
    const page = await signIn(admin);
    const statement = await statementFor(admin);
    expect(statement.check.revenue).toBeGreaterThan(0);
    expect(statement.check.balanced).toBe(true);

    for (const name of ['revenue', 'adjustments', 'allocated', 'unallocated'] as const) {
      expect(await value(page, `check.${name}`)).toBe(statement.check[name]);
      expect(await text(page, `check.${name}`)).toBe(vnd.format(statement.check[name]));
    }
    // Đồng as Vietnamese readers write them: dots between thousands, the sign after.
    expect(await text(page, 'check.revenue')).toMatch(/^\d{1,3}(\.\d{3})+\s₫$/);
    expect(await figure(page, 'check.balanced').getAttribute('data-value')).toBe('true');
    for (const name of ['singleTickets', 'passDayParts', 'payAsYouGo', 'total'] as const) expect(await value(page, `revenue.${name}`)).toBe(statement.revenue[name]);
    for (const row of statement.operators) expect(await value(page, `operator.${row.operatorId}.total`)).toBe(row.total);
    expect(await value(page, 'operators.total')).toBe(statement.check.allocated);

    // Rejections, risk and free rides: as the statement has them and as the day was written.
    const reasons = Object.entries(day.rejectedByReason);
    expect(reasons.length).toBeGreaterThan(1);
    for (const [reason, taps] of reasons) {
      expect(await value(page, `rejected.${reason}`)).toBe(taps);
      expect(statement.rejectedTaps.filter((row) => row.reason === reason).reduce((sum, row) => sum + row.taps, 0)).toBe(taps);
    }
    expect(await value(page, 'risk.total')).toBe(day.fareAtRisk);
    expect(await value(page, 'freeRides.rides')).toBe(day.freeRides);
    expect(statement.freeRides.reduce((sum, row) => sum + row.rides, 0)).toBe(day.freeRides);

    // Taps per hour (local hours): as written, and as the reports route gives them.
    const report = (await (await apiGet(`/v1/reports/taps?date=${day.date}`, admin)).json()) as { byHour: Array<{ hour: number; accepted: number }> };
    expect(report.byHour.map((row) => row.accepted)).toEqual(day.acceptedByHour);
    for (const hour of [7, 8, 13, 17]) expect(await value(page, `taps.hour.${hour}.accepted`)).toBe(day.acceptedByHour[hour]);
    expect(await value(page, 'taps.accepted')).toBe(day.acceptedByHour.reduce((sum, taps) => sum + taps, 0));
    // Charts are drawn (a canvas per chart, named for screen readers).
    expect(await page.locator('canvas[role="img"][aria-label]').count()).toBeGreaterThanOrEqual(5);
    await page.close();
  });

  it('switches to English and keeps đồng in the Vietnamese way', async () => {
    const page = await signIn(admin);
    const before = await text(page, 'check.revenue');
    await page.click('#language');
    await page.waitForSelector('html[lang="en"] main[aria-busy="false"] #page-title');
    expect(await page.textContent('#page-title')).toContain('Reconciling');
    expect(await text(page, 'check.revenue')).toBe(before);
    await page.click('#language');
    await page.waitForSelector('html[lang="vi"] main[aria-busy="false"] #page-title');
    expect(await page.textContent('#page-title')).toContain('Đối soát');
    await page.close();
  });

  it("shows operator staff their own operator's figures only, and nothing of another's", async () => {
    const page = await signIn(metroStaff);
    const own = await statementFor(metroStaff);
    expect(own.operatorId).toBe('hmc');
    expect(await page.locator('#scope-operator option').evaluateAll((options) => options.map((option) => (option as { value: string }).value))).toEqual(['hmc']);
    expect(await value(page, 'operator.hmc.total')).toBe(own.operators[0].total);
    expect(await figure(page, 'operator.transerco.total').count()).toBe(0);
    // Revenue by kind is Hanoi Metro's part, not the scheme's: the bus's pay-as-you-go is not in it.
    const [line] = own.operators;
    expect(await value(page, 'revenue.payAsYouGo')).toBe(line.payAsYouGo);
    expect(line.payAsYouGo).toBeLessThan(own.revenue.payAsYouGo);
    expect(await value(page, 'revenue.total')).toBe(line.total - line.adjustments);
    expect(await figure(page, 'risk.total').getAttribute('data-value')).toBe('0'); // the bus's offline uploads are Transerco's
    expect(await page.locator('main').textContent()).not.toContain('Bus 32');
    expect(await page.locator('#close-day').count()).toBe(0);
    expect(await page.locator('nav a[href^="#/denylist"]').count()).toBe(0);

    // Asking for another operator through the address: the API refuses, the page shows no figure.
    await page.goto(`${base}/console/#/day?date=${day.date}&operator=transerco`);
    await page.waitForSelector('#error');
    expect(await page.textContent('#error')).toContain('OPERATOR_SCOPE');
    expect(await page.locator('[data-figure]').count()).toBe(0);

    await page.goto(`${base}/console/#/devices?date=${day.date}`);
    await page.waitForSelector(`[data-figure="device.${day.devices.gates[0]}.taps"]`);
    expect(await figure(page, `device.${day.devices.bus}.taps`).count()).toBe(0);
    expect(await page.locator('[data-disable]').count()).toBe(0);
    await page.close();
  });

  it("downloads the statement CSV and the TIDES files byte for byte as the API serves them", async () => {
    const page = await signIn(admin);
    const files = [
      ['#download-csv', `/v1/settlements/daily.csv?date=${day.date}`, `statement-${day.date}.csv`],
      ['#download-tides-csv', `/v1/fare-transactions?date=${day.date}&format=csv`, `fare_transactions-${day.date}.csv`],
      ['#download-tides-json', `/v1/fare-transactions?date=${day.date}&format=json`, `fare_transactions-${day.date}.json`],
    ] as const;
    for (const [button, path, name] of files) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
      expect(download.suggestedFilename()).toBe(name);
      const saved = readFileSync(await download.path());
      const served = Buffer.from(await (await apiGet(path, admin)).arrayBuffer());
      expect(served.length).toBeGreaterThan(100);
      expect(saved.equals(served)).toBe(true);
    }
    await page.close();
  });

  it('shows the 30-day trend with each day as its statement has it', async () => {
    const page = await signIn(admin, `#/trend?date=${day.date}`);
    const statement = await statementFor(admin);
    expect(await page.locator('[data-figure$=".revenue"]').count()).toBe(30);
    expect(await value(page, `trend.${day.date}.revenue`)).toBe(statement.check.revenue);
    expect(await value(page, `trend.${day.date}.taps`)).toBe(day.acceptedByHour.reduce((sum, taps) => sum + taps, 0));
    const earlier = new Date(Date.parse(`${day.date}T00:00:00Z`) - 3 * 86_400_000).toISOString().slice(0, 10);
    expect(await value(page, `trend.${earlier}.taps`)).toBeGreaterThan(0);
    await page.close();
  });

  it('can be used with the keyboard alone, every control named for screen readers', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${base}/console/#/day?date=${day.date}`);
    await page.waitForSelector('#email');
    expect(await page.evaluate('document.activeElement.id')).toBe('email');
    await page.keyboard.type(admin.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(admin.password);
    await page.keyboard.press('Enter');
    await page.waitForSelector('main[aria-busy="false"] [data-figure="check.revenue"]');

    // Run in the page (as text: this project's TypeScript has no DOM types).
    const unnamed = await page.evaluate<string[]>(`(() => {
      const problems = [];
      for (const control of document.querySelectorAll('input, select')) if (control.labels.length === 0) problems.push('unlabelled ' + control.outerHTML);
      for (const button of document.querySelectorAll('button, a[href]')) {
        if ((button.getAttribute('aria-label') || button.textContent).trim() === '' && !button.closest('[hidden]')) problems.push('nameless ' + button.outerHTML);
      }
      for (const canvas of document.querySelectorAll('canvas')) if (canvas.getAttribute('role') !== 'img' || !canvas.getAttribute('aria-label')) problems.push('unnamed chart');
      for (const table of document.querySelectorAll('table')) if (!(table.querySelector('caption') && table.querySelector('caption').textContent.trim())) problems.push('table without caption');
      return problems;
    })()`);
    expect(unnamed).toEqual([]);

    // The close button opens a dialog that Escape dismisses, changing nothing.
    await page.focus('#close-day');
    await page.keyboard.press('Enter');
    await page.waitForSelector('dialog#confirm[open]');
    await page.keyboard.press('Escape');
    await page.waitForSelector('dialog#confirm[open]', { state: 'hidden' });
    expect((await statementFor(admin)).status).toBe('open');

    // The navigation is links: Enter on one shows its page, and the page's title takes the focus.
    await page.focus('nav a[href^="#/devices"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector(`main[aria-busy="false"] [data-figure="device.${day.devices.gates[0]}.taps"]`);
    await page.waitForFunction("document.activeElement && document.activeElement.id === 'page-title'");
    await page.close();
  });

  it('lets an admin block an account at the gates from the deny list page, as validators then see it', async () => {
    const rider = await testAccount(app, 'passenger');
    const page = await signIn(admin, '#/denylist');
    await page.fill('#block-account', rider.id);
    await page.fill('#block-reason', 'điện thoại bị mất cắp');
    await page.click('#block-submit');
    await page.waitForSelector('#flash');
    // The feed leaves out changes younger than two seconds (a transaction begun earlier may still commit one before them).
    await page.waitForTimeout(2_500);
    await page.reload();
    await page.waitForSelector(`[data-denied="${rider.id}"]`);
    const denylist = (await (await apiGet('/v1/denylist', admin)).json()) as { entries: Array<{ kind: string; id: string; status: string }> };
    expect(denylist.entries).toContainEqual(expect.objectContaining({ kind: 'account', id: rider.id, status: 'blocked' }));
    expect(await page.textContent(`[data-denied-status="${rider.id}"]`)).toBe('Bị chặn');
    await page.close();
  });

  it('writes screenshots of the main pages (npm run console:screenshots)', async () => {
    mkdirSync(shots, { recursive: true });
    const page = await signIn(admin);
    const pages = [
      ['day', `#/day?date=${day.date}`],
      ['trend', `#/trend?date=${day.date}`],
      ['devices', `#/devices?date=${day.date}`],
      ['denylist', '#/denylist'],
    ] as const;
    for (const [name, hash] of pages) {
      await page.goto(`${base}/console/${hash}`);
      await page.waitForSelector('main[aria-busy="false"] #page-title');
      await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 820, height: 1180 });
    await page.click('#language');
    await page.goto(`${base}/console/#/day?date=${day.date}&operator=hmc`);
    await page.waitForSelector('html[lang="en"] main[aria-busy="false"] #page-title');
    await page.screenshot({ path: join(shots, 'day-tablet-en.png'), fullPage: false });
    // A tablet held upright: nothing wider than the screen, so nothing needs sideways scrolling.
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(820);
    await page.click('#language');
    await page.close();
    for (const name of ['day', 'trend', 'devices', 'denylist', 'day-tablet-en']) expect(readFileSync(join(shots, `${name}.png`)).subarray(1, 4).toString()).toBe('PNG');
  });

  it('flags the failing gate and lets an admin disable it', async () => {
    const page = await signIn(admin, `#/devices?date=${day.date}`);
    await page.waitForSelector(`[data-attention="${day.devices.failing}"]`);
    expect(await page.locator(`[data-attention="${day.devices.silent}"]`).count()).toBe(1);
    expect(await page.locator(`[data-attention="${day.devices.gates[0]}"]`).count()).toBe(0);
    const rejected = Object.values(day.rejectedByReason).reduce((sum, taps) => sum + taps, 0);
    expect(await value(page, `device.${day.devices.failing}.rejectionShare`)).toBeCloseTo(rejected / (rejected + 3), 3);
    expect(await value(page, `device.${day.devices.bus}.offlineShare`)).toBeGreaterThan(0);
    // Silent that day: its last tap is found in the days before, and it has none that day.
    const activity = (await (await apiGet(`/v1/reports/devices?date=${day.date}`, admin)).json()) as { devices: Array<{ deviceId: string; lastTapAt: string; taps: number }> };
    expect(activity.devices.find((row) => row.deviceId === day.devices.silent)).toMatchObject({ lastTapAt: day.silentLastTap.toISOString(), taps: 0 });
    expect(await value(page, `device.${day.devices.silent}.taps`)).toBe(0);

    await page.click(`[data-disable="${day.devices.failing}"]`);
    await page.click('#confirm-ok');
    await page.waitForSelector('#flash');
    const devices = (await (await apiGet('/v1/devices?operatorId=hmc', admin)).json()) as Array<{ deviceId: string; disabledAt?: string }>;
    expect(devices.find((device) => device.deviceId === day.devices.failing)?.disabledAt).toEqual(expect.any(String));
    expect(await page.locator(`[data-disable="${day.devices.failing}"]`).count()).toBe(0);
    await page.close();
  });

  it('closes the day for an admin: the statement is frozen, its hash and Hà Nội closing time shown', async () => {
    const page = await signIn(admin);
    expect(await page.getAttribute('#day-status', 'data-status')).toBe('open');
    await page.click('#close-day');
    await page.click('#confirm-ok');
    await page.waitForSelector('#day-status[data-status="closed"]');
    const statement = await statementFor(admin);
    expect(statement.status).toBe('closed');
    expect(await page.textContent('#day-sha256')).toBe(statement.sha256);
    expect(await page.textContent('#day-status')).toContain(hanoiClock.format(new Date(statement.closedAt!)));
    expect(await value(page, 'check.revenue')).toBe(statement.check.revenue);
    await page.close();
  });
});
