import { dirname, join } from 'node:path';

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  apiGet,
  apiToken,
  baseUrl,
  expectNoSeriousA11yViolations,
  fitsWidth,
  launchBrowser,
  openPage,
  READING_DESKTOP,
  requiredEnv,
  screenshot,
  signIn,
  TABLET,
  uploadAndAwait,
  type WatchedPage,
} from './support';

// The reading room (issue #22): the viewer stays in view beside the findings, overlays of an
// untrained analyser are off until asked for, heatmaps are fetched (and audited) only when shown,
// and the reader's tools (hotkeys, window/level, full screen, length, manual cardiothoracic ratio)
// work from the keyboard, on a desktop and a tablet. A DICOM file, for its pixel spacing.
const username = requiredEnv('E2E_USERNAME');
const password = requiredEnv('E2E_PASSWORD');
const adminUsername = requiredEnv('E2E_ADMIN_USERNAME');
const adminPassword = requiredEnv('E2E_ADMIN_PASSWORD');
const dicom = join(dirname(requiredEnv('E2E_RADIOGRAPH')), '..', 'dicom', 'siim-sample.dcm');

type AnalyserRun = { status: string; analyser: { trained: boolean } | null };
type StudyJson = {
  status: string;
  width: number;
  model: { trained: boolean };
  metadata: { pixel_spacing_mm: number[] | null };
  segmentation: AnalyserRun | null;
};

const settled = (run: AnalyserRun | null) => run === null || run.status === 'done' || run.status === 'failed';

/** Heatmap requests the page has made, by their paths: counted at the network, not from the DOM. */
function recordHeatmapRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path.includes('/heatmaps/')) seen.push(path);
  });
  return seen;
}

async function frameBox(page: Page) {
  const box = await page.getByRole('group', { name: /^Radiograph viewer/ }).boundingBox();
  if (!box) throw new Error('the radiograph frame is not laid out');
  return box;
}

/** True when the whole radiograph frame is inside the window. */
async function frameInView(page: Page): Promise<boolean> {
  const box = await frameBox(page);
  const viewport = page.viewportSize()!;
  return box.y >= 0 && box.y + box.height <= viewport.height + 1 && box.height > 150;
}

async function scrollToBottom(page: Page): Promise<number> {
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  return page.evaluate(() => window.scrollY);
}

async function pressAll(page: Page, key: string, times: number) {
  for (let index = 0; index < times; index += 1) await page.keyboard.press(key);
}

