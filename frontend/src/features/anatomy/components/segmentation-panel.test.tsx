import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

import { analyserCardFixture, segmentationFixture, studyFixture } from '@/testing/fixtures';
import { eventStreamRoute } from '@/testing/mock-fetch';
import { renderApp, signInForTest } from '@/testing/render-app';
import { mockStudyServer } from '@/testing/study-server';
import type { Segmentation } from '@/types/api';

// The panel and the overlay share their switches through the study page, so both are tested there.
function openStudyWith(segmentation: Segmentation, events = eventStreamRoute()) {
  signInForTest();
  let study = studyFixture({ segmentation });
  const server = mockStudyServer(() => study, { 'GET /api/studies/events/': events.handler });
  renderApp('/studies/7');
  return { ...server, finish: (next: Segmentation) => (study = studyFixture({ segmentation: next })) };
}

const panel = () => screen.findByRole('region', { name: 'Anatomy and cardiothoracic ratio' });
const overlay = () => screen.getByRole('group', { name: 'Anatomy overlay' });
const untrainedSegmentation = (overrides: Partial<Segmentation> = {}) =>
  segmentationFixture({
    analyser: analyserCardFixture('segmentation', { trained: false }),
    cardiothoracic_ratio: null,
    cardiothoracic_ratio_note:
      'The segmentation model is untrained: its outlines are not anatomy, so no cardiothoracic ratio is measured.',
    ...overrides,
  });

