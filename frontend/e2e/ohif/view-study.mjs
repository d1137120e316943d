// Opens a study in OHIF Viewer (in Chromium) with its structured report in the viewport and prints,
// as the last line, JSON of what the viewer displayed: the thumbnails of the study's series, and the
// report's annotations drawn over the image (each by its measurement group's tracking UID, with its
// shapes' points in screen pixels and its label lines). backend/tests/ohif_viewer.py runs it.
//
//   node e2e/ohif/view-study.mjs <viewer URL of the study> <report's Series Instance UID> <screenshot path>
import { chromium } from 'playwright-core';

const [url, reportSeries, screenshot] = process.argv.slice(2);
const THUMBNAIL = '[data-cy^="study-browser-thumbnail"]';
const ANNOTATION = 'svg.svg-layer g[data-annotation-uid]';

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  // What the viewer said while loading: why it skipped what it did not draw.
  const messages = [];
  page.on('console', (message) => {
    if (message.type() === 'warning' || message.type() === 'error') messages.push(message.text().slice(0, 300));
  });
  page.on('pageerror', (error) => messages.push(`page error: ${error.message.slice(0, 300)}`));
  // Opened with the report as the initial series, the viewer loads it into the viewport once it has
  // read the study (a double click on its thumbnail while the study still loads is lost).
  await page.goto(`${url}&initialSeriesInstanceUID=${encodeURIComponent(reportSeries)}`);
  await page.locator(THUMBNAIL).first().waitFor({ timeout: 120_000 });
  await page.locator(ANNOTATION).first().waitFor({ timeout: 120_000 }).catch(() => undefined);
  // The first visit's guided tour and notice, and the question whether to track the report's
  // measurements (the report is read, not edited: no), cover the page: dismiss them as a reader would.
  for (const label of ['Skip all', 'Confirm and hide', 'No']) {
    const button = page.getByText(label, { exact: true }).first();
    await button.waitFor({ timeout: 10_000 }).then(() => button.click(), () => undefined);
  }
  // Drawn once, the annotations stay: wait until their number holds still.
  let count = -1;
  while (count !== (await page.locator(ANNOTATION).count())) {
    count = await page.locator(ANNOTATION).count();
    await page.waitForTimeout(1_000);
  }
  const series = await page.locator(THUMBNAIL).allInnerTexts();
  const annotations = await page.locator('svg.svg-layer').first().evaluate((layer) => {
    // The layer holds each annotation as its shapes, then its labels' group (named by the tracking
    // UID), then the line from the labels to the shapes.
    const drawn = [];
    let shapes = [];
    let afterLabels = false;
    for (const element of layer.children) {
      if (element.matches('g[data-annotation-uid]')) {
        const texts = [...element.querySelectorAll('tspan')].map((line) => line.textContent);
        drawn.push({ uid: element.getAttribute('data-annotation-uid'), shapes, texts });
        shapes = [];
        afterLabels = true;
      } else if (element.matches('polyline, line')) {
        if (!afterLabels) {
          const points = element.tagName === 'line'
            ? ['x1', 'y1', 'x2', 'y2'].map((name) => Number(element.getAttribute(name)))
            : element.getAttribute('points').trim().split(/[\s,]+/).map(Number);
          shapes.push({ kind: element.tagName, points });
        }
        afterLabels = false;
      }
    }
    return drawn;
  });
  await page.screenshot({ path: screenshot });
  console.log(JSON.stringify({ series, annotations, messages: messages.slice(-30) }));
} finally {
  await browser.close();
}
