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
  // What the viewer said while loading the report: why it skipped what it did not draw.
  const messages = [];
  page.on('console', (message) => {
    if (message.type() === 'warning' || message.type() === 'error') messages.push(message.text().slice(0, 300));
  });
  page.on('pageerror', (error) => messages.push(`page error: ${error.message.slice(0, 300)}`));
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
    // Loading the report into the viewport takes a double click once the viewer has read the
    // study; one given while it still loads is lost, so it is given again until shapes appear.
    for (let attempt = 0; attempt < 2 && annotations.length === 0; attempt += 1) {
      await report.dblclick();
      // Asked whether to track the report's measurements: yes, as a reader reviewing them would.
      const track = page.getByText('Yes', { exact: true }).first();
      await track.waitFor({ timeout: 10_000 }).then(() => track.click(), () => undefined);
      await page.locator(SHAPES).first().waitFor({ timeout: 10_000 }).catch(() => undefined);
      if ((await page.locator(SHAPES).count()) === 0) {
        // The report's shapes are drawn when the viewport next renders: a reader's pointer over
        // the image gives it one.
        const box = await page.locator('.cornerstone-viewport-element, [data-viewport-uid]').first().boundingBox({ timeout: 5_000 }).catch(() => null);
        if (box) await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 5 });
        await page.locator(SHAPES).first().waitFor({ timeout: 10_000 }).catch(() => undefined);
      }
      annotations = await page.locator(SHAPES).evaluateAll((shapes) =>
        shapes.map((shape) => ({ kind: shape.tagName, points: shape.getAttribute('points') ?? '' })),
      );
    }
    texts = await page.locator('svg.svg-layer text').allTextContents();
  }
  await page.screenshot({ path: screenshot });
  console.log(JSON.stringify({ series, annotations, texts, messages: messages.slice(-30) }));
} finally {
  await browser.close();
}
