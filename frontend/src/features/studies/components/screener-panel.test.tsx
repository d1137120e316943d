import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { screenerFixture } from '@/testing/fixtures';

import { SCREENER_NEVER_NORMAL, ScreenerPanel } from './screener-panel';

const panel = () => screen.getByRole('region', { name: 'Abnormality screener' });

describe('screener panel', () => {
  it('shows the probability, the threshold, a "Likely abnormal" flag, and the screener model\'s name and version', () => {
    render(<ScreenerPanel screener={screenerFixture()} />);

    expect(within(panel()).getByText('Likely abnormal')).toHaveClass('tag-positive');
    expect(within(panel()).getByText('Probability of any abnormality').nextSibling).toHaveTextContent('83.0%');
    expect(within(panel()).getByText('Threshold').nextSibling).toHaveTextContent('40.0%');
    expect(within(panel()).getByText('Model: densenet121-abnormality 1.0.0')).toBeInTheDocument();
    expect(within(panel()).queryByRole('note')).not.toBeInTheDocument();
  });

  it('warns, in its own words, that an untrained screener\'s probability means nothing', () => {
    render(<ScreenerPanel screener={screenerFixture({ trained: false })} />);

    expect(within(panel()).getByRole('note')).toHaveTextContent(
      'Untrained screener — not for clinical use. Its probability comes from seeded untrained weights and means nothing.',
    );
    expect(within(panel()).getByText('Model: densenet121-abnormality 1.0.0-untrained-seed0')).toBeInTheDocument();
  });

  it('says "below the screener\'s threshold" and never calls a study normal', () => {
    render(<ScreenerPanel screener={screenerFixture({ probability: 0.12, likely_abnormal: false })} />);

    expect(within(panel()).getByText("Below the screener's threshold")).toBeInTheDocument();
    expect(within(panel()).queryByText('Likely abnormal')).not.toBeInTheDocument();
    expect(within(panel()).getByText(SCREENER_NEVER_NORMAL)).toBeInTheDocument();
    // "normal" appears only in the sentence that says the screener never says it.
    const text = panel().textContent!.replace(SCREENER_NEVER_NORMAL, '');
    expect(text).not.toMatch(/\bnormal\b/i);
  });

  it('says while the screener waits or runs, and why it failed, without a probability', () => {
    const { rerender } = render(<ScreenerPanel screener={screenerFixture({ status: 'queued', probability: null })} />);
    expect(within(panel()).getByRole('status')).toHaveTextContent('Waiting for the screener…');

    rerender(<ScreenerPanel screener={screenerFixture({ status: 'running', probability: null })} />);
    expect(within(panel()).getByRole('status')).toHaveTextContent('The screener is running…');

    rerender(
      <ScreenerPanel screener={screenerFixture({ status: 'failed', probability: null, message: 'Out of memory.' })} />,
    );
    expect(within(panel()).getByRole('alert')).toHaveTextContent('The screener failed: Out of memory.');
    expect(within(panel()).queryByText('Probability of any abnormality')).not.toBeInTheDocument();
  });

  it('shows nothing for a study the screener has not run on', () => {
    const { container } = render(<ScreenerPanel screener={null} />);
    expect(container).toBeEmptyDOMElement();
  });
});
