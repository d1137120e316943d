import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  apiGet,
  apiToken,
  baseUrl,
  expectNoSeriousA11yViolations,
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

// The clinician's report (issue #22): a clinician reads a study, edits the draft written from its
// results, adds an impression and signs; the signed report is final in FHIR, and the draft before
// it says which result each sentence came from (untrained ones saying so). Desktop 1440×900, and
// signing on a 768×1024 tablet.
const username = requiredEnv('E2E_USERNAME');
const password = requiredEnv('E2E_PASSWORD');
const radiograph = requiredEnv('E2E_RADIOGRAPH');

type Run = { status: string } | null;
type StudyJson = { status: string; model: { trained: boolean }; screener: Run; segmentation: Run };
type Fhir = { status: string; performer?: { identifier: { value: string } }[]; conclusion: string };

const settled = (run: Run) => run === null || run.status === 'done' || run.status === 'failed';

describe("the clinician's report", () => {
  let browser: Browser;
  let watched: WatchedPage;
  let page: Page;
  let token: string;
  let studyId: string;
  let study: StudyJson;

  const panel = () => page.getByRole('region', { name: "Clinician's report" });

  beforeAll(async () => {
    browser = await launchBrowser();
    watched = await openPage(browser, READING_DESKTOP);
    page = watched.page;
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('opens an analysed study with a draft written from its results, each sentence naming its source', async () => {
    await signIn(page, username, password);
    token = await apiToken(page, username, password);
    ({ id: studyId, study } = await uploadAndAwait<StudyJson>(
      page,
      token,
      { name: 'report.png', mimeType: 'image/png', path: radiograph },
      (current) => current.status === 'done' && settled(current.screener) && settled(current.segmentation),
    ));
    await page.goto(`${baseUrl}/studies/${studyId}`);
    await panel().getByText(/Draft written from the results, not saved yet/).waitFor();
    expect(await page.title()).toBe('Study report.png · CXR Decision Support');
    const sources = panel().locator('.report-source');
    expect(await sources.count()).toBeGreaterThan(0);
    if (study.model.trained === false) {
      expect(await sources.first().textContent()).toContain('untrained model — not for clinical use');
    }
    if (study.screener?.status === 'done') {
      await panel().getByText(/— from the screener/).waitFor();
    }
  });

  it("selects a finding from its sentence, on the image beside the report", async () => {
    const findingSentence = panel().locator('.report-source button').first();
    if ((await findingSentence.count()) === 0) return; // No finding above its threshold: no finding sentence.
    const text = (await findingSentence.textContent()) ?? '';
    const label = text.split(':')[0];
    await findingSentence.click();
    expect(await findingSentence.getAttribute('aria-pressed')).toBe('true');
    const finding = page
      .getByRole('region', { name: 'Findings', exact: true })
      .getByRole('button', { name: new RegExp(`^${label} `) });
    expect(await finding.getAttribute('aria-pressed')).toBe('true');
  });

  it('edits the draft, adds an impression and signs it, and the report is then final', async () => {
    const sign = panel().getByRole('button', { name: 'Sign report' });
    expect(await sign.isDisabled()).toBe(true);
    const text = panel().getByLabel('Report text');
    const draft = await text.inputValue();
    await text.fill(`${draft}\nHeart size within normal limits on this PA film.`);
    await panel().getByLabel('Impression').fill('No acute cardiopulmonary abnormality.');
    await panel().getByRole('button', { name: 'Save draft' }).click();
    await panel().getByText('Version 1 saved.').waitFor();
    await panel().scrollIntoViewIfNeeded();
    await screenshot(page, 'clinician-report-draft', { fullPage: false });

    await sign.click();
    await panel().getByText(new RegExp(`^Signed by ${username} on .* \\(version 1\\): final\\.$`)).waitFor();
    await panel().getByText('No acute cardiopulmonary abnormality.').waitFor();
    expect(await panel().getByLabel('Report text').count()).toBe(0);
    expect(await panel().getByRole('button', { name: 'Amend report' }).isDisabled()).toBe(true);
    // The draft's sentences were kept in the text, so none is struck through.
    expect(await panel().getByText(/no longer in the text/).count()).toBe(0);

    const fhir = await apiGet<Fhir>(page, token, `/api/studies/${studyId}/fhir/`);
    expect(fhir.status).toBe('final');
    expect(fhir.performer?.[0]?.identifier.value).toBe(username);
    expect(fhir.conclusion.startsWith('No acute cardiopulmonary abnormality.')).toBe(true);
    await expectNoSeriousA11yViolations(page, 'study page with a signed report');
    expect(watched.errors()).toEqual([]);
  });

  it('amends the signed report as a new version, keeping the signed one readable', async () => {
    await panel().getByLabel('Reason for an amendment').fill('Add the comparison.');
    await panel().getByRole('button', { name: 'Amend report' }).click();
    await panel().getByText(/Draft, version 2, saved by .*; not signed\. Amendment: Add the comparison\./).waitFor();
    await panel().getByText('Earlier versions (1)').click();
    await panel().getByText(new RegExp(`Signed by ${username} .* \\(version 1\\)`)).waitFor();
    // Until the amendment is signed, the final report is version 1.
    const fhir = await apiGet<Fhir>(page, token, `/api/studies/${studyId}/fhir/`);
    expect(fhir.status).toBe('final');
    expect(watched.errors()).toEqual([]);
  });

  it('signs a report on a tablet: the panel reachable below the image, no sideways scrolling', async () => {
    const tablet = await openPage(browser, TABLET);
    await signIn(tablet.page, username, password);
    const { id } = await uploadAndAwait<StudyJson>(
      tablet.page,
      token,
      { name: 'report-tablet.png', mimeType: 'image/png', path: radiograph },
      (current) => current.status === 'done' && settled(current.screener) && settled(current.segmentation),
    );
    await tablet.page.goto(`${baseUrl}/studies/${id}`);
    const report = tablet.page.getByRole('region', { name: "Clinician's report" });
    await report.getByText(/Draft written from the results, not saved yet/).waitFor();
    await report.getByLabel('Impression').fill('No acute abnormality.');
    await report.getByRole('button', { name: 'Save draft' }).click();
    await report.getByText('Version 1 saved.').waitFor();
    await report.getByRole('button', { name: 'Sign report' }).click();
    await report.getByText(new RegExp(`^Signed by ${username} on .* \\(version 1\\): final\\.$`)).waitFor();
    const overflow = await tablet.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect((await apiGet<Fhir>(tablet.page, token, `/api/studies/${id}/fhir/`)).status).toBe('final');
    await expectNoSeriousA11yViolations(tablet.page, 'study page with a signed report on a tablet');
    expect(tablet.errors()).toEqual([]);
  });
});
