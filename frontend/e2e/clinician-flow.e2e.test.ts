import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  ANALYSIS_TIMEOUT_MS,
  apiToken,
  baseUrl,
  expectNoSeriousA11yViolations,
  fitsWidth,
  launchBrowser,
  openPage,
  requiredEnv,
  screenshot,
  signIn,
  TABLET,
  UNTRAINED_BANNER,
  type WatchedPage,
} from './support';

// Runs against a real backend and Celery worker that the Makefile starts, with the users it creates.
const username = requiredEnv('E2E_USERNAME');
const password = requiredEnv('E2E_PASSWORD');
const radiograph = requiredEnv('E2E_RADIOGRAPH');
const secondRadiograph = join(dirname(radiograph), '00025740_000.png');
const dicom = join(dirname(radiograph), '..', 'dicom', 'siim-sample.dcm');

type Created = { id: string; status: string; cached: boolean };
type StudyJson = {
  status: string;
  findings: { label: string }[];
  metadata: { patient_age_years: number | null; view_position: string | null; patient_sex: string | null };
};

const today = () => new Date().toISOString().slice(0, 10);

describe('clinician flow', () => {
  let browser: Browser;
  let watched: WatchedPage;
  let page: Page;
  let token: string;
  const created = new Map<string, Created>();

  const api = async <T>(path: string): Promise<T> => {
    const response = await page.request.get(`${baseUrl}${path}`, { headers: { Authorization: `Bearer ${token}` } });
    expect(response.status()).toBe(200);
    return (await response.json()) as T;
  };
  // By address: the server may rename an upload whose name looks identifying (DICOM de-identification).
  const studyLink = (fileName: string) => page.locator(`a[href$="/studies/${created.get(fileName)!.id}"]`);
  const openStudy = async (fileName: string) => {
    await page.goto(`${baseUrl}/`);
    await studyLink(fileName).click();
    await page.waitForURL(`**/studies/${created.get(fileName)!.id}`);
  };

  beforeAll(async () => {
    browser = await launchBrowser();
    watched = await openPage(browser);
    page = watched.page;
    // Deliberately refused uploads answer 4xx, which Chromium logs as failed resources.
    watched.expectErrors(/Failed to load resource: the server responded with a status of 4(00|15|22)/);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('uploads several files at once, says per file what was wrong, and follows each study live until done without polling', async () => {
    // The live status stream: fetched with the bearer token in a header, never in its address.
    const stream = page.waitForResponse((response) => new URL(response.url()).pathname === '/api/studies/events/');
    const listRequests: number[] = [];
    page.on('request', (request) => {
      if (request.method() === 'GET' && new URL(request.url()).pathname === '/api/studies/') listRequests.push(Date.now());
    });
    await signIn(page, username, password);
    const streamResponse = await stream;
    expect(streamResponse.status()).toBe(200);
    expect(streamResponse.headers()['content-type']).toMatch(/^text\/event-stream/);
    expect(await streamResponse.request().headerValue('authorization')).toMatch(/^Bearer /);
    expect(new URL(streamResponse.url()).search).toBe('');
    token = await apiToken(page, username, password);
    await page.getByRole('heading', { name: 'My studies' }).waitFor();
    await expectNoSeriousA11yViolations(page, 'empty worklist');

    const scratch = await mkdtemp(join(tmpdir(), 'cxr-e2e-'));
    const notARadiograph = join(scratch, 'notes.png');
    await writeFile(notARadiograph, 'These are meeting notes, not a radiograph.\n');
    const files = [radiograph, secondRadiograph, dicom, notARadiograph];

    // Files go up one at a time, in order: the i-th answer is the i-th file's.
    const answers: { status: number; body: Created & { message?: string } }[] = [];
    page.on('response', async (response) => {
      if (response.request().method() !== 'POST' || new URL(response.url()).pathname !== '/api/studies/') return;
      answers.push({ status: response.status(), body: (await response.json()) as Created & { message?: string } });
    });
    await page.getByLabel('Upload radiographs').setInputFiles(files);

    const results = page.getByRole('list', { name: 'Upload results' });
    await page.getByRole('status').filter({ hasText: '3 of 4 uploaded, 1 refused.' }).waitFor({ timeout: 60_000 });
    expect(answers).toHaveLength(files.length);
    for (const [index, file] of [radiograph, secondRadiograph, dicom].entries()) {
      const name = basename(file);
      const answer = answers[index]!;
      expect([201, 202], name).toContain(answer.status);
      created.set(name, answer.body);
      await results.getByRole('link', { name: `Open study ${name}` }).waitFor();
    }
    const refused = answers[3]!;
    expect(refused.status).toBeGreaterThanOrEqual(400);
    const refusedItem = results.getByRole('listitem').filter({ hasText: 'notes.png' });
    expect((await refusedItem.getByRole('alert').textContent())?.trim()).toBe(refused.body.message);

    // The stream's events turn the upload rows and the worklist's rows Done: no reload, no polling.
    const uploadsStarted = listRequests.length;
    for (const name of created.keys()) {
      const item = results.getByRole('listitem').filter({ hasText: name });
      await item.getByText('Done', { exact: true }).waitFor({ timeout: ANALYSIS_TIMEOUT_MS });
      const row = page.getByRole('row').filter({ has: studyLink(name) });
      await row.getByText('Done', { exact: true }).waitFor({ timeout: 10_000 });
      // The analysers beside the classifier (screener, segmentation) finish after the study, and
      // the stream announces the study once more when they have.
      await row.getByText('Pending', { exact: true }).waitFor({ state: 'detached', timeout: ANALYSIS_TIMEOUT_MS });
    }
    // At most one refetch per upload and per status event (running, done, analysers done) of each
    // study; nothing more while everything is done.
    expect(listRequests.length - uploadsStarted).toBeLessThanOrEqual(4 * created.size + 1);
    const settled = listRequests.length;
    await page.waitForTimeout(5_000);
    expect(listRequests.length).toBe(settled);
    await screenshot(page, 'worklist');
    await expectNoSeriousA11yViolations(page, 'worklist');
  });

  it('sorts the worklist for triage and filters it by status, positive finding and upload day', async () => {
    await page.goto(`${baseUrl}/`);
    await page.getByLabel('Sort by').selectOption('-top_score');
    await page.waitForURL(/sort=-top_score/);
    const rows = page.getByRole('table', { name: 'My studies' }).getByRole('row');
    // Every study of this clinician, this spec's and those other specs uploaded as them before it.
    const mine = await api<{ count: number }>('/api/studies/');
    expect(mine.count).toBeGreaterThanOrEqual(created.size);
    await expect.poll(() => rows.count()).toBe(1 + mine.count);
    // Triage sorts by the calibrated score shown beside each probability, not by the probability.
    // The column found by its header, so that columns added beside it do not move what is read.
    const headers = await rows.first().getByRole('columnheader').allTextContents();
    const column = headers.indexOf('Most suspicious finding') + 1;
    expect(column).toBeGreaterThan(0);
    const highest = await rows.locator(`td:nth-child(${column})`).allTextContents();
    const scores = highest.map((text) => Number(/score ([\d.]+)%/.exec(text)?.[1]));
    expect(scores.every(Number.isFinite)).toBe(true);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));

    await page.getByLabel('Positive finding').selectOption('any');
    const withPositives = await api<{ results: { original_filename: string }[] }>('/api/studies/?positive=any');
    if (withPositives.results.length === 0) {
      await page.getByText('No studies match these filters.').waitFor();
    } else {
      await expect.poll(() => rows.count()).toBe(1 + withPositives.results.length);
    }

    await page.goto(`${baseUrl}/`);
    await page.getByLabel('Status').selectOption('failed');
    await page.getByText('No studies match these filters.').waitFor();
    await page.getByLabel('Status').selectOption('done');
    await page.getByLabel('Uploaded from').fill(today());
    await page.getByLabel('Uploaded to').fill(today());
    await expect.poll(() => rows.count()).toBe(1 + mine.count);
    expect(new URL(page.url()).searchParams.get('from')).toBe(today());
  });

  it('opens a study: zoom, pan, window/level, invert, heatmaps with legend and opacity, model card and notices', async () => {
    const name = basename(radiograph);
    await openStudy(name);
    const findingButtons = page.getByRole('region', { name: 'Findings', exact: true }).getByRole('button');
    await findingButtons.first().waitFor({ state: 'visible', timeout: ANALYSIS_TIMEOUT_MS });
    const findingCount = await findingButtons.count();
    expect(findingCount).toBeGreaterThan(1);

    const health = (await (await page.request.get(`${baseUrl}/api/health/`)).json()) as {
      checks: { model: { trained: boolean; name: string } };
    };
    const banner = page.getByText(UNTRAINED_BANNER, { exact: true });
    if (health.checks.model.trained) expect(await banner.count()).toBe(0);
    else await banner.waitFor({ state: 'visible' });
    await page.getByText('Decision support, not a diagnosis.').waitFor({ state: 'visible' });
    await page.getByText(/These probabilities are decision support, not a diagnosis/).waitFor();

    const image = page.getByRole('img', { name: `Radiograph ${name}`, exact: true });
    await expect.poll(() => image.evaluate((element) => (element as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);

    // Zoom and pan.
    await page.getByRole('button', { name: 'Zoom in' }).click();
    await page.getByRole('button', { name: 'Zoom in' }).click();
    expect(await page.getByLabel('Zoom level').textContent()).toBe('156%');
    const viewport = page.getByRole('group', { name: /^Radiograph viewer/ });
    await viewport.focus();
    await page.keyboard.press('ArrowLeft');
    const stage = image.locator('xpath=..');
    expect(await stage.evaluate((element) => (element as HTMLElement).style.transform)).toContain('translate(40px, 0px)');

    // Window/level and invert go through an SVG transfer filter on the radiograph only.
    await page.getByLabel('Window width (contrast)').fill('0.4');
    await page.getByLabel('Invert').check();
    const filter = await image.evaluate((element) => getComputedStyle(element).filter);
    expect(filter).toMatch(/url\(/);
    const slope = await page.evaluate((css) => {
      const id = /#([^")]+)/.exec(css)?.[1] ?? '';
      return Number(document.getElementById(id)?.querySelector('feFuncR')?.getAttribute('slope'));
    }, filter);
    expect(slope).toBeCloseTo(-2.5);
    await page.getByRole('button', { name: 'Reset view' }).click();
    expect(await page.getByLabel('Zoom level').textContent()).toBe('100%');
    expect(await image.evaluate((element) => (element as HTMLImageElement).style.filter)).toBe('');

    // No heatmap is fetched until one is shown (the server audits each as opened); an untrained
    // model's heatmaps are off until the switch beside the image is on.
    const heatmapRequests = () =>
      page.evaluate(() => performance.getEntriesByType('resource').filter((entry) => entry.name.includes('/heatmaps/')).length);
    expect(await heatmapRequests()).toBe(0);
    const heatmapSwitch = page.getByRole('checkbox', { name: /^Heatmap/ });
    expect(await heatmapSwitch.isChecked()).toBe(health.checks.model.trained);
    if (!health.checks.model.trained) await heatmapSwitch.check();
    const first = findingButtons.first();
    const firstName = (await first.locator('.finding-label').textContent())?.trim() ?? '';
    await first.click();
    expect(await first.getAttribute('aria-pressed')).toBe('true');
    const heatmap = page.getByRole('img', { name: `Grad-CAM heatmap for ${firstName}`, exact: true });
    await heatmap.waitFor({ state: 'visible', timeout: 10_000 });
    await expect.poll(() => heatmap.evaluate((element) => (element as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
    await page.getByRole('img', { name: new RegExp(`^Colour scale for the ${firstName} heatmap`) }).waitFor();
    await page.getByLabel('Heatmap opacity').fill('0.8');
    expect(await heatmap.evaluate((element) => (element as HTMLImageElement).style.opacity)).toBe('0.8');

    const second = findingButtons.nth(1);
    const secondName = (await second.locator('.finding-label').textContent())?.trim() ?? '';
    const studyRequests = () =>
      page.evaluate(() => performance.getEntriesByType('resource').filter((entry) => entry.name.includes('/api/studies/')).length);
    await second.click();
    await page.getByRole('img', { name: `Grad-CAM heatmap for ${secondName}`, exact: true }).waitFor({ timeout: 10_000 });
    // Back to the first: its heatmap is kept for the session, not fetched again.
    const requestsBefore = await studyRequests();
    await first.click();
    await heatmap.waitFor({ timeout: 2_000 });
    expect(await studyRequests()).toBe(requestsBefore);
    expect(await heatmapRequests()).toBe(2);

    const model = page.getByRole('region', { name: 'Model', exact: true });
    await model.getByText(health.checks.model.name, { exact: true }).waitFor();
    await model.getByText(health.checks.model.trained ? 'Yes' : 'No — untrained weights').waitFor();
    await model.getByText('Validation AUROC').waitFor();
    expect(await page.getByRole('region', { name: 'Image', exact: true }).getByText('Not recorded').count()).toBe(6);

    await screenshot(page, 'study');
    await expectNoSeriousA11yViolations(page, 'study');
  });

  it('records agree / disagree / unsure with a note per finding, kept after a reload', async () => {
    const selected = page.getByRole('region', { name: 'Findings', exact: true }).getByRole('button', { pressed: true });
    const findingName = (await selected.locator('.finding-label').textContent())?.trim() ?? '';
    const form = page.getByRole('form', { name: `Your assessment: ${findingName}` });
    await form.getByRole('radio', { name: 'Disagree' }).check();
    await form.getByLabel('Note (optional)').fill('Costophrenic angles are sharp on this film.');
    await form.getByRole('button', { name: 'Save feedback' }).click();
    await form.getByText(`Saved disagree by ${username}`, { exact: false }).waitFor();

    await page.reload();
    const findings = page.getByRole('region', { name: 'Findings', exact: true });
    const item = findings.getByRole('listitem').filter({ hasText: findingName }).first();
    await item.getByText('You: disagree').waitFor({ timeout: 30_000 });
    await item.getByRole('button').click();
    await expect.poll(() => form.getByRole('radio', { name: 'Disagree' }).isChecked()).toBe(true);
    expect(await form.getByLabel('Note (optional)').inputValue()).toBe('Costophrenic angles are sharp on this film.');
    await expectNoSeriousA11yViolations(page, 'study with feedback');
  });

  it('downloads a PDF report made on the server', async () => {
    const study = created.get(basename(radiograph))!;
    const form = page.getByRole('form', { name: 'Report', exact: true });
    await form.getByRole('group', { name: 'Heatmaps in the report' }).getByRole('checkbox').first().check();
    const download = page.waitForEvent('download');
    await form.getByRole('button', { name: 'Download PDF report' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe(`cxr-report-${study.id}.pdf`);
    const bytes = await readFile((await file.path())!);
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(bytes.length).toBeGreaterThan(20_000);
    await form.getByText('Report downloaded.').waitFor();
  });

  it('shows a DICOM study\'s image metadata: age, sex, view and pixel spacing', async () => {
    const name = basename(dicom);
    const { id } = created.get(name)!;
    await openStudy(name);
    const study = await api<StudyJson>(`/api/studies/${id}/`);
    const metadata = page.getByRole('region', { name: 'Image', exact: true });
    await metadata.getByText('Patient age').waitFor();
    if (study.metadata.patient_age_years !== null) await metadata.getByText(`${study.metadata.patient_age_years} years`).waitFor();
    if (study.metadata.view_position) await metadata.getByText(study.metadata.view_position, { exact: true }).waitFor();
    expect(await metadata.getByText('Not recorded').count()).toBeLessThan(6);
    await screenshot(page, 'study-dicom');
  });

  it('is usable on a tablet-sized screen', async () => {
    const tablet = await openPage(browser, TABLET);
    try {
      await signIn(tablet.page, username, password);
      await tablet.page.getByRole('table', { name: 'My studies' }).waitFor();
      expect(await fitsWidth(tablet.page)).toBe(true);
      await tablet.page.getByRole('link', { name: basename(radiograph), exact: true }).first().click();
      await tablet.page.getByRole('region', { name: 'Findings', exact: true }).getByRole('button').first().click();
      // A new browser context holds no choice of the person's: an untrained model's heatmap waits for the switch.
      const heatmapSwitch = tablet.page.getByRole('checkbox', { name: /^Heatmap/ });
      if (!(await heatmapSwitch.isChecked())) await heatmapSwitch.check();
      await tablet.page.getByRole('img', { name: /^Grad-CAM heatmap for / }).waitFor();
      expect(await fitsWidth(tablet.page)).toBe(true);
      await screenshot(tablet.page, 'study-tablet');
      await expectNoSeriousA11yViolations(tablet.page, 'study on a tablet');
      expect(tablet.errors()).toEqual([]);
    } finally {
      await tablet.context.close();
    }
  });

  it('signs out, with no console errors along the way', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(watched.errors()).toEqual([]);
  });
});
