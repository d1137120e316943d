import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { analyserCardFixture, ctFixture } from '@/testing/fixtures';

import { CTPanel } from './ct-panel';

const panel = () => screen.getByRole('region', { name: 'CT: severe against mild COVID-19 involvement' });

describe('CT panel', () => {
  it('shows the patient probability against its threshold, "mean of 4 slices" and the CT model\'s card', () => {
    render(<CTPanel ct={ctFixture()} />);

    expect(within(panel()).getByText('Severe involvement likely')).toHaveClass('tag-positive');
    expect(within(panel()).getByText('Probability of severe involvement').nextSibling).toHaveTextContent('65.0%');
    expect(within(panel()).getByText('Threshold').nextSibling).toHaveTextContent('50.0%');
    expect(within(panel()).getByText('Pooled over slices').nextSibling).toHaveTextContent('mean of 4 slices');
    expect(within(panel()).getByText('Model: resnet18-ct-severity 1.0.0')).toBeInTheDocument();
    expect(within(panel()).queryByRole('note')).not.toBeInTheDocument();
  });

  it('names the card\'s rule when it is the max, and says when the patient is below the threshold', () => {
    render(<CTPanel ct={ctFixture({ aggregation: 'max', patient_probability: 0.3, positive: false, slice_probabilities: [0.3] })} />);

    expect(within(panel()).getByText('Pooled over slices').nextSibling).toHaveTextContent('max of 1 slice');
    expect(within(panel()).getByText("Below the CT model's threshold")).toBeInTheDocument();
    expect(within(panel()).queryByText('Severe involvement likely')).not.toBeInTheDocument();
  });

  it('warns, in its own words, that an untrained CT model\'s probabilities mean nothing', () => {
    render(<CTPanel ct={ctFixture({ analyser: analyserCardFixture('ct', { trained: false }) })} />);

    expect(within(panel()).getByRole('note')).toHaveTextContent(
      'Untrained CT model — not for clinical use. Its probabilities come from seeded untrained weights and mean nothing.',
    );
    expect(within(panel()).getByText('Model: resnet18-ct-severity 1.0.0-untrained-seed0')).toBeInTheDocument();
  });

  it('says while the CT model waits and why it failed, without a probability or a strip', () => {
    const { rerender } = render(<CTPanel ct={ctFixture({ status: 'queued', patient_probability: null, strip: null })} />);
    expect(within(panel()).getByRole('status')).toHaveTextContent('Waiting for the CT model…');

    rerender(<CTPanel ct={ctFixture({ status: 'failed', message: 'Out of memory.', strip: null })} />);
    expect(within(panel()).getByRole('alert')).toHaveTextContent('The CT model failed: Out of memory.');
    expect(within(panel()).queryByText('Probability of severe involvement')).not.toBeInTheDocument();
  });
});
