import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

// A chest CT series as a study (issue #14, part 4): a zip of shuffled synthetic DICOM slices, made
// by `python -m ml.ct.synthetic`, uploaded through the web app, scored by the worker's CT model.
const username = requiredEnv('E2E_USERNAME');
const password = requiredEnv('E2E_PASSWORD');
const fileName = 'ct-series.zip';

type CTJson = {
  status: string;
  patient_probability: number | null;
  slice_probabilities: number[];
  aggregation: string | null;
  analyser: { trained: boolean } | null;
};
type StudyJson = { id: string; kind: string; status: string; original_filename: string; ct: CTJson | null };

describe('a CT series as a study', () => {
  let browser: Browser;
  let watched: WatchedPage;
  let page: Page;
  let scratch: string;
  let study: StudyJson;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'ct-e2e-'));
    execFileSync(requiredEnv('PY'), ['-m', 'ml.ct.synthetic', join(scratch, fileName)]);
    browser = await launchBrowser();
    watched = await openPage(browser);
    page = watched.page;
  });

  afterAll(async () => {
    await browser?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('uploads a zip of CT slices and shows the patient result, the slices\' strip and the CT model\'s card', async () => {
    await signIn(page, username, password);
    const token = await apiToken(page, username, password);
    await page.getByLabel('Upload radiographs').setInputFiles(join(scratch, fileName));
    await page.getByRole('list', { name: 'Upload results' }).getByRole('link', { name: `Open study ${fileName}` }).waitFor({ timeout: 60_000 });

    await expect
      .poll(
        async () => {
          const response = await page.request.get(`${baseUrl}/api/studies/`, { headers: { Authorization: `Bearer ${token}` } });
          const listed = ((await response.json()) as { results: StudyJson[] }).results.find((item) => item.original_filename === fileName);
          if (!listed) return false;
          const detail = await page.request.get(`${baseUrl}/api/studies/${listed.id}/`, { headers: { Authorization: `Bearer ${token}` } });
          study = (await detail.json()) as StudyJson;
          return study.status === 'done' && study.ct?.status === 'done';
        },
        { timeout: ANALYSIS_TIMEOUT_MS, interval: 2_000 },
      )
      .toBe(true);
    const ct = study.ct!;
    expect(study.kind).toBe('ct');
    expect(ct.slice_probabilities).toHaveLength(8);
    const mean = ct.slice_probabilities.reduce((sum, value) => sum + value, 0) / 8;
    expect(ct.patient_probability).toBeCloseTo(mean, 6);

    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: fileName, exact: true }) });
    await row.getByText('CT', { exact: true }).waitFor();

    await page.goto(`${baseUrl}/studies/${study.id}`);
    const panel = page.getByRole('region', { name: 'CT: severe against mild COVID-19 involvement', exact: true });
    await panel.getByText(`${(ct.patient_probability! * 100).toFixed(1)}%`, { exact: true }).waitFor();
    await panel.getByText(`${ct.aggregation} of 8 slices`, { exact: true }).waitFor();
    const warning = panel.getByText(/^Untrained CT model — not for clinical use\./);
    expect(await warning.count()).toBe(ct.analyser?.trained ? 0 : 1);
    await page.getByRole('img', { name: `Radiograph ${fileName}` }).waitFor({ state: 'visible' });
    await page.getByRole('img', { name: /each of 8 slices, first slice left/ }).waitFor({ state: 'visible' });

    await screenshot(page, 'ct-study');
    await expectNoSeriousA11yViolations(page, 'CT study');
  });

  it('scrolls through the series from the keyboard, each slice as the CT model saw it', async () => {
    const slider = page.getByRole('slider', { name: 'Slice' });
    expect(await slider.getAttribute('aria-valuetext')).toBe('Slice 5 of 8');
    await slider.focus();
    await page.keyboard.press('Home');
    await page.getByText(`Slice 1 of 8: ${(study.ct!.slice_probabilities[0]! * 100).toFixed(1)}% severe involvement`).waitFor();
    await page.getByText(/slice 1, as the CT model saw it/).waitFor();
    const image = page.getByRole('img', { name: `Radiograph ${fileName}` });
    await expect.poll(() => image.evaluate((element) => (element as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
    await page.keyboard.press('End');
    await page.getByText(/^Slice 8 of 8: /).waitFor();
    expect(watched.errors()).toEqual([]);
  });
});
