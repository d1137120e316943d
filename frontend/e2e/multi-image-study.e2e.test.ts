import { basename, dirname, join } from 'node:path';

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

// Runs against a real backend and Celery worker that the Makefile starts. Its own clinician (made
// by the admin through the API) keeps these studies out of the other flows' worklists.
const adminUsername = requiredEnv('E2E_ADMIN_USERNAME');
const adminPassword = requiredEnv('E2E_ADMIN_PASSWORD');
const radiograph = requiredEnv('E2E_RADIOGRAPH');
const followUp = join(dirname(radiograph), '00029464_000.png');
const username = 'e2e-multi-image';
const password = `e2e-${Date.now()}-multi-image-passphrase`;

type StudyJson = {
  status: string;
  aggregation: { rule: string; images: number } | null;
  findings: { label: string; probability: number }[];
  images: { position: number; analysed: boolean; findings: { label: string; probability: number }[] }[];
};

describe('a study of several images', () => {
  let browser: Browser;
  let watched: WatchedPage;
  let page: Page;

  beforeAll(async () => {
    browser = await launchBrowser();
    watched = await openPage(browser);
    page = watched.page;
    const adminToken = await apiToken(page, adminUsername, adminPassword);
    const made = await page.request.post(`${baseUrl}/api/users/`, {
      headers: { Authorization: `Bearer ${adminToken}` },
      data: { username, password, role: 'clinician' },
    });
    expect(made.status()).toBe(201);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('uploads two real radiographs as one study, follows it to done, opens it and switches between its images', async () => {
    await signIn(page, username, password);
    await page.getByRole('checkbox', { name: /Several files at once make one study/ }).check();
    const answer = page.waitForResponse(
      (response) => response.request().method() === 'POST' && new URL(response.url()).pathname === '/api/studies/',
    );
    await page.getByLabel('Upload radiographs').setInputFiles([radiograph, followUp]);
    const created = (await (await answer).json()) as { id: string };

    const row = page
      .getByRole('list', { name: 'Upload results' })
      .getByRole('listitem')
      .filter({ hasText: `${basename(radiograph)} + ${basename(followUp)}` });
    await row.getByText('Done', { exact: true }).waitFor({ timeout: ANALYSIS_TIMEOUT_MS });
    await row.getByRole('link').click();
    await page.waitForURL(`**/studies/${created.id}`);

    const token = await apiToken(page, username, password);
    const response = await page.request.get(`${baseUrl}/api/studies/${created.id}/`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    const study = (await response.json()) as StudyJson;
    expect(study.status).toBe('done');
    expect(study.aggregation).toEqual({ rule: 'mean', images: 2 });
    // The study's probability of each finding is the mean of its two images'.
    for (const finding of study.findings) {
      const [first, second] = study.images.map(
        (image) => image.findings.find((item) => item.label === finding.label)!.probability,
      );
      expect(finding.probability).toBeCloseTo((first! + second!) / 2, 9);
    }

    const strip = page.getByRole('list', { name: 'Images of this study' });
    await page.getByRole('region', { name: 'Study findings: mean of 2 frontal images' }).waitFor();
    await page.getByRole('region', { name: 'Image 1 findings' }).waitFor();
    await strip.getByRole('button', { name: /^Image 2/ }).click();
    await page.getByRole('region', { name: 'Image 2 findings' }).waitFor();
    await page.getByRole('img', { name: `Radiograph ${basename(followUp)}` }).waitFor();
    await page
      .getByRole('region', { name: 'Image 2 findings' })
      .getByRole('button')
      .first()
      .click();
    const heatmapSwitch = page.getByRole('checkbox', { name: /^Heatmap/ });
    if (!(await heatmapSwitch.isChecked())) await heatmapSwitch.check();
    await page.getByRole('img', { name: /^Grad-CAM heatmap for / }).waitFor();
    // The screener and the segmentation read the key image after the findings; the stream says when.
    for (const analyser of ['screener', 'segmentation']) {
      for (const state of [`Waiting for the ${analyser}…`, `The ${analyser} is running…`]) {
        await page.getByText(state).waitFor({ state: 'detached', timeout: ANALYSIS_TIMEOUT_MS });
      }
    }
    await expectNoSeriousA11yViolations(page, 'study of two images');
    await screenshot(page, 'multi-image-study');
    expect(watched.errors()).toEqual([]);
  });
});