describe('the reading room', () => {
  let browser: Browser;
  let desktop: WatchedPage;
  let page: Page;
  let token: string;
  let studyId: string;
  let study: StudyJson;
  let heatmapRequests: string[];

  const stage = () => page.getByRole('img', { name: /^Radiograph / }).locator('xpath=..');
  const stageTransform = () => stage().evaluate((element) => (element as HTMLElement).style.transform);

  beforeAll(async () => {
    browser = await launchBrowser();
    desktop = await openPage(browser, READING_DESKTOP);
    page = desktop.page;
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('analyses a DICOM upload (its pixel spacing gives lengths in mm)', async () => {
    await signIn(page, username, password);
    token = await apiToken(page, username, password);
    ({ id: studyId, study } = await uploadAndAwait<StudyJson>(
      page,
      token,
      { name: 'reading-room.dcm', mimeType: 'application/dicom', path: dicom },
      (current) => current.status === 'done' && settled(current.segmentation),
    ));
    expect(study.metadata.pixel_spacing_mm).not.toBeNull();
  });

  it('opens the radiograph without fetching a heatmap, with untrained overlays off', async () => {
    heatmapRequests = recordHeatmapRequests(page);
    await page.goto(`${baseUrl}/studies/${studyId}`);
    const image = page.getByRole('img', { name: /^Radiograph / });
    await expect.poll(() => image.evaluate((element) => (element as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
    await page.getByRole('region', { name: 'Findings', exact: true }).getByRole('button').first().waitFor();
    expect(heatmapRequests).toEqual([]);

    expect(await page.getByRole('checkbox', { name: /^Heatmap/ }).isChecked()).toBe(study.model.trained);
    const outlinesSwitch = page.getByRole('checkbox', { name: /^Anatomy outlines/ });
    if (study.segmentation?.status === 'done') {
      const trained = study.segmentation.analyser?.trained === true;
      expect(await outlinesSwitch.isChecked()).toBe(trained);
      if (!trained) expect(await page.getByRole('img', { name: / outline$/ }).count()).toBe(0);
    }
  });

  it('fetches a finding\'s heatmap once it is shown, each once, and the audit records only those', async () => {
    const findings = page.getByRole('region', { name: 'Findings', exact: true }).getByRole('button');
    const nameOf = async (index: number) => (await findings.nth(index).locator('.finding-label').textContent())?.trim() ?? '';
    const [first, second] = [await nameOf(0), await nameOf(1)];
    await findings.nth(0).click();
    if (!study.model.trained) {
      // Selected but not shown: an untrained model's heatmap waits for the switch.
      expect(heatmapRequests).toEqual([]);
      await page.getByRole('checkbox', { name: /^Heatmap/ }).check();
    }
    await page.getByRole('img', { name: `Grad-CAM heatmap for ${first}`, exact: true }).waitFor();
    await findings.nth(1).click();
    await page.getByRole('img', { name: `Grad-CAM heatmap for ${second}`, exact: true }).waitFor();
    await findings.nth(0).click();
    await page.getByRole('img', { name: `Grad-CAM heatmap for ${first}`, exact: true }).waitFor();
    expect(heatmapRequests).toHaveLength(2);

    const adminToken = await apiToken(page, adminUsername, adminPassword);
    const audit = await apiGet<{ results: { detail: { label: string } }[] }>(
      page,
      adminToken,
      `/api/audit/?action=heatmap_download&target_id=${studyId}`,
    );
    expect(audit.results.map((event) => event.detail.label.replaceAll('_', ' ')).sort()).toEqual([first, second].sort());
  });

  it('keeps the image in view, large, while the findings and panels beside it scroll', async () => {
    await page.evaluate(() => window.scrollTo(0, 0));
    expect((await frameBox(page)).width).toBeGreaterThan(700);
    expect(await scrollToBottom(page)).toBeGreaterThan(300);
    expect(await frameInView(page)).toBe(true);
    await page.getByRole('region', { name: 'Image', exact: true }).getByText('Pixel spacing').waitFor();
    await screenshot(page, 'reading-room', { fullPage: false });
    await page.evaluate(() => window.scrollTo(0, 0));
  });

  it('answers the PACS hotkeys anywhere on the page and lists them under ?', async () => {
    await page.getByRole('heading', { level: 1 }).click();
    await page.keyboard.press('i');
    expect(await page.getByRole('checkbox', { name: 'Invert' }).isChecked()).toBe(true);
    await page.keyboard.press('r');
    expect(await stageTransform()).toContain('rotate(90deg)');
    await page.keyboard.press('h');
    expect(await stageTransform()).toContain('scale(-1, 1)');
    await page.keyboard.press('v');
    expect(await stageTransform()).toContain('scale(-1, -1)');
    await page.keyboard.press('+');
    await page.keyboard.press('+');
    expect(await page.getByLabel('Zoom level').textContent()).toBe('156%');
    await page.keyboard.press('-');
    expect(await page.getByLabel('Zoom level').textContent()).toBe('125%');
    await page.keyboard.press('=');
    expect(await page.getByLabel('Zoom level').textContent()).toBe('100%');
    await page.keyboard.press('2');
    expect(await page.getByLabel('Window preset').inputValue()).toBe('lungs');

    await page.keyboard.press('?');
    const help = page.getByRole('region', { name: 'Viewer keys' });
    await help.getByText('Invert black and white').waitFor();
    await help.getByText('Measure the cardiothoracic ratio: heart line, then thorax line').waitFor();
    await expectNoSeriousA11yViolations(page, 'viewer with its key list');
    await page.keyboard.press('Escape');
    expect(await help.count()).toBe(0);

    await page.keyboard.press('0');
    expect(await stageTransform()).toContain('rotate(0deg) scale(1, 1)');
    expect(await page.getByRole('checkbox', { name: 'Invert' }).isChecked()).toBe(false);
  });

  it('changes the window by dragging, and fills the screen with f until Escape', async () => {
    await page.keyboard.press('w');
    const box = await frameBox(page);
    const width = page.getByLabel('Window width (contrast)');
    const before = Number(await width.inputValue());
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 - 150, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    expect(Number(await width.inputValue())).toBeLessThan(before - 0.2);
    await page.keyboard.press('w');

    await page.keyboard.press('f');
    await expect.poll(async () => (await frameBox(page)).height).toBeGreaterThan(READING_DESKTOP.height * 0.6);
    expect(await page.locator('.radiograph-viewer.is-full-screen').count()).toBe(1);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('.radiograph-viewer.is-full-screen').count()).toBe(0);
    await page.keyboard.press('0');
  });

  it('measures a length in mm from the DICOM pixel spacing, with the keyboard, and another with the mouse', async () => {
    const spacing = study.metadata.pixel_spacing_mm;
    expect(spacing).not.toBeNull();
    // The cross starts at the centre and moves 1/200 of the width per arrow, ten times with Shift.
    const shiftStep = Math.max(1, Math.round(study.width / 200)) * 10;
    await page.getByRole('group', { name: /^Radiograph viewer/ }).focus();
    await page.keyboard.press('m');
    await page.keyboard.press('Enter');
    await pressAll(page, 'Shift+ArrowRight', 4);
    await page.keyboard.press('Enter');
    const expected = (4 * shiftStep * spacing![1]!).toFixed(1);
    const results = page.getByRole('region', { name: 'Measurements', exact: true });
    await results.getByText(`Length 1: ${expected} mm`).waitFor();
    // Drawn in the radiograph's pixels (a horizontal SVG line has no height, so Playwright calls it hidden).
    const line = page.getByRole('img', { name: `Length 1: ${expected} mm` });
    await line.waitFor({ state: 'attached' });
    const [x1, x2] = await Promise.all([line.getAttribute('x1'), line.getAttribute('x2')]);
    expect(Number(x2) - Number(x1)).toBe(4 * shiftStep);

    const box = await frameBox(page);
    await page.mouse.click(box.x + box.width * 0.4, box.y + box.height * 0.3);
    await page.mouse.click(box.x + box.width * 0.6, box.y + box.height * 0.3);
    await results.getByText(/^Length 2: \d+\.\d mm$/).waitFor();
    await page.keyboard.press('Escape');
  });

  it('measures a manual cardiothoracic ratio from two lines drawn with the keyboard', async () => {
    await page.getByRole('group', { name: /^Radiograph viewer/ }).focus();
    await page.keyboard.press('c');
    // Heart: from 2 steps left of the centre to 2 right (4 steps); thorax: 6 left to 6 right (12).
    await pressAll(page, 'Shift+ArrowLeft', 2);
    await page.keyboard.press('Enter');
    await pressAll(page, 'Shift+ArrowRight', 4);
    await page.keyboard.press('Enter');
    await pressAll(page, 'Shift+ArrowLeft', 8);
    await page.keyboard.press('Shift+ArrowDown');
    await page.keyboard.press('Enter');
    await pressAll(page, 'Shift+ArrowRight', 12);
    await page.keyboard.press('Enter');
    const results = page.getByRole('region', { name: 'Measurements', exact: true });
    await results.getByText('Cardiothoracic ratio (manual):').waitFor();
    expect(await results.getByText((4 / 12).toFixed(2), { exact: true }).count()).toBe(1);
    await page.getByRole('img', { name: 'Manual heart line' }).waitFor({ state: 'attached' });
    await page.getByRole('img', { name: 'Manual thorax line' }).waitFor({ state: 'attached' });
    // The page scrolled so that the viewer sticks at the top, as a reader has it.
    await page.locator('.study-body').evaluate((element) => element.scrollIntoView());
    expect(await frameInView(page)).toBe(true);
    await screenshot(page, 'reading-room-measurements', { fullPage: false });
    await expectNoSeriousA11yViolations(page, 'reading layout with measurements');
    expect(desktop.errors()).toEqual([]);
  });

  it('on a tablet: the image stays in view above the scrolling findings, heatmaps lazy, hotkeys and keyboard measuring work', async () => {
    const tablet = await openPage(browser, TABLET);
    try {
      const tabletPage = tablet.page;
      const requests = recordHeatmapRequests(tabletPage);
      await signIn(tabletPage, username, password);
      await tabletPage.goto(`${baseUrl}/studies/${studyId}`);
      const findings = tabletPage.getByRole('region', { name: 'Findings', exact: true }).getByRole('button');
      await findings.first().waitFor();
      expect(await fitsWidth(tabletPage)).toBe(true);
      expect(requests).toEqual([]);

      await findings.nth(2).scrollIntoViewIfNeeded();
      await findings.nth(2).click();
      const heatmapSwitch = tabletPage.getByRole('checkbox', { name: /^Heatmap/ });
      if (!(await heatmapSwitch.isChecked())) await heatmapSwitch.check();
      await tabletPage.getByRole('img', { name: /^Grad-CAM heatmap for / }).waitFor();
      expect(requests).toHaveLength(1);
      // The heatmap shows in the image the reader is looking at, not in one scrolled away.
      expect(await frameInView(tabletPage)).toBe(true);
      expect(await scrollToBottom(tabletPage)).toBeGreaterThan(300);
      expect(await frameInView(tabletPage)).toBe(true);

      await tabletPage.getByRole('heading', { level: 1 }).evaluate((element) => (element as HTMLElement).click());
      await tabletPage.keyboard.press('i');
      expect(await tabletPage.getByRole('checkbox', { name: 'Invert' }).isChecked()).toBe(true);
      await tabletPage.keyboard.press('i');
      await tabletPage.getByRole('group', { name: /^Radiograph viewer/ }).focus();
      await tabletPage.keyboard.press('m');
      await tabletPage.keyboard.press('Enter');
      await pressAll(tabletPage, 'Shift+ArrowDown', 2);
      await tabletPage.keyboard.press('Enter');
      await tabletPage.getByRole('region', { name: 'Measurements', exact: true }).getByText(/^Length 1: \d+\.\d mm$/).waitFor();
      await tabletPage.keyboard.press('Escape');
      expect(await fitsWidth(tabletPage)).toBe(true);
      await screenshot(tabletPage, 'reading-room-tablet', { fullPage: false });
      await expectNoSeriousA11yViolations(tabletPage, 'reading layout on a tablet');
      expect(tablet.errors()).toEqual([]);
    } finally {
      await tablet.context.close();
    }
  });
});
