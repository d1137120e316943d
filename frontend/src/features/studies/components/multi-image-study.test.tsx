import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { clinician, healthFixture, studyFixture, studyImageFixture } from '@/testing/fixtures';
import { jsonResponse, type MockRequest, mockFetch, pngResponse } from '@/testing/mock-fetch';
import { renderApp, renderWithProvider, signInForTest } from '@/testing/render-app';
import type { Finding, Study } from '@/types/api';

import { UploadRadiographs } from './upload-radiographs';

const png = (name: string) => new File([new Uint8Array([137, 80, 78, 71])], name, { type: 'image/png' });

const finding = (label: string, probability: number): Finding => ({
  label,
  probability,
  threshold: 0.5,
  positive: probability >= 0.5,
  calibrated_score: probability,
  heatmap: `/api/studies/7/heatmaps/${label}/`,
});

/** Two frontal images and a lateral; the study's findings are the mean of the frontal ones. */
function twoFrontalsAndALateral(): Study {
  const first = [finding('Cardiomegaly', 0.7), finding('Effusion', 0.2)];
  const second = [finding('Cardiomegaly', 0.5), finding('Effusion', 0.4)];
  return studyFixture({
    findings: [finding('Cardiomegaly', 0.6), finding('Effusion', 0.3)],
    aggregation: { rule: 'mean', images: 2 },
    image_count: 3,
    images: [
      studyImageFixture(0, first),
      studyImageFixture(1, second),
      studyImageFixture(2, [], {
        view: 'lateral',
        analysed: false,
        not_analysed_reason: 'Lateral view: the classifier, the segmentation and the screener read frontal views only.',
      }),
    ],
  });
}

function mockStudyServer(study: Study) {
  const files = [
    ...study.findings.map((item) => item.heatmap),
    ...study.images.flatMap((image) => [image.image, ...image.findings.map((item) => item.heatmap)]),
  ];
  return mockFetch({
    'GET /api/health/': () => jsonResponse(healthFixture({ trained: true })),
    'GET /api/auth/me/': () => jsonResponse(clinician),
    'GET /api/studies/7/': () => jsonResponse(study),
    'GET /api/studies/7/feedback/': () => jsonResponse([]),
    'GET /api/studies/7/image/': () => pngResponse(),
    ...Object.fromEntries(files.map((path) => [`GET ${path}`, () => pngResponse()])),
  });
}

