import { basename, dirname, join } from 'node:path';

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  ANALYSIS_TIMEOUT_MS,
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

// Patient context and priors (issue #22): a clinician uploads a film with the patient's reference,
// and the study page offers the patient's earlier study of theirs side by side, one zoom and window
// on both, with each finding's change. Another clinician's study of the same patient, uploaded in
// between, is never offered. Its own clinicians (made by the admin) keep these studies apart.
const adminUsername = requiredEnv('E2E_ADMIN_USERNAME');
const adminPassword = requiredEnv('E2E_ADMIN_PASSWORD');
const radiograph = requiredEnv('E2E_RADIOGRAPH');
const priorFilm = join(dirname(radiograph), '00029464_000.png');
const othersFilm = join(dirname(radiograph), '00030164_000.png');
const PATIENT = 'E2E-PATIENT-0422';
const clinician = { username: 'e2e-priors', password: `e2e-${Date.now()}-priors-passphrase` };
const colleague = { username: 'e2e-priors-colleague', password: `e2e-${Date.now()}-colleague-passphrase` };

type Finding = { label: string; probability: number };
type StudyJson = {
  status: string;
  findings: Finding[];
  prior: { id: string; original_filename: string } | null;
  screener: { status: string } | null;
  segmentation: { status: string } | null;
};

const settled = (run: { status: string } | null) => run === null || run.status === 'done' || run.status === 'failed';
const analysed = (study: StudyJson) => study.status === 'done' && settled(study.screener) && settled(study.segmentation);

/** The stages' CSS transforms and the images' filters, current first: one view means equal ones. */
async function viewsOf(page: Page): Promise<{ transforms: string[]; filters: string[] }> {
  return page.evaluate(() => ({
    transforms: [...document.querySelectorAll<HTMLElement>('.radiograph-pair .radiograph-stage')].map((stage) => stage.style.transform),
    filters: [...document.querySelectorAll<HTMLElement>('.radiograph-pair img.radiograph')].map((image) => image.style.filter),
  }));
}

async function openComparison(page: Page, studyId: string) {
  await page.goto(`${baseUrl}/studies/${studyId}`);
  const panel = page.getByRole('region', { name: 'Prior study' });
  await panel.getByRole('link', { name: basename(priorFilm) }).waitFor();
  await panel.getByRole('button', { name: 'Compare side by side' }).click();
  await page.getByRole('img', { name: `Prior radiograph ${basename(priorFilm)}` }).waitFor();
  await page.getByRole('img', { name: `Radiograph ${basename(radiograph)}` }).waitFor();
  return panel;
}

