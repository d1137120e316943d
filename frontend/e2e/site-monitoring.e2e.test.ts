import { spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  ANALYSIS_TIMEOUT_MS,
  expectNoSeriousA11yViolations,
  launchBrowser,
  openPage,
  requiredEnv,
  screenshot,
  signIn,
} from './support';

// An admin runs a site acceptance on a labelled set of real radiographs from the web app, then reads
// the monitoring page once the day's snapshot is computed (as beat does at night, here by its command).
const adminName = requiredEnv('E2E_ADMIN_USERNAME');
const adminPassword = requiredEnv('E2E_ADMIN_PASSWORD');
const radiograph = requiredEnv('E2E_RADIOGRAPH');
const backend = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'backend');

/** A zip of stored members (method 0), enough for a handful of PNGs. */
function storedZip(members: { name: string; data: Buffer }[]): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc32 = (data: Buffer) => {
    let c = 0xffffffff;
    for (const byte of data) c = (crcTable[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data } of members) {
    const nameBytes = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

describe('site acceptance and monitoring', () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await launchBrowser();
    page = (await openPage(browser)).page;
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('runs an acceptance on six real radiographs and shows its verdict, ROC and calibration plots', async () => {
    const folder = dirname(radiograph);
    const names = (await readdir(folder)).filter((name) => name.endsWith('.png')).sort().slice(0, 6);
    const members = await Promise.all(names.map(async (name) => ({ name, data: await readFile(join(folder, name)) })));
    // Labels made up for the procedure: half of the films carry each finding.
    const csv = ['image,Mass,Nodule', ...names.map((name, index) => `${name},${index % 2},${index < 3 ? 1 : 0}`)].join('\n');

    await signIn(page, adminName, adminPassword);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Acceptance' }).click();
    await page.getByRole('heading', { level: 1, name: 'Site acceptance' }).waitFor();
    const form = page.getByRole('form', { name: 'Run an acceptance' });
    await form.getByLabel('Radiographs (zip of PNG, JPEG or DICOM)').setInputFiles({
      name: 'site-set.zip',
      mimeType: 'application/zip',
      buffer: storedZip(members),
    });
    await form.getByLabel(/Labels CSV/).setInputFiles({ name: 'labels.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await form.getByLabel('Targets').fill('auroc=0.80,sensitivity=0.90');
    await form.getByRole('button', { name: 'Start the acceptance run' }).click();

    const verdict = page.getByRole('heading', { name: /^Acceptance run \d+: (accepted|not accepted) at this site$/ });
    await verdict.waitFor({ timeout: ANALYSIS_TIMEOUT_MS });
    expect(await page.getByText('6 cases, 6 scored').count()).toBe(1);
    await page.getByRole('img', { name: 'ROC curve of Mass' }).waitFor();
    await page.getByRole('img', { name: /^Calibration of Mass \(ECE \d\.\d{3}\)$/ }).waitFor();
    await page.getByText(/is untrained: these figures test the procedure/).waitFor();
    // The untrained model has no site thresholds: the download says so instead of giving a file.
    await page.getByRole('button', { name: 'Download the threshold profile' }).click();
    await page.getByRole('alert').filter({ hasText: 'untrained' }).waitFor();
    await screenshot(page, 'acceptance');
    await expectNoSeriousA11yViolations(page, 'acceptance');
  });

  it("shows the day's monitoring snapshot against the acceptance baseline", async () => {
    const python = requiredEnv('PY');
    const today = new Date().toISOString().slice(0, 10);
    const computed = spawnSync(python, ['manage.py', 'drift_snapshot', '--date', today], { cwd: backend, encoding: 'utf8' });
    expect(computed.status, computed.stderr).toBe(0);

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Monitoring' }).click();
    await page.getByRole('heading', { level: 1, name: 'Monitoring' }).waitFor();
    // Drifted or not depends on what the other browser tests uploaded today; the state is always said.
    await page.getByRole('status').filter({ hasText: new RegExp(`^${today}: (Not drifted|Drifted)`) }).waitFor();
    await page.getByRole('img', { name: /^Population stability index of / }).waitFor();
    await page.getByRole('img', { name: 'Intake refusal rate' }).waitFor();
    await screenshot(page, 'monitoring');
    await expectNoSeriousA11yViolations(page, 'monitoring');
  });
});
