import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';

// Shared by the browser tests: one Chromium, pages that record console errors, sign-in, axe checks
// and the screenshots the README shows.
export const baseUrl = (process.env.E2E_BASE_URL ?? 'http://127.0.0.1:8000').replace(/\/$/, '');
export const screenshotDir = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
export const UNTRAINED_BANNER = 'Untrained model — not for clinical use';
export const ANALYSIS_TIMEOUT_MS = 150_000;
export const DESKTOP = { width: 1280, height: 960 };
export const TABLET = { width: 768, height: 1024 };
export const READING_DESKTOP = { width: 1440, height: 900 };

export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set for the end-to-end tests`);
  return value;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
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
}

export type WatchedPage = {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions so far, except those the test said to expect. */
  errors: () => string[];
  /** Allow console errors matching this pattern (e.g. the 415 of a deliberately wrong upload). */
  expectErrors: (pattern: RegExp) => void;
};

export async function openPage(browser: Browser, viewport = DESKTOP): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const seen: string[] = [];
  const expected: RegExp[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') seen.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => seen.push(`page error: ${error.message}`));
  return {
    context,
    page,
    errors: () => seen.filter((error) => !expected.some((pattern) => pattern.test(error))),
    expectErrors: (pattern) => expected.push(pattern),
  };
}

export async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** Tokens for API calls made beside the browser (setting up data, checking a token's fate). */
export async function apiToken(page: Page, username: string, password: string): Promise<string> {
  const response = await page.request.post(`${baseUrl}/api/auth/token/`, { data: { username, password } });
  expect(response.status()).toBe(200);
  return ((await response.json()) as { access: string }).access;
}

/** A GET of the API as the token's user, expecting 200. */
export async function apiGet<T>(page: Page, token: string, path: string): Promise<T> {
  const response = await page.request.get(`${baseUrl}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  expect(response.status()).toBe(200);
  return (await response.json()) as T;
}

type UploadFile = { name: string; mimeType: string; path: string };

/**
 * Uploads one file as a study through the API and polls the study until `ready` says so (its
 * analysers settled, say); answers the study's id and its last state. Call it inside a test
 * (Vitest's expect.poll refuses hooks).
 */
export async function uploadAndAwait<T extends { status: string }>(
  page: Page,
  token: string,
  file: UploadFile,
  ready: (study: T) => boolean,
  /** More form fields of the upload (a patient_reference). */
  fields: Record<string, string> = {},
): Promise<{ id: string; study: T }> {
  const upload = await page.request.post(`${baseUrl}/api/studies/`, {
    headers: { Authorization: `Bearer ${token}` },
    multipart: { image: { name: file.name, mimeType: file.mimeType, buffer: await readFile(file.path) }, ...fields },
  });
  expect([201, 202]).toContain(upload.status());
  const id = ((await upload.json()) as { id: string }).id;
  let study: T | undefined;
  await expect
    .poll(
      async () => {
        study = await apiGet<T>(page, token, `/api/studies/${id}/`);
        return ready(study);
      },
      { timeout: ANALYSIS_TIMEOUT_MS, interval: 2_000 },
    )
    .toBe(true);
  return { id, study: study! };
}

const axeSource = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

type AxeViolation = { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] };

/** Run axe-core in the page and fail on serious or critical violations (WCAG 2.x A and AA). */
export async function expectNoSeriousA11yViolations(page: Page, where: string): Promise<void> {
  // Evaluated through the DevTools protocol, not added as an inline <script>: the service's
  // Content-Security-Policy refuses inline scripts, and the test must not loosen it.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(await axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document, options: object) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return result.violations.map(({ id, impact, help, nodes }) => ({ id, impact, help, nodes: nodes.map((node) => ({ target: node.target })) }));
  });
  const serious = violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${where}: ${violation.id} (${violation.impact}) ${violation.help}: ${JSON.stringify(violation.nodes.map((node) => node.target))}`);
  expect(serious).toEqual([]);
}

/** The whole page by default; `fullPage: false` shows what the window shows (a sticky viewer where it sticks). */
export async function screenshot(page: Page, name: string, { fullPage = true } = {}): Promise<void> {
  await mkdir(screenshotDir, { recursive: true });
  await page.screenshot({ path: `${screenshotDir}${name}.png`, fullPage });
}

/** True when the page fits its viewport's width: nothing to scroll sideways on a tablet. */
export async function fitsWidth(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}
