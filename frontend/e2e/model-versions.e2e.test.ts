import { readFile } from 'node:fs/promises';

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  apiGet,
  apiToken,
  baseUrl,
  expectNoSeriousA11yViolations,
  launchBrowser,
  openPage,
  requiredEnv,
  screenshot,
  signIn,
} from './support';

// The admin takes a candidate model (installed by the operator, with-backend.sh) with a site threshold
// profile from upload to shadow to active, switches the profile off and on, and finally puts the boot
// model back so that the specs after this one see the model they expect.
const adminName = requiredEnv('E2E_ADMIN_USERNAME');
const adminPassword = requiredEnv('E2E_ADMIN_PASSWORD');
const profilePath = `${requiredEnv('E2E_PROFILE_DIR')}/e2e-site-v1.json`;

type Overview = {
  active: { id: number; model_version: { id: number }; profile: { identity: string } | null };
  versions: { id: number; name: string; trained: boolean }[];
};
type AuditPage = { results: { action: string; detail: Record<string, unknown> }[] };

describe('model versions', () => {
  let browser: Browser;
  let page: Page;
  let token: string;
  let bootVersion: number;

  const confirm = async (label: string) => {
    await page.getByRole('button', { name: label, exact: true }).click();
    await page.getByRole('group', { name: `Confirm: ${label}` }).getByRole('button', { name: 'Confirm' }).click();
  };
  const active = () => page.getByTestId('deployment-active');

  beforeAll(async () => {
    browser = await launchBrowser();
    page = (await openPage(browser)).page;
    await signIn(page, adminName, adminPassword);
    token = await apiToken(page, adminName, adminPassword);
    bootVersion = (await apiGet<Overview>(page, token, '/api/admin/models/')).active.model_version.id;
  });

  afterAll(async () => {
    // Back to the boot default (the untrained model, its card's thresholds) through the API.
    const headers = { Authorization: `Bearer ${token}` };
    await page?.request.post(`${baseUrl}/api/admin/models/shadow/`, {
      headers,
      data: { model_version: bootVersion, profile: null },
    });
    await page?.request.post(`${baseUrl}/api/admin/models/promote/`, { headers });
    await browser?.close();
  });

  it('installs a site profile from its file, refuses a doctored one, and lists it', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Model versions' }).click();
    await page.getByRole('heading', { level: 1, name: 'Model versions' }).waitFor();
    await expect(active().textContent()).resolves.toContain("the card's own thresholds");

    const upload = page.getByLabel(/Threshold profile file/);
    const doctored = JSON.parse(await readFile(profilePath, 'utf8')) as Record<string, unknown>;
    await upload.setInputFiles({
      name: 'doctored.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify({ ...doctored, weights_sha256: 'f'.repeat(64) })),
    });
    await page.getByRole('button', { name: 'Install profile' }).click();
    await page.getByRole('alert').filter({ hasText: 'other weights' }).waitFor();

    await upload.setInputFiles(profilePath);
    await page.getByRole('button', { name: 'Install profile' }).click();
    await page.getByRole('status').filter({ hasText: 'Installed e2e-site-v1.' }).waitFor();
    await page.getByRole('table', { name: 'Threshold profiles' }).getByRole('rowheader', { name: 'e2e-site-v1' }).waitFor();
    await expectNoSeriousA11yViolations(page, 'model versions');
  });

  it('runs the candidate with the profile in shadow, promotes it, and sees the profile named as active', async () => {
    await confirm('Run e2e-site-v1 in shadow');
    await page.getByTestId('deployment-shadow').filter({ hasText: 'threshold profile e2e-site-v1' }).waitFor();
    await confirm('Promote the shadow model');
    await active().filter({ hasText: 'e2e-candidate 2.0.0 with threshold profile e2e-site-v1' }).waitFor();
    await screenshot(page, 'model-versions');
  });

  it("switches to the card's own thresholds and activates the profile again, each step audited", async () => {
    await confirm("Use the card's own thresholds");
    await active().filter({ hasText: "e2e-candidate 2.0.0 with the card's own thresholds" }).waitFor();
    await confirm('Activate e2e-site-v1');
    await active().filter({ hasText: 'with threshold profile e2e-site-v1' }).waitFor();

    const audit = await apiGet<AuditPage>(page, token, '/api/audit/?action=profile_activate');
    expect(audit.results.map((event) => event.detail.profile)).toEqual(['e2e-site-v1', null]);
    const promoted = await apiGet<AuditPage>(page, token, '/api/audit/?action=model_promote');
    expect(promoted.results).toHaveLength(1);
  });
});
