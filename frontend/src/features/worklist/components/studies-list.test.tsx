import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

import { admin, clinician, healthFixture, modelCardFixture, screenerFixture, summaryFixture } from '@/testing/fixtures';
import { jsonResponse, type MockRequest, mockFetch } from '@/testing/mock-fetch';
import { renderApp, signInForTest } from '@/testing/render-app';
import type { StudySummary } from '@/types/api';

const study = (id: number, overrides: Partial<StudySummary> = {}): StudySummary =>
  summaryFixture({ id: String(id), original_filename: `study-${id}.png`, ...overrides });

function mockWorklist(studies: (request: MockRequest) => Response, me = clinician) {
  return mockFetch({
    'GET /api/health/': () => jsonResponse(healthFixture({ trained: true })),
    'GET /api/auth/me/': () => jsonResponse(me),
    'GET /api/model/': () => jsonResponse(modelCardFixture()),
    'GET /api/studies/': studies,
  });
}

const lastStudiesQuery = (requests: MockRequest[]) =>
  requests.filter((request) => request.url.pathname === '/api/studies/').at(-1)?.url.searchParams;

describe('worklist', () => {
  it('links each study by its file name, shows failures, and pages with Previous/Next', async () => {
    signInForTest();
    const { requests } = mockWorklist((request) =>
      request.url.searchParams.get('page') === '2'
        ? jsonResponse({ count: 21, next: null, previous: '/api/studies/?page=1', results: [study(1)] })
        : jsonResponse({
            count: 21,
            next: '/api/studies/?page=2',
            previous: null,
            results: [
              study(3, { image_count: 2 }),
              study(2, { status: 'failed', message: 'Not a chest radiograph.', top_finding: null }),
            ],
          }),
    );
    const { router } = renderApp('/');

    expect(await screen.findByRole('link', { name: 'study-3.png' })).toHaveAttribute('href', '/studies/3');
    // A study of several images says how many; one of one image says nothing more.
    expect(screen.getAllByText(/· \d+ images/).map((element) => element.textContent)).toEqual([' · 2 images']);
    expect(screen.getByText('Not a chest radiograph.')).toBeInTheDocument();
    expect(screen.getByText('Page 1 of 2')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Previous' })).toBeDisabled();

    await userEvent.click(screen.getByRole('button', { name: 'Next' }));

    expect(await screen.findByRole('link', { name: 'study-1.png' })).toBeInTheDocument();
    expect(router.state.location.search).toBe('?page=2');
    expect(lastStudiesQuery(requests)?.get('page')).toBe('2');
    expect(screen.getByRole('button', { name: 'Next' })).toBeDisabled();
  });

  it('shows the patient\'s age and sex and the view from DICOM, "Not recorded" for a film, and the uploader to an admin only', async () => {
    const rows = [
      study(5, { patient_age_years: 62, patient_sex: 'M', view_position: 'PA', uploaded_by: 'dr.wilson' }),
      study(6, { uploaded_by: 'dr.house' }),
    ];
    const cellsOf = (name: string) =>
      within(screen.getByRole('link', { name }).closest('tr')!)
        .getAllByRole('cell')
        .map((cell) => cell.textContent);
    signInForTest();
    mockWorklist(() => jsonResponse({ count: 2, next: null, previous: null, results: rows }), admin);
    const { unmount } = renderApp('/');

    await screen.findByRole('link', { name: 'study-5.png' });
    expect(screen.getByRole('columnheader', { name: 'Uploaded by' })).toBeInTheDocument();
    expect(cellsOf('study-5.png').slice(1, 3)).toEqual(['62 y, Male', 'PA']);
    expect(cellsOf('study-5.png')).toContain('dr.wilson');
    expect(cellsOf('study-6.png').slice(1, 3)).toEqual(['Not recorded', '—']);
    unmount();

    signInForTest();
    mockWorklist(() => jsonResponse({ count: 2, next: null, previous: null, results: rows }));
    renderApp('/');
    await screen.findByRole('link', { name: 'study-5.png' });
    expect(screen.queryByRole('columnheader', { name: 'Uploaded by' })).not.toBeInTheDocument();
  });

  it('shows each study\'s most suspicious finding with its probability and score, and the findings above threshold', async () => {
    signInForTest();
    mockWorklist(() => jsonResponse({ count: 1, next: null, previous: null, results: [study(4)] }));
    renderApp('/');

    const row = (await screen.findByRole('link', { name: 'study-4.png' })).closest('tr')!;
    expect(row).toHaveTextContent('Cardiomegaly 63.2%, score 63.2%');
    expect(screen.getByText(/50% means at its threshold/)).toBeInTheDocument();
    expect(within(row).getByText('Pleural Thickening')).toBeInTheDocument();
  });

  it("shows a CT study's patient-level result where a radiograph's findings go, never a row of dashes", async () => {
    signInForTest();
    const ctStudy = (id: number, name: string, probability: number, trained: boolean) =>
      study(id, {
        kind: 'ct',
        original_filename: name,
        top_finding: null,
        positive_labels: [],
        ct_result: { status: 'done', patient_probability: probability, threshold: 0.5, positive: probability >= 0.5, trained },
      });
    const ct = ctStudy(5, 'series.zip', 0.4996, false);
    const severe = ctStudy(6, 'severe.zip', 0.8, true);
    mockWorklist(() => jsonResponse({ count: 2, next: null, previous: null, results: [ct, severe] }));
    renderApp('/');

    const row = (await screen.findByRole('link', { name: 'series.zip' })).closest('tr')!;
    expect(row).toHaveTextContent('Severe involvement 49.96% (threshold 50.00%) · untrained CT model');
    expect(within(row).getByText('None')).toBeInTheDocument();
    const severeRow = screen.getByRole('link', { name: 'severe.zip' }).closest('tr')!;
    expect(within(severeRow).getByText('Severe involvement', { selector: '.tag' })).toBeInTheDocument();
  });

  it('asks the API for triage order, a positive finding, a status and a date range, and keeps them in the address', async () => {
    signInForTest();
    const { requests } = mockWorklist(() => jsonResponse({ count: 0, next: null, previous: null, results: [] }));
    const { router } = renderApp('/?page=3');
    await screen.findByText('No studies yet. Upload a radiograph to start.');

    await userEvent.selectOptions(screen.getByLabelText('Sort by'), 'Most suspicious first (triage)');
    await userEvent.selectOptions(screen.getByLabelText('Status'), 'Done');
    // The finding options come from the active model's card.
    await screen.findByRole('option', { name: 'Pleural Thickening' });
    await userEvent.selectOptions(screen.getByLabelText('Positive finding'), 'Pleural_Thickening');
    await userEvent.type(screen.getByLabelText('Uploaded from'), '2025-01-01');
    await userEvent.type(screen.getByLabelText('Uploaded to'), '2025-01-31');

    await screen.findByText('No studies match these filters.');
    const query = lastStudiesQuery(requests)!;
    expect(Object.fromEntries(query)).toEqual({
      page: '1',
      ordering: '-top_score',
      status: 'done',
      positive: 'Pleural_Thickening',
      created_after: '2025-01-01',
      created_before: '2025-01-31',
    });
    expect(new URLSearchParams(router.state.location.search).get('sort')).toBe('-top_score');
    expect(screen.getByLabelText('Positive finding')).toHaveValue('Pleural_Thickening');
  });

  it('shows the screener column: a "Likely abnormal" flag with the probability, an untrained marker, pending and failed states', async () => {
    signInForTest();
    const summary = (overrides: Parameters<typeof screenerFixture>[0]) => {
      const { status, probability, threshold, likely_abnormal, trained } = screenerFixture(overrides);
      return { status, probability, threshold, likely_abnormal, trained };
    };
    mockWorklist(() =>
      jsonResponse({
        count: 6,
        next: null,
        previous: null,
        results: [
          study(1, { screener: summary({}) }),
          study(2, { screener: summary({ probability: 0.12, likely_abnormal: false }) }),
          study(3, { screener: summary({ trained: false, probability: 0.51 }) }),
          study(4, { screener: summary({ status: 'running', probability: null, threshold: null, likely_abnormal: null }) }),
          study(5, { screener: summary({ status: 'failed', probability: null, threshold: null, likely_abnormal: null }) }),
          study(6, { screener: null }),
        ],
      }),
    );
    renderApp('/');

    const table = await screen.findByRole('table', { name: 'My studies' });
    const headers = within(table).getAllByRole('columnheader').map((header) => header.textContent);
    const screenerCell = (id: number) => {
      const row = screen.getByRole('link', { name: `study-${id}.png` }).closest('tr')!;
      return within(row).getAllByRole('cell')[headers.indexOf('Screener')]!;
    };
    await screen.findByRole('link', { name: 'study-1.png' });
    expect(screenerCell(1)).toHaveTextContent('Likely abnormal 83.0%');
    expect(within(screenerCell(1)).getByText('Likely abnormal')).toHaveClass('tag-positive');
    expect(screenerCell(2)).toHaveTextContent('Below threshold 12.0%');
    expect(screenerCell(3)).toHaveTextContent('Likely abnormal 51.0%untrained');
    expect(within(screenerCell(1)).queryByText('untrained')).not.toBeInTheDocument();
    expect(screenerCell(4)).toHaveTextContent('Pending');
    expect(screenerCell(5)).toHaveTextContent('Failed');
    expect(screenerCell(6)).toHaveTextContent('—');
    // The screener never clears a study: no cell says "normal", and the legend says so.
    for (const id of [1, 2, 3, 4, 5, 6]) expect(screenerCell(id).textContent).not.toMatch(/\bnormal\b/i);
    expect(screen.getByText(/"Below threshold" does not mean normal/)).toBeInTheDocument();
  });

  it('sorts by the screener\'s probability, most likely abnormal first, and keeps the order in the address', async () => {
    signInForTest();
    const { requests } = mockWorklist(() => jsonResponse({ count: 0, next: null, previous: null, results: [] }));
    const { router } = renderApp('/');
    await screen.findByText('No studies yet. Upload a radiograph to start.');

    await userEvent.selectOptions(screen.getByLabelText('Sort by'), 'Most likely abnormal first (screener)');

    await vi.waitFor(() => expect(lastStudiesQuery(requests)?.get('ordering')).toBe('-screener_probability'));
    expect(new URLSearchParams(router.state.location.search).get('sort')).toBe('-screener_probability');
  });

  it('reads the screener order back from the address', async () => {
    signInForTest();
    const { requests } = mockWorklist(() => jsonResponse({ count: 0, next: null, previous: null, results: [] }));
    renderApp('/?sort=-screener_probability');
    await screen.findByText('No studies yet. Upload a radiograph to start.');

    expect(screen.getByLabelText('Sort by')).toHaveValue('-screener_probability');
    expect(lastStudiesQuery(requests)?.get('ordering')).toBe('-screener_probability');
  });

  it('says why each study is where it is: lifted for its wait (since when), by its score, or not scored yet', async () => {
    signInForTest();
    mockWorklist(() =>
      jsonResponse({
        count: 3,
        next: null,
        previous: null,
        results: [
          study(5, { triage_reason: 'waited_past_limit', triage_lifted_since: '2025-01-02T11:00:00Z' }),
          study(6, { triage_reason: 'score' }),
          study(7, { triage_reason: 'not_scored', status: 'queued', top_finding: null }),
        ],
      }),
    );
    renderApp('/?sort=-top_score');

    const row = async (name: string) => (await screen.findByRole('link', { name })).closest('tr')!;
    const lifted = await row('study-5.png');
    expect(within(lifted).getByText('Waited past the limit')).toBeInTheDocument();
    expect(lifted).toHaveTextContent(/since \S/);
    expect(within(await row('study-6.png')).getByText('By its score')).toBeInTheDocument();
    expect(within(await row('study-7.png')).getByText('Not scored yet')).toBeInTheDocument();
    expect(screen.getByText(/left unread past the wait limit comes first/)).toBeInTheDocument();
  });

  it('calls the list "All studies" for an admin and shows the admin pages in the navigation', async () => {
    signInForTest();
    mockWorklist(() => jsonResponse({ count: 0, next: null, previous: null, results: [] }), admin);
    renderApp('/');

    expect(await screen.findByRole('heading', { name: 'All studies' })).toBeInTheDocument();
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect(within(nav).getByRole('link', { name: 'Users' })).toHaveAttribute('href', '/users');
    expect(within(nav).getByRole('link', { name: 'Audit log' })).toHaveAttribute('href', '/audit');
    expect(within(nav).getByRole('link', { name: 'Model' })).toHaveAttribute('href', '/model');
  });

  it('shows clinicians no admin pages', async () => {
    signInForTest();
    mockWorklist(() => jsonResponse({ count: 0, next: null, previous: null, results: [] }));
    renderApp('/');

    expect(await screen.findByRole('heading', { name: 'My studies' })).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'Users' })).not.toBeInTheDocument();
  });
});
