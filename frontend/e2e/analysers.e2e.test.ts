import { dirname, join } from 'node:path';

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { formatPercentPair } from '../src/utils/format';

import {
  apiToken,
  baseUrl,
  expectNoSeriousA11yViolations,
  launchBrowser,
  openPage,
  requiredEnv,
  screenshot,
  signIn,
  uploadAndAwait,
  type WatchedPage,
} from './support';

// The analysers beside the classifier (issue #13): the screener's flag and the segmentation's
// outlines and cardiothoracic ratio, on a study of their own (a radiograph no other test uploads,
// so no cached result), each checked against what the API says of it, trained or not.
const username = requiredEnv('E2E_USERNAME');
const password = requiredEnv('E2E_PASSWORD');
const radiograph = join(dirname(requiredEnv('E2E_RADIOGRAPH')), '00027061_000.png');
const fileName = 'analysers-chest.png';
const NEVER_NORMAL = /never reports a study as normal/;

type AnalyserRun = { status: string; analyser: { trained: boolean } | null };
type StudyJson = {
  status: string;
  screener: (AnalyserRun & { probability: number | null; threshold: number | null; likely_abnormal: boolean | null; trained: boolean | null }) | null;
  segmentation:
    | (AnalyserRun & { structures: string[]; cardiothoracic_ratio: { ratio: number; above_range: boolean } | null })
    | null;
};

const settled = (run: AnalyserRun | null) => run !== null && (run.status === 'done' || run.status === 'failed');
const percent = (fraction: number) => `${(fraction * 100).toFixed(1)}%`;

describe('analysers beside the classifier', () => {
  let browser: Browser;
  let watched: WatchedPage;
  let page: Page;
  let token: string;
  let studyId: string;
  let study: StudyJson;

  beforeAll(async () => {
    browser = await launchBrowser();
    watched = await openPage(browser);
    page = watched.page;
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('analyses an upload with the screener and the segmentation, each finishing on its own', async () => {
    await signIn(page, username, password);
    token = await apiToken(page, username, password);
    ({ id: studyId, study } = await uploadAndAwait<StudyJson>(
      page,
      token,
      { name: fileName, mimeType: 'image/png', path: radiograph },
      (current) => current.status === 'done' && settled(current.screener) && settled(current.segmentation),
    ));
    expect(study.screener!.status).toBe('done');
    expect(study.segmentation!.status).toBe('done');
  });

  it('shows the screener\'s probability, flag and own untrained warning, and never calls the study normal', async () => {
    await page.goto(`${baseUrl}/studies/${studyId}`);
    const panel = page.getByRole('region', { name: 'Abnormality screener', exact: true });
    const screener = study.screener!;
    // The probability follows its term (an untrained screener's may equal its threshold).
    const probability = panel.locator('dt', { hasText: 'Probability of any abnormality' }).locator('xpath=following-sibling::dd[1]');
    // Printed with as many decimals as tell it from its threshold (the web app's one rule).
    expect(await probability.textContent()).toBe(formatPercentPair(screener.probability!, screener.threshold!)[0]);
    await panel.getByText(screener.likely_abnormal ? 'Likely abnormal' : "Below the screener's threshold", { exact: true }).waitFor();
    await panel.getByText(NEVER_NORMAL).waitFor();
    const warning = panel.getByText(/^Untrained screener — not for clinical use\./);
    expect(await warning.count()).toBe(screener.trained ? 0 : 1);
    const text = (await panel.textContent()) ?? '';
    expect(text.replace(/[^.]*never reports a study as normal[^.]*\./, '')).not.toMatch(/\bnormal\b/i);
  });

  it('draws the outlines, switchable per structure, and the ratio with its two lines only from a trained segmentation', async () => {
    const panel = page.getByRole('region', { name: 'Anatomy and cardiothoracic ratio', exact: true });
    const segmentation = study.segmentation!;
    const trained = segmentation.analyser?.trained === true;
    const warning = panel.getByText(/^Untrained segmentation model — not for clinical use\./);
    expect(await warning.count()).toBe(trained ? 0 : 1);

    const ratio = segmentation.cardiothoracic_ratio;
    const heartLine = page.getByRole('img', { name: /^Heart line/ });
    const thoraxLine = page.getByRole('img', { name: /^Thorax line/ });
    if (trained && ratio) {
      await panel.getByText(`Cardiothoracic ratio ${ratio.ratio.toFixed(2)}`).waitFor();
      await panel.getByText(ratio.above_range ? 'Above the normal range' : 'Within the normal range').waitFor();
      await panel.getByText(/Normal range: ≤ 0\.50 on a PA film/).waitFor();
      await heartLine.waitFor({ state: 'visible' });
      await thoraxLine.waitFor({ state: 'visible' });
    } else {
      expect(await panel.getByText(/^Cardiothoracic ratio \d/).count()).toBe(0);
      expect(await heartLine.count()).toBe(0);
      expect(await thoraxLine.count()).toBe(0);
    }

    // The overlay's one switch beside the image: on by default only for a trained segmentation.
    const overlaySwitch = page.getByRole('checkbox', { name: /^Anatomy outlines/ });
    expect(await overlaySwitch.isChecked()).toBe(trained);
    if (!trained) {
      expect(await page.getByRole('img', { name: / outline$/ }).count()).toBe(0);
      await overlaySwitch.check();
    }

    const toggles = panel.getByRole('checkbox', { name: /^(?!Show the measurement lines)/ });
    expect(await toggles.count()).toBe(segmentation.structures.length);
    const first = toggles.first();
    const structure = (await first.locator('xpath=..').textContent())?.trim() ?? '';
    const outline = page.getByRole('img', { name: `${structure} outline`, exact: true });
    await outline.waitFor({ state: 'attached', timeout: 10_000 });
    await first.uncheck();
    expect(await outline.count()).toBe(0);
    await first.check();
    await outline.waitFor({ state: 'attached' });

    await screenshot(page, 'analysers');
    await expectNoSeriousA11yViolations(page, 'study with analysers');
  });

  it('shows the screener column in the worklist and sorts it, most likely abnormal first', async () => {
    await page.goto(`${baseUrl}/`);
    const table = page.getByRole('table', { name: 'My studies' });
    await table.getByRole('columnheader', { name: 'Screener', exact: true }).waitFor();
    const row = table.getByRole('row').filter({ has: page.locator(`a[href$="/studies/${studyId}"]`) });
    await row.getByText(percent(study.screener!.probability!), { exact: false }).waitFor();

    await page.getByLabel('Sort by').selectOption('-screener_probability');
    await page.waitForURL(/sort=-screener_probability/);
    const headers = await table.getByRole('columnheader').allTextContents();
    const column = headers.indexOf('Screener') + 1;
    await row.waitFor();
    const cells = await table.locator(`tbody td:nth-child(${column})`).allTextContents();
    const probabilities = cells.map((cell) => Number(/([\d.]+)%/.exec(cell)?.[1])).filter(Number.isFinite);
    expect(probabilities.length).toBeGreaterThan(0);
    expect(probabilities).toEqual([...probabilities].sort((a, b) => b - a));
    expect(cells.join(' ')).not.toMatch(/\bnormal\b/i);
    expect(watched.errors()).toEqual([]);
  });
});