describe('segmentation panel and anatomy overlay', () => {
  it('shows the cardiothoracic ratio with its normal range, flags it above the range, and names the lines\' colours', async () => {
    openStudyWith(segmentationFixture());

    const region = await panel();
    expect(within(region).getByText('Cardiothoracic ratio 0.56')).toBeInTheDocument();
    expect(within(region).getByText('Above the normal range')).toHaveClass('tag-positive');
    expect(within(region).getByText('Normal range: ≤ 0.50 on a PA film. View: PA.')).toBeInTheDocument();
    expect(within(region).getByRole('list', { name: 'Measurement lines' })).toHaveTextContent(
      "Red, solid: the heart's widest extentBlue, dashed: the thorax's widest inner extent",
    );
    expect(within(region).queryByRole('note')).not.toBeInTheDocument();
    expect(within(region).getByText('Model: unet-cxr-anatomy 1.0.0')).toBeInTheDocument();
  });

  it('says a ratio within the range is within it, with no flag', async () => {
    const ratio = segmentationFixture().cardiothoracic_ratio!;
    openStudyWith(segmentationFixture({ cardiothoracic_ratio: { ...ratio, ratio: 0.44, above_range: false } }));

    const region = await panel();
    expect(within(region).getByText('Cardiothoracic ratio 0.44')).toBeInTheDocument();
    expect(within(region).getByText('Within the normal range')).not.toHaveClass('tag-positive');
    expect(within(region).queryByText('Above the normal range')).not.toBeInTheDocument();
  });

  it('gives the service\'s caveat on an AP film', async () => {
    const ratio = segmentationFixture().cardiothoracic_ratio!;
    const caveat = 'An AP film magnifies the heart: the ratio overestimates, and the 0.50 limit is for PA films.';
    openStudyWith(segmentationFixture({ cardiothoracic_ratio: { ...ratio, view: 'AP', caveat } }));

    const region = await panel();
    expect(within(region).getByRole('note')).toHaveTextContent(caveat);
    expect(within(region).getByText(/View: AP\./)).toBeInTheDocument();
  });

  it('draws each structure\'s outline in radiograph pixels and switches them one by one', async () => {
    openStudyWith(segmentationFixture());

    const region = await panel();
    const heart = await screen.findByRole('img', { name: 'Heart outline' });
    expect(overlay()).toHaveAttribute('viewBox', '0 0 1024 1024');
    expect(heart.querySelector('polygon')).toHaveAttribute('points', '380,520 660,520 640,760 400,760');
    expect(screen.getByRole('img', { name: 'Left lung outline' })).toBeInTheDocument();
    expect(screen.getByRole('img', { name: 'Right lung outline' })).toBeInTheDocument();

    await userEvent.click(within(region).getByRole('checkbox', { name: 'Heart' }));
    expect(within(region).getByRole('checkbox', { name: 'Heart' })).not.toBeChecked();
    expect(screen.queryByRole('img', { name: 'Heart outline' })).not.toBeInTheDocument();
    expect(screen.getByRole('img', { name: 'Left lung outline' })).toBeInTheDocument();

    await userEvent.click(within(region).getByRole('checkbox', { name: 'Left lung' }));
    expect(screen.queryByRole('img', { name: 'Left lung outline' })).not.toBeInTheDocument();
    await userEvent.click(within(region).getByRole('checkbox', { name: 'Heart' }));
    expect(screen.getByRole('img', { name: 'Heart outline' })).toBeInTheDocument();
  });

  it('draws the heart and thorax lines at the measured points, and hides them with their switch', async () => {
    openStudyWith(segmentationFixture());

    const region = await panel();
    const heartLine = await screen.findByRole('img', { name: "Heart line: the heart's widest extent" });
    expect([...['x1', 'y1', 'x2', 'y2'].map((name) => heartLine.getAttribute(name))]).toEqual(['380', '620', '660', '620']);
    const thoraxLine = screen.getByRole('img', { name: "Thorax line: the thorax's widest inner extent" });
    expect([...['x1', 'y1', 'x2', 'y2'].map((name) => thoraxLine.getAttribute(name))]).toEqual(['262', '700', '762', '700']);
    expect(heartLine.getAttribute('stroke')).not.toBe(thoraxLine.getAttribute('stroke'));

    await userEvent.click(within(region).getByRole('checkbox', { name: 'Show the measurement lines' }));
    expect(screen.queryByRole('img', { name: /^Heart line/ })).not.toBeInTheDocument();
    expect(screen.queryByRole('img', { name: /^Thorax line/ })).not.toBeInTheDocument();
    expect(screen.getByRole('img', { name: 'Heart outline' })).toBeInTheDocument();
  });

  it('shows an untrained segmentation\'s own warning and note instead of a ratio, and no lines even when a ratio was sent', async () => {
    openStudyWith(untrainedSegmentation({ cardiothoracic_ratio: segmentationFixture().cardiothoracic_ratio }));

    const region = await panel();
    expect(within(region).getByRole('note')).toHaveTextContent(
      'Untrained segmentation model — not for clinical use. Its outlines come from seeded untrained weights: they are not anatomy.',
    );
    expect(within(region).getByText(/so no cardiothoracic ratio is measured\.$/)).toBeInTheDocument();
    expect(within(region).queryByText(/^Cardiothoracic ratio/)).not.toBeInTheDocument();
    expect(within(region).queryByText(/normal range/)).not.toBeInTheDocument();
    expect(within(region).queryByRole('checkbox', { name: 'Show the measurement lines' })).not.toBeInTheDocument();
    // The outlines are off until asked for; then drawn (and switchable), under the warning; the lines never.
    expect(screen.queryByRole('img', { name: 'Heart outline' })).not.toBeInTheDocument();
    await userEvent.click(screen.getByRole('checkbox', { name: /^Anatomy outlines/ }));
    expect(await screen.findByRole('img', { name: 'Heart outline' })).toBeInTheDocument();
    expect(screen.queryByRole('img', { name: /^Heart line/ })).not.toBeInTheDocument();
    expect(screen.queryByRole('img', { name: /^Thorax line/ })).not.toBeInTheDocument();
  });

  it('names the imported PSPNet\'s structures in plain words', async () => {
    openStudyWith(untrainedSegmentation({ structures: ['left_hilus_pulmonis', 'facies_diaphragmatica', 'spine'] }));

    const region = await panel();
    const names = within(region)
      .getAllByRole('checkbox')
      .map((checkbox) => checkbox.closest('label')?.textContent);
    expect(names).toEqual(['Left hilum', 'Diaphragm', 'Spine']);
  });

  it('says while the segmentation runs and asks for no outlines until it is done', async () => {
    const { requests } = openStudyWith(
      segmentationFixture({ status: 'running', outlines: null, structures: [], cardiothoracic_ratio: null, analyser: null }),
    );

    const region = await panel();
    expect(within(region).getByRole('status')).toHaveTextContent('The segmentation is running…');
    await screen.findByRole('img', { name: 'Radiograph chest.png' });
    expect(screen.queryByRole('group', { name: 'Anatomy overlay' })).not.toBeInTheDocument();
    expect(requests.some((request) => request.url.pathname.endsWith('/segmentation/'))).toBe(false);
  });
  it('shows the ratio and the outlines once the event stream announces the study again', async () => {
    const events = eventStreamRoute();
    const running = segmentationFixture({ status: 'running', outlines: null, structures: [], cardiothoracic_ratio: null });
    const server = openStudyWith(running, events);
    const region = await panel();
    expect(within(region).getByRole('status')).toHaveTextContent('The segmentation is running…');
    await vi.waitFor(() => expect(events.connections).toHaveLength(1));

    server.finish(segmentationFixture());
    events.connections[0]!.send('study', { id: '7', status: 'done', finished_at: '2025-01-02T10:00:09Z', message: '' });

    expect(await within(region).findByText('Cardiothoracic ratio 0.56')).toBeInTheDocument();
    expect(await screen.findByRole('img', { name: 'Heart outline' })).toBeInTheDocument();
  });
});