describe('a study of several images', () => {
  it('opens on the key image the API names, not one it works out itself', async () => {
    signInForTest();
    mockStudyServer({ ...twoFrontalsAndALateral(), key_image: 1 });
    renderApp('/studies/7');

    const strip = await screen.findByRole('list', { name: 'Images of this study' });
    const thumbnails = within(strip).getAllByRole('button');
    expect(thumbnails[1]).toHaveAttribute('aria-pressed', 'true');
    expect(screen.getByRole('region', { name: 'Image 2 findings' })).toBeInTheDocument();
  });

  it('shows the images as thumbnails, the study findings with their rule in words, and the selected image findings', async () => {
    signInForTest();
    mockStudyServer(twoFrontalsAndALateral());
    renderApp('/studies/7');

    const strip = await screen.findByRole('list', { name: 'Images of this study' });
    const thumbnails = within(strip).getAllByRole('button');
    expect(thumbnails.map((button) => button.textContent)).toEqual([
      'Image 1 · frontal',
      'Image 2 · frontal',
      'Image 3 · lateral · not analysed (frontal views only)',
    ]);
    expect(thumbnails[0]).toHaveAttribute('aria-pressed', 'true');
    const study = screen.getByRole('region', { name: 'Study findings: mean of 2 frontal images' });
    expect(within(study).getByRole('button', { name: /^Cardiomegaly 60\.0%/ })).toBeInTheDocument();
    const image = screen.getByRole('region', { name: 'Image 1 findings' });
    expect(within(image).getByRole('button', { name: /^Cardiomegaly 70\.0%/ })).toBeInTheDocument();

    await userEvent.click(thumbnails[1]!);
    const second = await screen.findByRole('region', { name: 'Image 2 findings' });
    expect(within(second).getByRole('button', { name: /^Cardiomegaly 50\.0%/ })).toBeInTheDocument();
    expect(await screen.findByRole('img', { name: 'Radiograph chest-2.png' })).toBeInTheDocument();

    // A finding selected in the study's list shows the selected image's own heatmap of it.
    await userEvent.click(within(screen.getByRole('region', { name: /^Study findings/ })).getByRole('button', { name: /^Effusion/ }));
    expect(await screen.findByRole('img', { name: 'Grad-CAM heatmap for Effusion' })).toBeInTheDocument();
    // The other analysers and explanation methods read the key image; image 2 shows its own Grad-CAM maps.
    expect(
      screen.getByText(
        "The screener, the segmentation and the explanation methods other than Grad-CAM read the study's first frontal image (image 1).",
      ),
    ).toBeInTheDocument();
    expect(screen.queryByRole('region', { name: 'Explanation: Effusion' })).not.toBeInTheDocument();
    await userEvent.click(thumbnails[0]!);
    expect(await screen.findByRole('region', { name: 'Explanation: Effusion' })).toBeInTheDocument();
    await userEvent.click(thumbnails[1]!);

    await userEvent.click(thumbnails[2]!);
    expect(await screen.findByText('Image 3 (lateral): not analysed (frontal views only).')).toBeInTheDocument();
    expect(screen.queryByRole('region', { name: /^Image \d findings/ })).not.toBeInTheDocument();
    expect(screen.queryByRole('img', { name: /Grad-CAM heatmap/ })).not.toBeInTheDocument();
  });

  it('reads each image on its own: a zoom or a measurement on one is not carried to the next', async () => {
    signInForTest();
    mockStudyServer(twoFrontalsAndALateral());
    renderApp('/studies/7');

    const strip = await screen.findByRole('list', { name: 'Images of this study' });
    await screen.findByRole('img', { name: 'Radiograph chest-1.png' });
    await userEvent.click(screen.getByRole('button', { name: 'Zoom in' }));
    screen.getByRole('group', { name: /^Radiograph viewer/ }).focus();
    await userEvent.keyboard('m{Enter}{ArrowRight}{Enter}');
    expect(screen.getByText(/^Length 1:/)).toBeInTheDocument();
    expect(screen.getByLabelText('Zoom level')).toHaveTextContent('125%');

    await userEvent.click(within(strip).getAllByRole('button')[1]!);
    await screen.findByRole('img', { name: 'Radiograph chest-2.png' });
    expect(screen.getByLabelText('Zoom level')).toHaveTextContent('100%');
    expect(screen.queryByText(/^Length 1:/)).not.toBeInTheDocument();
  });

  it('keeps a study of one image as it was: no thumbnails, one list named Findings', async () => {
    signInForTest();
    mockStudyServer(studyFixture());
    renderApp('/studies/7');

    expect(await screen.findByRole('region', { name: 'Findings' })).toBeInTheDocument();
    expect(screen.queryByRole('list', { name: 'Images of this study' })).not.toBeInTheDocument();
  });
});

describe('uploading several files as one study', () => {
  function formFields(request: MockRequest): [string, string][] {
    return [...(request.body as FormData).entries()].map(([field, value]) => [field, (value as File).name]);
  }

  it('sends the chosen files in one request as repeated images fields when asked, and one row for the study', async () => {
    signInForTest();
    const { requests } = mockFetch({
      'POST /api/studies/': () => jsonResponse({ id: 'abc', status: 'queued', cached: false }, 202),
    });
    renderWithProvider(<UploadRadiographs />);

    await userEvent.click(screen.getByRole('checkbox', { name: /Several files at once make one study/ }));
    await userEvent.upload(screen.getByLabelText('Upload radiographs'), [png('frontal.png'), png('follow-up.png')]);

    const row = await screen.findByText('frontal.png + follow-up.png');
    expect(within(row.closest('li')!).getByText('Queued')).toBeInTheDocument();
    expect(requests.map(formFields)).toEqual([
      [
        ['images', 'frontal.png'],
        ['images', 'follow-up.png'],
      ],
    ]);
  });

  it('still makes one study per file by default', async () => {
    signInForTest();
    const { requests } = mockFetch({
      'POST /api/studies/': () => jsonResponse({ id: 'abc', status: 'queued', cached: false }, 202),
    });
    renderWithProvider(<UploadRadiographs />);

    await userEvent.upload(screen.getByLabelText('Upload radiographs'), [png('a.png'), png('b.png')]);

    await screen.findAllByText('Queued');
    expect(requests.map(formFields)).toEqual([[['image', 'a.png']], [['image', 'b.png']]]);
  });
});