describe('the prior study, side by side', () => {
  let browser: Browser;
  let desktop: WatchedPage;
  let page: Page;
  let prior: { id: string; study: StudyJson };

  beforeAll(async () => {
    browser = await launchBrowser();
    desktop = await openPage(browser, READING_DESKTOP);
    page = desktop.page;
    const adminToken = await apiToken(page, adminUsername, adminPassword);
    for (const user of [clinician, colleague]) {
      const made = await page.request.post(`${baseUrl}/api/users/`, {
        headers: { Authorization: `Bearer ${adminToken}` },
        data: { ...user, role: 'clinician' },
      });
      expect(made.status()).toBe(201);
    }
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('offers the clinician their own earlier study of the patient, never a colleague’s later one', async () => {
    const token = await apiToken(page, clinician.username, clinician.password);
    prior = await uploadAndAwait<StudyJson>(
      page,
      token,
      { name: basename(priorFilm), mimeType: 'image/png', path: priorFilm },
      analysed,
      { patient_reference: PATIENT },
    );
    const colleagueToken = await apiToken(page, colleague.username, colleague.password);
    const colleagues = await uploadAndAwait<StudyJson>(
      page,
      colleagueToken,
      { name: basename(othersFilm), mimeType: 'image/png', path: othersFilm },
      analysed,
      { patient_reference: PATIENT },
    );
    // The colleague's study is the patient's latest, but not the clinician's: their prior is none of theirs.
    expect(colleagues.study.prior).toBeNull();

    await signIn(page, clinician.username, clinician.password);
    await page.getByLabel('Patient reference (optional)').fill(PATIENT);
    const answer = page.waitForResponse(
      (response) => response.request().method() === 'POST' && new URL(response.url()).pathname === '/api/studies/',
    );
    await page.getByLabel('Upload radiographs').setInputFiles(radiograph);
    const created = (await (await answer).json()) as { id: string };
    // The reference named that upload's patient only.
    await expect.poll(() => page.getByLabel('Patient reference (optional)').inputValue()).toBe('');
    const row = page.getByRole('list', { name: 'Upload results' }).getByRole('listitem').filter({ hasText: basename(radiograph) });
    await row.getByText('Done', { exact: true }).waitFor({ timeout: ANALYSIS_TIMEOUT_MS });

    await expect
      .poll(async () => analysed(await apiGet<StudyJson>(page, token, `/api/studies/${created.id}/`)), {
        timeout: ANALYSIS_TIMEOUT_MS,
        interval: 2_000,
      })
      .toBe(true);
    const current = await apiGet<StudyJson>(page, token, `/api/studies/${created.id}/`);
    expect(current.prior?.id).toBe(prior.id);

    const panel = await openComparison(page, created.id);
    expect(await panel.textContent()).not.toContain(basename(othersFilm));

    // Each finding's change is the current probability less the prior's, in percentage points.
    const table = panel.getByRole('table', { name: /Change since the prior study/ });
    for (const finding of current.findings.slice(0, 3)) {
      const before = prior.study.findings.find((item) => item.label === finding.label)!;
      const changePp = (finding.probability - before.probability) * 100;
      const cell = table.getByRole('row', { name: new RegExp(`^${finding.label.replace(/_/g, ' ')} `) }).getByRole('cell').last();
      const expected = Math.abs(changePp) < 0.05 ? '±0.0 pp' : `${changePp > 0 ? '+' : '−'}${Math.abs(changePp).toFixed(1)} pp`;
      expect(await cell.textContent()).toContain(expected);
    }

    // One view on both films: zoom, pan and the lungs window from the keyboard act on the two alike.
    await page.getByRole('group', { name: /^Radiograph viewer/ }).focus();
    await page.keyboard.press('+');
    await page.keyboard.press('+');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('2');
    const view = await viewsOf(page);
    expect(view.transforms).toHaveLength(2);
    expect(view.transforms[0]).toContain('scale(1.5625)');
    expect(view.transforms[1]).toBe(view.transforms[0]);
    expect(view.filters[0]).toMatch(/^url\(/);
    expect(view.filters[1]).toBe(view.filters[0]);
    // The prior's own frame drives the same view: the wheel there zooms both.
    await page.getByRole('group', { name: /^Prior study, .*: shown with the current image's zoom/ }).hover();
    await page.mouse.wheel(0, 200);
    const wheeled = await viewsOf(page);
    expect(wheeled.transforms[0]).toContain('scale(1.25)');
    expect(wheeled.transforms[1]).toBe(wheeled.transforms[0]);

    await expectNoSeriousA11yViolations(page, 'prior comparison (desktop)');
    // The page scrolled to the study: the viewer, stuck at the top, fills the window beside the changes.
    await page.evaluate(() => document.querySelector('.study-body')?.scrollIntoView());
    await screenshot(page, 'prior-comparison', { fullPage: false });
    expect(desktop.errors()).toEqual([]);

    // The prior's own page is the clinician's; the colleague's study stays theirs (404 for the clinician).
    const outsider = await page.request.get(`${baseUrl}/api/studies/${colleagues.id}/`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(outsider.status()).toBe(404);
  });

  it('compares side by side on a 768×1024 tablet, in one view, without sideways scrolling', async () => {
    const tablet = await openPage(browser, TABLET);
    await signIn(tablet.page, clinician.username, clinician.password);
    const token = await apiToken(tablet.page, clinician.username, clinician.password);
    const studies = await apiGet<{ results: { id: string; original_filename: string }[] }>(tablet.page, token, '/api/studies/');
    const current = studies.results.find((study) => study.original_filename === basename(radiograph))!;

    await openComparison(tablet.page, current.id);
    await tablet.page.keyboard.press('+');
    const view = await viewsOf(tablet.page);
    expect(view.transforms[1]).toBe(view.transforms[0]);
    const boxes = await Promise.all(
      [/^Radiograph viewer/, /^Prior study, /].map((name) => tablet.page.getByRole('group', { name }).boundingBox()),
    );
    // Side by side, each a usable size, both in the window.
    expect(boxes[0]!.x).toBeLessThan(boxes[1]!.x);
    for (const box of boxes) {
      expect(box!.width).toBeGreaterThan(250);
      expect(box!.y + box!.height).toBeLessThanOrEqual(1024);
    }
    expect(await fitsWidth(tablet.page)).toBe(true);
    await expectNoSeriousA11yViolations(tablet.page, 'prior comparison (tablet)');
    await screenshot(tablet.page, 'prior-comparison-tablet', { fullPage: false });
    expect(tablet.errors()).toEqual([]);
    await tablet.context.close();
  });
});
