import { fireEvent, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { analyserCardFixture, ctFixture, screenerFixture, segmentationFixture, studyFixture } from '@/testing/fixtures';
import { eventStreamRoute, pngResponse } from '@/testing/mock-fetch';
import { renderApp, signInForTest } from '@/testing/render-app';
import { mockStudyServer } from '@/testing/study-server';

const findingButtons = () => within(screen.getByRole('region', { name: 'Findings' })).getAllByRole('button');

describe('study page', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('shows the radiograph of a queued study and its findings as soon as the event stream says it is done', async () => {
    signInForTest();
    let study = studyFixture({ status: 'queued', finished_at: null, findings: [], model: null });
    const stream = eventStreamRoute();
    mockStudyServer(() => study, {
      'GET /api/studies/7/heatmaps/Cardiomegaly/': () => pngResponse(),
      'GET /api/studies/events/': stream.handler,
    });
    renderApp('/studies/7');

    expect(await screen.findByText('Queued')).toBeInTheDocument();
    expect(await screen.findByRole('img', { name: 'Radiograph chest.png' })).toBeInTheDocument();
    expect(screen.queryByRole('heading', { name: 'Findings' })).not.toBeInTheDocument();
    await vi.waitFor(() => expect(stream.connections).toHaveLength(1));

    study = studyFixture({ findings: studyFixture().findings.filter((finding) => finding.label === 'Cardiomegaly') });
    stream.connections[0]!.send('study', { id: '7', status: 'done', finished_at: study.finished_at, message: '' });

    expect(
      await screen.findByRole('button', { name: 'Cardiomegaly 63.2% (threshold 50.0%), score 63.2%' }),
    ).toBeInTheDocument();
  });

  it('renders one button per finding named "<display name> <probability> (threshold <threshold>), score <score>", positives first', async () => {
    signInForTest();
    mockStudyServer(studyFixture());
    renderApp('/studies/7');

    await screen.findByRole('heading', { name: 'Findings' });
    expect(findingButtons().map((button) => button.getAttribute('aria-pressed'))).toEqual([
      'false',
      'false',
      'false',
      'false',
    ]);
    const names = findingButtons().map((button) => button.textContent?.replace('Positive', '').trim());
    expect(names).toEqual([
      'Cardiomegaly 63.2% (threshold 50.0%), score 63.2%',
      'Pleural Thickening 42.0% (threshold 30.0%), score 58.6%',
      'Effusion 48.0% (threshold 60.0%), score 40.0%',
      'Hernia 1.2% (threshold 20.0%), score 3.0%',
    ]);
    expect(screen.getByRole('button', { name: 'Cardiomegaly 63.2% (threshold 50.0%), score 63.2%' })).toHaveAccessibleDescription(
      'Above threshold',
    );
    expect(screen.getByRole('button', { name: 'Effusion 48.0% (threshold 60.0%), score 40.0%' })).not.toHaveAccessibleDescription();
    expect(await screen.findByRole('img', { name: 'Radiograph chest.png' })).toBeInTheDocument();
  });

  it('overlays the Grad-CAM heatmap with a colour scale when a finding is pressed, and removes it when pressed again', async () => {
    signInForTest();
    mockStudyServer(studyFixture());
    renderApp('/studies/7');

    const button = await screen.findByRole('button', { name: 'Pleural Thickening 42.0% (threshold 30.0%), score 58.6%' });
    await userEvent.click(button);

    const heatmap = await screen.findByRole('img', { name: 'Grad-CAM heatmap for Pleural Thickening' });
    expect(heatmap).toHaveClass('heatmap-overlay');
    expect(button).toHaveAttribute('aria-pressed', 'true');
    expect(screen.getByRole('img', { name: /^Colour scale for the Pleural Thickening heatmap/ })).toBeInTheDocument();

    fireEvent.change(screen.getByLabelText('Heatmap opacity'), { target: { value: '0.3' } });
    expect(heatmap).toHaveStyle({ opacity: '0.3' });

    await userEvent.click(button);
    expect(button).toHaveAttribute('aria-pressed', 'false');
    expect(screen.queryByRole('img', { name: /Grad-CAM heatmap/ })).not.toBeInTheDocument();
  });

  it('fetches a heatmap only when it is shown, once per finding, so a study opens without waiting for its heatmaps', async () => {
    signInForTest();
    const { requests } = mockStudyServer(studyFixture());
    renderApp('/studies/7');

    await screen.findByRole('heading', { name: 'Findings' });
    expect(await screen.findByRole('img', { name: 'Radiograph chest.png' })).toBeInTheDocument();
    const heatmapRequests = () => requests.filter((request) => request.url.pathname.includes('/heatmaps/')).map((request) => request.url.pathname);
    expect(heatmapRequests()).toEqual([]);

    await userEvent.click(screen.getByRole('button', { name: 'Cardiomegaly 63.2% (threshold 50.0%), score 63.2%' }));
    expect(await screen.findByRole('img', { name: 'Grad-CAM heatmap for Cardiomegaly' })).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Hernia 1.2% (threshold 20.0%), score 3.0%' }));
    expect(await screen.findByRole('img', { name: 'Grad-CAM heatmap for Hernia' })).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Cardiomegaly 63.2% (threshold 50.0%), score 63.2%' }));
    expect(await screen.findByRole('img', { name: 'Grad-CAM heatmap for Cardiomegaly' })).toBeInTheDocument();
    expect(heatmapRequests()).toEqual(['/api/studies/7/heatmaps/Cardiomegaly/', '/api/studies/7/heatmaps/Hernia/']);
  });

  it('keeps an untrained model\'s heatmap off until the person switches it on, and remembers that choice', async () => {
    signInForTest();
    const untrained = studyFixture({ model: { ...studyFixture().model!, trained: false } });
    const { requests } = mockStudyServer(untrained);
    const { unmount } = renderApp('/studies/7');

    await userEvent.click(await screen.findByRole('button', { name: 'Cardiomegaly 63.2% (threshold 50.0%), score 63.2%' }));
    const heatmapSwitch = screen.getByRole('checkbox', { name: /^Heatmap/ });
    expect(heatmapSwitch).not.toBeChecked();
    expect(screen.queryByRole('img', { name: /Grad-CAM heatmap/ })).not.toBeInTheDocument();
    expect(requests.some((request) => request.url.pathname.includes('/heatmaps/'))).toBe(false);

    await userEvent.click(heatmapSwitch);
    expect(await screen.findByRole('img', { name: 'Grad-CAM heatmap for Cardiomegaly' })).toBeInTheDocument();
    unmount();
    renderApp('/studies/7');
    expect(await screen.findByRole('checkbox', { name: /^Heatmap/ })).toBeChecked();
  });

  it('zooms with buttons and keys, pans with the arrow keys, and resets the view', async () => {
    signInForTest();
    mockStudyServer(studyFixture());
    renderApp('/studies/7');
    const image = await screen.findByRole('img', { name: 'Radiograph chest.png' });
    const stage = image.parentElement!;

    await userEvent.click(screen.getByRole('button', { name: 'Zoom in' }));
    expect(screen.getByLabelText('Zoom level')).toHaveTextContent('125%');
    expect(stage.style.transform).toContain('scale(1.25)');

    const viewport = screen.getByRole('group', { name: /^Radiograph viewer/ });
    viewport.focus();
    await userEvent.keyboard('+');
    expect(screen.getByLabelText('Zoom level')).toHaveTextContent('156%');
    await userEvent.keyboard('-');
    expect(screen.getByLabelText('Zoom level')).toHaveTextContent('125%');

    await userEvent.click(screen.getByRole('button', { name: 'Reset view' }));
    expect(screen.getByLabelText('Zoom level')).toHaveTextContent('100%');
    expect(screen.getByRole('button', { name: 'Zoom out' })).toBeDisabled();
  });

  it('applies window/level and invert to the radiograph through an SVG transfer filter', async () => {
    signInForTest();
    mockStudyServer(studyFixture());
    const { container } = renderApp('/studies/7');
    const image = await screen.findByRole('img', { name: 'Radiograph chest.png' });
    expect(image.style.filter).toBe('');

    fireEvent.change(screen.getByLabelText('Window width (contrast)'), { target: { value: '0.5' } });
    await userEvent.click(screen.getByLabelText('Invert'));

    const filterId = image.style.filter.match(/url\("?#([^")]+)"?\)/)?.[1];
    expect(filterId).toBeTruthy();
    const red = container.querySelector(`filter[id="${filterId}"] feFuncR`)!;
    // Width 0.5 around level 0.5, inverted: out = 1 - (in - 0.25) / 0.5 = -2 * in + 1.5.
    expect(Number(red.getAttribute('slope'))).toBeCloseTo(-2);
    expect(Number(red.getAttribute('intercept'))).toBeCloseTo(1.5);
  });

  it('shows the model card with training data, validation AUROC with its CI and per-finding figures, and the image metadata', async () => {
    signInForTest();
    mockStudyServer(
      studyFixture({
        metadata: {
          modality: 'DX',
          body_part: 'CHEST',
          view_position: 'PA',
          patient_age_years: 58,
          patient_sex: 'F',
          pixel_spacing_mm: [0.143, 0.143],
        },
      }),
    );
    renderApp('/studies/7');

    const model = await screen.findByRole('region', { name: 'Model' });
    expect(within(model).getByText('densenet121-cxr')).toBeInTheDocument();
    expect(within(model).getByText('NIH ChestX-ray14 train split')).toBeInTheDocument();
    expect(within(model).getByText('0.840 (95% CI 0.820–0.860)')).toBeInTheDocument();
    expect(within(model).getByRole('row', { name: /Cardiomegaly/ })).toHaveTextContent('0.910 (95% CI 0.860–0.950)');

    const image = screen.getByRole('region', { name: 'Image' });
    expect(within(image).getByText('58 years')).toBeInTheDocument();
    expect(within(image).getByText('Female')).toBeInTheDocument();
    expect(within(image).getByText('PA')).toBeInTheDocument();
    expect(within(image).getByText('0.143 × 0.143 mm')).toBeInTheDocument();
  });

  it('says when a PNG study carries no metadata, and marks an untrained model', async () => {
    signInForTest();
    const study = studyFixture();
    mockStudyServer({ ...study, model: { ...study.model!, trained: false, validation: null, training_data: null } });
    renderApp('/studies/7');

    const model = await screen.findByRole('region', { name: 'Model' });
    expect(within(model).getByText('No — untrained weights')).toBeInTheDocument();
    expect(within(screen.getByRole('region', { name: 'Image' })).getAllByText('Not recorded')).toHaveLength(6);
  });

  it('says when the input screening corrected an inverted grey scale, and says nothing otherwise', async () => {
    signInForTest();
    mockStudyServer(
      studyFixture({
        screening: {
          orientation: 'inverted grey scale',
          chest_score: 0.81,
          histogram_peak_share: 0.03,
          corrected: 'inverted grey scale',
        },
      }),
    );
    const { unmount } = renderApp('/studies/7');
    const notice = await screen.findByText(/arrived with an inverted grey scale; it was corrected before analysis/);
    // It comes first beside the image, before the findings, never as the page's last box.
    const side = notice.closest('.study-side');
    expect(side?.firstElementChild).toBe(notice);
    expect(notice.compareDocumentPosition(screen.getByRole('region', { name: 'Findings' })) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    unmount();

    mockStudyServer(studyFixture());
    renderApp('/studies/7');
    await screen.findByRole('region', { name: 'Model' });
    expect(screen.queryByText(/corrected before analysis/)).not.toBeInTheDocument();
  });

  it('fetches the radiograph with the bearer token and shows it through an object URL', async () => {
    signInForTest();
    const { requests } = mockStudyServer(studyFixture());
    renderApp('/studies/7');

    const image = await screen.findByRole('img', { name: 'Radiograph chest.png' });
    expect(image.getAttribute('src')).toMatch(/^blob:/);
    const imageRequest = requests.find((request) => request.url.pathname === '/api/studies/7/image/');
    expect(imageRequest?.headers.get('Authorization')).toBe('Bearer access-1');
  });

  it('shows the failure message of a failed study and no findings', async () => {
    signInForTest();
    mockStudyServer(studyFixture({ status: 'failed', message: 'Image could not be decoded.', findings: [] }));
    renderApp('/studies/7');

    expect(await screen.findByText(/Image could not be decoded\./)).toBeInTheDocument();
    expect(screen.queryByRole('heading', { name: 'Findings' })).not.toBeInTheDocument();
  });

  it('shows the screener and the segmentation beside a trained classifier\'s findings, each with its own untrained warning', async () => {
    signInForTest();
    const { requests } = mockStudyServer(
      studyFixture({
        screener: screenerFixture({ trained: false }),
        segmentation: segmentationFixture({
          analyser: analyserCardFixture('segmentation', { trained: false }),
          cardiothoracic_ratio: null,
        }),
      }),
    );
    renderApp('/studies/7');

    const screener = await screen.findByRole('region', { name: 'Abnormality screener' });
    expect(within(screener).getByRole('note')).toHaveTextContent(/^Untrained screener — not for clinical use\./);
    const segmentation = screen.getByRole('region', { name: 'Anatomy and cardiothoracic ratio' });
    expect(within(segmentation).getByRole('note')).toHaveTextContent(/^Untrained segmentation model — not for clinical use\./);
    // The classifier is trained: the model card says so, and no page-wide banner shows.
    expect(within(screen.getByRole('region', { name: 'Model' })).getByText('Yes')).toBeInTheDocument();
    expect(screen.queryByText('Untrained model — not for clinical use')).not.toBeInTheDocument();
    // The untrained segmentation's outlines stay off until asked for, and are not even fetched.
    const outlinesSwitch = screen.getByRole('checkbox', { name: /^Anatomy outlines/ });
    expect(outlinesSwitch).not.toBeChecked();
    expect(screen.queryByRole('img', { name: 'Left lung outline' })).not.toBeInTheDocument();
    expect(requests.some((request) => request.url.pathname.endsWith('/segmentation/'))).toBe(false);
    await userEvent.click(outlinesSwitch);
    expect(await screen.findByRole('img', { name: 'Left lung outline' })).toBeInTheDocument();
  });

  it('notes a result served from cache', async () => {
    signInForTest();
    mockStudyServer(studyFixture({ cached: true }));
    renderApp('/studies/7');

    expect(await screen.findByText(/From cache/)).toBeInTheDocument();
  });

  it('shows a CT study\'s middle slice, its per-slice strip under the viewer and the CT panel, without findings', async () => {
    signInForTest();
    mockStudyServer(
      studyFixture({
        kind: 'ct',
        original_filename: 'series.zip',
        findings: [],
        ct: ctFixture({ analyser: analyserCardFixture('ct', { trained: false }) }),
      }),
      { 'GET /api/studies/7/ct-strip/': () => pngResponse() },
    );
    renderApp('/studies/7');

    expect(await screen.findByRole('img', { name: 'Radiograph series.zip' })).toBeInTheDocument();
    expect(await screen.findByRole('img', { name: /each of 4 slices, first slice left/ })).toHaveAttribute(
      'src',
      expect.stringMatching(/^blob:/),
    );
    const ct = screen.getByRole('region', { name: 'CT: severe against mild COVID-19 involvement' });
    expect(within(ct).getByText('Pooled over slices').nextSibling).toHaveTextContent('mean of 4 slices');
    expect(within(ct).getByRole('note')).toHaveTextContent('Untrained CT model — not for clinical use.');
    expect(screen.queryByRole('heading', { name: 'Findings' })).not.toBeInTheDocument();
    expect(screen.queryByRole('heading', { name: 'Report' })).not.toBeInTheDocument();
  });

  it('scrolls through a CT series slice by slice, each as the model saw it', async () => {
    signInForTest();
    const { requests } = mockStudyServer(
      studyFixture({ kind: 'ct', original_filename: 'series.zip', findings: [], ct: ctFixture() }),
      {
        'GET /api/studies/7/ct-strip/': () => pngResponse(),
        'GET /api/studies/7/ct-slices/3/': () => pngResponse(),
        'GET /api/studies/7/ct-slices/0/': () => pngResponse(),
      },
    );
    renderApp('/studies/7');

    const slider = await screen.findByRole('slider', { name: 'Slice' });
    // Four slices open on the middle one (the third), the series' own display image.
    expect(slider).toHaveAttribute('aria-valuetext', 'Slice 3 of 4');
    expect(screen.getByText('Slice 3 of 4: 70.0% severe involvement')).toBeInTheDocument();
    fireEvent.change(slider, { target: { value: '4' } });
    expect(await screen.findByText('Slice 4 of 4: 80.0% severe involvement')).toBeInTheDocument();
    await vi.waitFor(() => expect(requests.some((request) => request.url.pathname === '/api/studies/7/ct-slices/3/')).toBe(true));
    expect(screen.getByText(/slice 4, as the CT model saw it/)).toBeInTheDocument();
    fireEvent.change(slider, { target: { value: '1' } });
    await vi.waitFor(() => expect(requests.some((request) => request.url.pathname === '/api/studies/7/ct-slices/0/')).toBe(true));
  });
});
