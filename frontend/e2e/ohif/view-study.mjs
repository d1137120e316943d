// Opens a study in OHIF Viewer (in Chromium), loads its structured report into the viewport and
// prints, as the last line, JSON of what the viewer displayed: the thumbnails of the study's series,
// the shapes drawn over the image and the labels beside them. backend/tests/ohif_viewer.py runs it.
//
//   node e2e/ohif/view-study.mjs <viewer URL of the study> <screenshot path>
import { chromium } from 'playwright-core';

const [url, screenshot] = process.argv.slice(2);
const THUMBNAIL = '[data-cy^="study-browser-thumbnail"]';
const SHAPES = 'svg.svg-layer polyline, svg.svg-layer line, svg.svg-layer ellipse, svg.svg-layer circle, svg.svg-layer path';

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(url);
  await page.locator(THUMBNAIL).first().waitFor({ timeout: 120_000 });
  // The first visit's guided tour and notice cover the page (they appear a moment after the
  // study): dismiss them as a reader would.
  for (const label of ['Skip all', 'Confirm and hide']) {
    const button = page.getByText(label, { exact: true }).first();
    await button.waitFor({ timeout: 20_000 }).then(() => button.click(), () => undefined);
  }
  const series = await page.locator(THUMBNAIL).allInnerTexts();
  const report = page.locator(THUMBNAIL, { hasText: /^SR/ }).first();
  let annotations = [];
  let texts = [];
  if (await report.count()) {
    await report.dblclick();
    // Asked whether to track the report's measurements: yes, as a reader reviewing them would.
    const track = page.getByText('Yes', { exact: true });
    await track.first().waitFor({ timeout: 30_000 }).then(() => track.first().click(), () => undefined);
    await page.locator(SHAPES).first().waitFor({ timeout: 60_000 }).catch(() => undefined);
    annotations = await page.locator(SHAPES).evaluateAll((shapes) =>
      shapes.map((shape) => ({ kind: shape.tagName, points: shape.getAttribute('points') ?? '' })),
    );
    texts = await page.locator('svg.svg-layer text').allTextContents();
  }
  await page.screenshot({ path: screenshot });
  console.log(JSON.stringify({ series, annotations, texts }));
} finally {
  await browser.close();
}
