import { mkdir } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Runs against a real backend and Celery worker that the Makefile starts, with a user it creates.
const baseUrl = (process.env.E2E_BASE_URL ?? 'http://127.0.0.1:8000').replace(/\/$/, '');
const screenshotDir = fileURLToPath(new URL('./screenshots/', import.meta.url));
const UNTRAINED_BANNER = 'Untrained model — not for clinical use';
const ANALYSIS_TIMEOUT_MS = 120_000;

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set for the end-to-end test`);
  return value;
}

describe('clinician flow', () => {
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--headless',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 960 } });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('signs in, uploads a radiograph, waits for its findings and views a Grad-CAM heatmap', async () => {
    const username = requiredEnv('E2E_USERNAME');
    const password = requiredEnv('E2E_PASSWORD');
    const radiograph = requiredEnv('E2E_RADIOGRAPH');
    const fileName = basename(radiograph);

    await page.goto(`${baseUrl}/`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'My studies' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();

    // The upload's answer names the new study, so an older study of the same file is never opened.
    const uploadAnswer = page.waitForResponse(
      (response) => response.request().method() === 'POST' && new URL(response.url()).pathname === '/api/studies/',
    );
    await page.getByLabel('Upload radiographs').setInputFiles(radiograph);
    const upload = await uploadAnswer;
    expect([201, 202]).toContain(upload.status());
    const created = (await upload.json()) as { id: number | string; status: string; cached: boolean };

    const studyLink = page
      .getByRole('link', { name: fileName, exact: true })
      .and(page.locator(`a[href$="/studies/${created.id}"]`));
    await studyLink.click({ timeout: 30_000 });
    await page.waitForURL(`**/studies/${created.id}`);

    const findingButtons = page.getByRole('region', { name: 'Findings' }).getByRole('button');
    await findingButtons.first().waitFor({ state: 'visible', timeout: ANALYSIS_TIMEOUT_MS });
    expect(await findingButtons.count()).toBeGreaterThan(0);

    const health = (await (await page.request.get(`${baseUrl}/api/health/`)).json()) as {
      checks: { model: { trained: boolean } };
    };
    const banner = page.getByText(UNTRAINED_BANNER, { exact: true });
    if (health.checks.model.trained) {
      expect(await banner.count()).toBe(0);
    } else {
      await banner.waitFor({ state: 'visible' });
    }
    await page.getByText('Decision support, not a diagnosis.').waitFor({ state: 'visible' });

    const radiographImage = page.getByRole('img', { name: `Radiograph ${fileName}`, exact: true });
    await radiographImage.waitFor({ state: 'visible' });

    const firstFinding = findingButtons.first();
    const findingName = (await firstFinding.locator('.finding-label').textContent())?.trim() ?? '';
    expect(findingName).not.toBe('');
    expect(findingName).not.toContain('_');
    await firstFinding.click();
    expect(await firstFinding.getAttribute('aria-pressed')).toBe('true');

    const heatmap = page.getByRole('img', { name: `Grad-CAM heatmap for ${findingName}`, exact: true });
    await heatmap.waitFor({ state: 'visible', timeout: 30_000 });
    for (const image of [radiographImage, heatmap]) {
      await expect
        .poll(() => image.evaluate((element) => (element as HTMLImageElement).naturalWidth), { timeout: 30_000 })
        .toBeGreaterThan(0);
    }

    await mkdir(screenshotDir, { recursive: true });
    await page.screenshot({ path: `${screenshotDir}study.png`, fullPage: true });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();

    expect(consoleErrors).toEqual([]);
  });
});
