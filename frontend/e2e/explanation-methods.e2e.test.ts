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

// Runs against a real backend and Celery worker (frontend/e2e/with-backend.sh), on a real radiograph.
const username = requiredEnv('E2E_USERNAME');
const password = requiredEnv('E2E_PASSWORD');
const radiograph = requiredEnv('E2E_RADIOGRAPH');
// The worker's first gradient map also builds the Keras network and traces its gradient.
const EXPLANATION_TIMEOUT_MS = 120_000;

type StudyJson = { status: string; findings: { label: string; probability: number }[] };

describe('explanation methods', () => {
  let browser: Browser;
  let watched: WatchedPage;
  let page: Page;

  beforeAll(async () => {
    browser = await launchBrowser();
    watched = await openPage(browser);
    page = watched.page;
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('opens a study, compares Grad-CAM with a second method side by side and shows both faithfulness scores', async () => {
    await signIn(page, username, password);
    const token = await apiToken(page, username, password);
    const upload = await page.request.post(`${baseUrl}/api/studies/`, {
      headers: { Authorization: `Bearer ${token}` },
      multipart: { image: { name: 'explained-chest.png', mimeType: 'image/png', buffer: await readFile(radiograph) } },
    });
    expect([201, 202]).toContain(upload.status());
    const studyId = ((await upload.json()) as { id: string }).id;
    let findings: StudyJson['findings'] = [];
    await expect
      .poll(
        async () => {
          const study = await page.request.get(`${baseUrl}/api/studies/${studyId}/`, {
            headers: { Authorization: `Bearer ${token}` },
          });
          const body = (await study.json()) as StudyJson;
          findings = body.findings;
          return body.status;
        },
        { timeout: ANALYSIS_TIMEOUT_MS, interval: 1000 },
      )
      .toBe('done');
    // The untrained model is certain of some findings; one it is unsure of gives the curves room to move.
    const unsure = findings.reduce((best, finding) =>
      Math.abs(finding.probability - 0.5) < Math.abs(best.probability - 0.5) ? finding : best,
    );
    const findingName = unsure.label.replaceAll('_', ' ');

    await page.goto(`${baseUrl}/studies/${studyId}`);
    const findingButton = page
      .getByRole('region', { name: 'Findings', exact: true })
      .getByRole('button')
      .filter({ has: page.locator('.finding-label', { hasText: new RegExp(`^${findingName}$`) }) });
    await findingButton.click();

    const panel = page.getByRole('region', { name: `Explanation: ${findingName}` });
    expect(await panel.getByLabel('Explanation method').inputValue()).toBe('gradcam');
    await panel.getByLabel('Compare two methods side by side').check();
    await panel.getByLabel('Compare with').selectOption('saliency');

    const comparison = page.getByRole('region', { name: `Side-by-side explanations of ${findingName}` });
    for (const method of ['Grad-CAM', 'Gradient saliency']) {
      const map = comparison.getByRole('img', { name: `${method} map for ${findingName}`, exact: true });
      await map.waitFor({ state: 'visible', timeout: EXPLANATION_TIMEOUT_MS });
      await expect.poll(() => map.evaluate((element) => (element as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
    }
    const scores = comparison.locator('.faithfulness-scores');
    await expect.poll(() => scores.count()).toBe(2);
    for (const text of await scores.allTextContents()) {
      expect(text).toMatch(/Deletion AUC\s*[01]\.\d{3}\s*lower is better/);
      expect(text).toMatch(/Insertion AUC\s*[01]\.\d{3}\s*higher is better/);
    }
    await expectNoSeriousA11yViolations(page, 'study with two explanation methods side by side');
    await screenshot(page, 'explanation-methods');
    expect(watched.errors()).toEqual([]);
  });
});
