import { readFile } from 'node:fs/promises';

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  ANALYSIS_TIMEOUT_MS,
  apiToken,
  baseUrl,
  expectNoSeriousA11yViolations,
  launchBrowser,
  openPage,
  requiredEnv,
  screenshot,
  signIn,
  type WatchedPage,
} from './support';

// The admin's day: users (create, reset a password, deactivate and reactivate), the audit log and
// the model with its agreement rates. Self-contained: it makes its own clinician and their data.
const adminName = requiredEnv('E2E_ADMIN_USERNAME');
const adminPassword = requiredEnv('E2E_ADMIN_PASSWORD');
const radiograph = requiredEnv('E2E_RADIOGRAPH');

const nurse = `e2e-nurse-${Date.now().toString(36)}`;
const firstPassword = 'a first long passphrase 1';
const resetPassword = 'a reset long passphrase 2';

type Agreement = { findings: { label: string; answered: number; agreement_rate: number | null }[] };

describe('admin flow', () => {
  let browser: Browser;
  let watched: WatchedPage;
  let page: Page;
  let adminToken: string;

  const api = async (path: string, options: { method?: string; token: string; data?: unknown; multipart?: object }) => {
    const response = await page.request.fetch(`${baseUrl}${path}`, {
      method: options.method ?? 'GET',
      headers: { Authorization: `Bearer ${options.token}` },
      data: options.data,
      multipart: options.multipart as never,
    });
    return { status: response.status(), body: (await response.json().catch(() => null)) as unknown };
  };

  beforeAll(async () => {
    browser = await launchBrowser();
    watched = await openPage(browser);
    page = watched.page;
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('signs in as an admin and sees every admin page in the navigation', async () => {
    await signIn(page, adminName, adminPassword);
    adminToken = await apiToken(page, adminName, adminPassword);
    await page.getByRole('heading', { name: 'All studies' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const name of ['Studies', 'Users', 'Audit log', 'Model', 'Model versions']) {
      await nav.getByRole('link', { name, exact: true }).waitFor();
    }
  });

  it('creates a clinician and resets their password: the old one stops working, the new one works', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { level: 1, name: 'Users', exact: true }).waitFor();
    const form = page.getByRole('form', { name: 'Create a user' });
    await form.getByLabel('Username').fill(nurse);
    await form.getByLabel('Initial password').fill(firstPassword);
    await form.getByLabel('Role').selectOption('clinician');
    await form.getByRole('button', { name: 'Create user' }).click();
    await form.getByText(`Created ${nurse} (clinician).`).waitFor();
    const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: nurse, exact: true }) });
    await row.getByText('Active', { exact: true }).waitFor();

    const before = await apiToken(page, nurse, firstPassword);
    await page.getByRole('button', { name: `Reset password for ${nurse}` }).click();
    await page.getByLabel(`New password for ${nurse}`).fill(resetPassword);
    await page.getByRole('button', { name: 'Set password', exact: true }).click();
    await page.getByText(`New password set for ${nurse}; their sessions have ended.`).waitFor();

    expect((await api('/api/studies/', { token: before })).status).toBe(401);
    const refused = await page.request.post(`${baseUrl}/api/auth/token/`, { data: { username: nurse, password: firstPassword } });
    expect(refused.status()).toBe(401);
    expect((await api('/api/studies/', { token: await apiToken(page, nurse, resetPassword) })).status).toBe(200);

    await screenshot(page, 'users');
    await expectNoSeriousA11yViolations(page, 'users');
  });

  it('deactivates a signed-in clinician: their browser session and tokens stop working at once', async () => {
    const clinician = await openPage(browser);
    // The clinician's requests after deactivation are refused, as they should be.
    clinician.expectErrors(/Failed to load resource: the server responded with a status of 401/);
    try {
      await signIn(clinician.page, nurse, resetPassword);
      await clinician.page.getByRole('heading', { name: 'My studies' }).waitFor();
      const token = await apiToken(clinician.page, nurse, resetPassword);

      await page.getByRole('button', { name: `Deactivate ${nurse}`, exact: true }).click();
      await page.getByRole('button', { name: `Reactivate ${nurse}`, exact: true }).waitFor();

      expect((await api('/api/studies/', { token })).status).toBe(401);
      // The open live-status stream ends at the deactivation, its refresh is refused, and the web app
      // sends the clinician back to sign-in; a reload stays there.
      await clinician.page.getByRole('button', { name: 'Sign in' }).waitFor();
      await clinician.page.reload();
      await clinician.page.getByRole('button', { name: 'Sign in' }).waitFor();
      const signInAgain = await clinician.page.request.post(`${baseUrl}/api/auth/token/`, {
        data: { username: nurse, password: resetPassword },
      });
      expect(signInAgain.status()).toBe(401);

      await page.getByRole('button', { name: `Reactivate ${nurse}`, exact: true }).click();
      await page.getByRole('button', { name: `Deactivate ${nurse}`, exact: true }).waitFor();
      await signIn(clinician.page, nurse, resetPassword);
      expect(clinician.errors()).toEqual([]);
    } finally {
      await clinician.context.close();
    }
  });

  it('reads the audit log: sign-ins, failed sign-ins, uploads, views, downloads and feedback, filterable', async () => {
    // The clinician's day, through the API: a failed sign-in, an upload, a view, a download, feedback.
    const wrong = await page.request.post(`${baseUrl}/api/auth/token/`, { data: { username: nurse, password: 'not it' } });
    expect(wrong.status()).toBe(401);
    const token = await apiToken(page, nurse, resetPassword);
    const upload = await api('/api/studies/', {
      method: 'POST',
      token,
      multipart: { image: { name: 'audit-chest.png', mimeType: 'image/png', buffer: await readFile(radiograph) } },
    });
    expect([201, 202]).toContain(upload.status);
    const studyId = (upload.body as { id: string }).id;
    let label = '';
    await expect
      .poll(
        async () => {
          const study = (await api(`/api/studies/${studyId}/`, { token })).body as { status: string; findings: { label: string }[] };
          label = study.findings[0]?.label ?? '';
          return study.status;
        },
        { timeout: ANALYSIS_TIMEOUT_MS, interval: 1_000 },
      )
      .toBe('done');
    expect((await api(`/api/studies/${studyId}/image/`, { token })).status).toBe(200);
    const feedback = await api(`/api/studies/${studyId}/feedback/${label}/`, { method: 'PUT', token, data: { verdict: 'agree' } });
    expect(feedback.status).toBe(200);

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log', exact: true }).waitFor();
    await page.getByLabel('Username', { exact: true }).fill(nurse);
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await page.waitForURL(new RegExp(`actor=${nurse}`));
    const table = page.getByRole('table', { name: 'Audit events' });
    for (const action of ['Failed sign-in', 'Signed in', 'Uploaded a study', 'Viewed a study', 'Downloaded a radiograph', 'Gave feedback']) {
      await table.getByRole('cell', { name: action, exact: true }).first().waitFor();
    }
    const failed = table.getByRole('row').filter({ hasText: 'Failed sign-in' }).first();
    await failed.getByRole('cell', { name: '127.0.0.1', exact: true }).waitFor();
    await screenshot(page, 'audit-log');
    await expectNoSeriousA11yViolations(page, 'audit log');

    await page.getByLabel('Action', { exact: true }).selectOption('sign_in_failed');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await page.waitForURL(/action=sign_in_failed/);
    // Three refusals: the password before the reset, the sign-in while deactivated, the wrong one.
    await expect.poll(() => table.getByRole('row').count()).toBe(1 + 3);
    expect(await table.getByRole('cell', { name: 'Failed sign-in', exact: true }).count()).toBe(3);
  });

  it('shows the active model card and, from feedback, the agreement rate per finding', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Model', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Model', exact: true }).waitFor();
    const card = page.getByRole('region', { name: 'Active model', exact: true });
    await card.getByText('Training data').waitFor();
    const agreement = (await api('/api/model/agreement/', { token: adminToken })).body as Agreement;
    const answered = agreement.findings.find((row) => row.answered > 0);
    expect(answered).toBeDefined();
    const table = page.getByRole('table', { name: 'Findings of the active model' });
    const row = table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: answered!.label.replace(/_/g, ' '), exact: true }) });
    const rate = answered!.agreement_rate === null ? '—' : `${(answered!.agreement_rate * 100).toFixed(1)}%`;
    // The rate is the row's last column; the threshold's column may show the same percentage.
    const rateCell = row.getByRole('cell').last();
    await rateCell.waitFor();
    expect((await rateCell.textContent())?.trim()).toBe(rate);

    await screenshot(page, 'model');
    await expectNoSeriousA11yViolations(page, 'model');
    expect(watched.errors()).toEqual([]);
  });
});
