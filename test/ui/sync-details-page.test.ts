/**
 * The sync details page in headless Chromium (Debian's `chromium`, driven by playwright-core):
 * the task list with its sort and filters, a task's failed files and file status, updated live
 * while the engine syncs.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUiServer, type UiServer } from '../../src/cli/ui-server.js';
import { startCloudServer, type CloudServer } from '../../src/cloud/server.js';
import { createEngine, type Engine } from '../../src/engine.js';
import { createSystemClock } from '../../src/io/clock.js';
import { createTrash } from '../../src/io/trash.js';

let dir: string;
let server: CloudServer;
let engine: Engine;
let ui: UiServer;
let browser: Browser;
let page: Page;
let albums: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'foldsync-ui-'));
  server = await startCloudServer({ dataDir: join(dir, 'cloud'), port: 0 });
  const { token } = await server.data.core.addUser('ada');
  engine = await createEngine({ dataDir: join(dir, 'home'), cloud: { url: server.url, token }, terminalName: 'laptop', trash: createTrash({ clock: createSystemClock(), dataHome: join(dir, 'xdg') }) });
  const a = join(dir, 'albums');
  mkdirSync(a);
  writeFileSync(join(a, 'small.txt'), 'fits');
  writeFileSync(join(a, 'big.bin'), 'x'.repeat(500));
  const b = join(dir, 'backup');
  mkdirSync(b);
  writeFileSync(join(b, 'b.txt'), 'bee');
  albums = join(dir, 'albums');
  await engine.createTask({ localRoot: a, cloud: 'personal:/Albums' });
  await engine.createTask({ localRoot: b, cloud: 'personal:/Backup', mode: 'upload' });
  await server.data.core.setQuota('personal:ada', 100);
  await engine.syncOnce();
  ui = await startUiServer({ dataDir: join(dir, 'home') });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  page = await browser.newPage();
  await page.goto(ui.url);
}, 120_000);
afterAll(async () => {
  await browser.close();
  await ui.close();
  await engine.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const names = (): Promise<string[]> => page.locator('#tasks tbody tr td:first-child').allTextContents();

describe('the sync details page', () => {
  it('lists the tasks, with the red exclamation for failed files', async () => {
    await expect.poll(names).toEqual(['Albums', 'Backup']);
    await expect.poll(() => page.locator('#tasks tbody tr').first().locator('td').nth(1).textContent()).toBe('Synchronized completion !');
  });

  it('sorts by cloud name or creation time, either direction, and filters by status, type and space', async () => {
    await page.selectOption('#sort', 'name');
    await page.check('#desc');
    await expect.poll(names).toEqual(['Backup', 'Albums']);
    await page.uncheck('#desc');
    await page.selectOption('#type', 'upload');
    await expect.poll(names).toEqual(['Backup']);
    await page.selectOption('#type', '');
    await page.selectOption('#status', 'failed');
    await expect.poll(names).toEqual([]);
    await page.selectOption('#status', 'completed');
    await page.fill('#space', 'nowhere');
    await expect.poll(names).toEqual([]);
    await page.fill('#space', 'personal');
    await expect.poll(names).toEqual(['Albums', 'Backup']);
  });

  it("shows a task's failed files and its files on each side, filtered, and follows the engine live", async () => {
    await page.locator('#tasks tbody tr', { hasText: 'Albums' }).click();
    await expect.poll(() => page.locator('#failures tbody tr').allTextContents()).toEqual([expect.stringMatching(/^big\.binupload\s*quota1/)]);
    await expect.poll(() => page.locator('#files tbody tr').allTextContents()).toEqual(expect.arrayContaining(['localin-syncsmall.txt', 'cloudin-syncsmall.txt', 'localfailedbig.binquota']));
    await page.selectOption('#side', 'cloud');
    await expect.poll(() => page.locator('#files tbody tr').allTextContents()).toEqual(['cloudin-syncsmall.txt']);
    await server.data.core.setQuota('personal:ada', null);
    writeFileSync(join(albums, 'new.txt'), 'arrived');
    await engine.syncOnce();
    await expect.poll(() => page.locator('#files tbody tr').allTextContents(), { timeout: 10_000 }).toEqual(['cloudin-syncbig.bin', 'cloudin-syncnew.txt', 'cloudin-syncsmall.txt']);
    await expect.poll(() => page.locator('#failures tbody tr').count()).toBe(0);
    await page.selectOption('#file-status', 'failed');
    await expect.poll(() => page.locator('#files tbody tr').count()).toBe(0);
  });
});
