import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { jsonResponse, mockFetch } from '@/testing/mock-fetch';
import { renderWithProvider, signInForTest } from '@/testing/render-app';
import type { DeploymentsOverview, ModelVersion, ServerWeights, ThresholdProfile } from '@/types/api';

import { ModelVersions } from './model-versions';

const version: ModelVersion = {
  id: 1,
  name: 'site-densenet',
  version: '1.0.0',
  trained: true,
  weights_dir: '/weights/site',
  weights_sha256: 'a'.repeat(64),
  installed_at: '2026-01-02T10:00:00Z',
};
const profile: ThresholdProfile = {
  id: 7,
  identity: 'site-v1',
  name: 'site',
  version: 1,
  weights_sha256: 'a'.repeat(64),
  model: 'site-densenet 1.0.0',
  rule: 'sensitivity ≥ 0.9',
  thresholds: { Mass: 0.3 },
  installed_at: '2026-01-02T10:00:00Z',
  installed_by: 'admin',
};
const before: DeploymentsOverview = {
  active: { id: 1, model_version: version, profile: null },
  shadow: null,
  previous: null,
  versions: [version],
  profiles: [profile],
};
const after: DeploymentsOverview = { ...before, active: { id: 2, model_version: version, profile }, previous: before.active };

describe('model versions page', () => {
  it('activates a profile only once confirmed, then names it as active and offers the rollback', async () => {
    signInForTest();
    let overview = before;
    const { requests } = mockFetch({
      'GET /api/admin/models/': () => jsonResponse(overview),
      'GET /api/admin/models/comparison/': () => jsonResponse([]),
      'GET /api/admin/models/weights/': () => jsonResponse([]),
      'POST /api/admin/models/active/profile/': () => {
        overview = after;
        return jsonResponse(after);
      },
    });
    renderWithProvider(<ModelVersions />);

    expect(await screen.findByTestId('deployment-active')).toHaveTextContent("the card's own thresholds");
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Activate site-v1' }));
    const confirmation = screen.getByRole('group', { name: 'Confirm: Activate site-v1' });
    expect(requests.filter((request) => request.method === 'POST')).toHaveLength(0);
    await user.click(within(confirmation).getByRole('button', { name: 'Confirm' }));

    expect(await screen.findByText(/with threshold profile site-v1/, { selector: '[data-testid="deployment-active"]' })).toBeInTheDocument();
    const posted = requests.find((request) => request.method === 'POST');
    expect(JSON.parse(String(posted?.body))).toEqual({ profile: 7 });
    expect(screen.getByRole('button', { name: 'Roll back' })).toBeInTheDocument();
  });

  it('shows the refusal of a profile chosen for other weights', async () => {
    signInForTest();
    mockFetch({
      'GET /api/admin/models/': () => jsonResponse(before),
      'GET /api/admin/models/comparison/': () => jsonResponse([]),
      'GET /api/admin/models/weights/': () => jsonResponse([]),
      'POST /api/admin/models/profiles/': () =>
        jsonResponse({ message: 'The threshold profile site-v2 was chosen for other weights.', extra: {} }, 400),
    });
    renderWithProvider(<ModelVersions />);

    const user = userEvent.setup();
    const file = new File(['{}'], 'site-v2.json', { type: 'application/json' });
    await user.upload(await screen.findByLabelText(/Threshold profile file/), file);
    await user.click(screen.getByRole('button', { name: 'Install profile' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('chosen for other weights');
  });

  it("installs a weights folder the server offers only once confirmed, then lists it as installed", async () => {
    signInForTest();
    const folder: ServerWeights = {
      weights_dir: '/weights/site-v2',
      name: 'site-densenet',
      version: '2.0.0',
      trained: true,
      weights_sha256: 'b'.repeat(64),
      error: '',
      installed: false,
    };
    const broken: ServerWeights = { ...folder, weights_dir: '/weights/broken', name: null, version: null, trained: null, weights_sha256: null, error: 'card.json is not JSON' };
    let offered = [folder, broken];
    const { requests } = mockFetch({
      'GET /api/admin/models/': () => jsonResponse(before),
      'GET /api/admin/models/comparison/': () => jsonResponse([]),
      'GET /api/admin/models/weights/': () => jsonResponse(offered),
      'POST /api/admin/models/weights/': () => {
        offered = [{ ...folder, installed: true }, broken];
        return jsonResponse(before);
      },
    });
    renderWithProvider(<ModelVersions />);

    const table = await screen.findByRole('table', { name: 'Weights on the server' });
    expect(within(table).getByText(/card.json is not JSON/)).toBeInTheDocument();
    expect(within(table).queryByRole('button', { name: /Install Not readable/ })).toBeNull();
    const user = userEvent.setup();
    await user.click(within(table).getByRole('button', { name: 'Install site-densenet 2.0.0' }));
    expect(requests.filter((request) => request.method === 'POST')).toHaveLength(0);
    await user.click(
      within(screen.getByRole('group', { name: 'Confirm: Install site-densenet 2.0.0' })).getByRole('button', { name: 'Confirm' }),
    );
    expect(await within(table).findByText('Installed')).toBeInTheDocument();
    const posted = requests.find((request) => request.method === 'POST');
    expect(JSON.parse(String(posted?.body))).toEqual({ weights_dir: '/weights/site-v2' });
  });
});
