import { screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { studyFixture } from '@/testing/fixtures';
import { mockFetch } from '@/testing/mock-fetch';
import { renderApp, signInForTest } from '@/testing/render-app';
import { mockStudyServer } from '@/testing/study-server';

describe('the browser tab', () => {
  it('names the study page after its file', async () => {
    signInForTest();
    mockStudyServer(studyFixture());
    renderApp('/studies/7');
    await waitFor(() => expect(document.title).toBe('Study chest.png · CXR Decision Support'));
  });

  it('names the sign-in page after itself', async () => {
    mockFetch({});
    renderApp('/sign-in');
    await screen.findByRole('heading', { level: 1 });
    expect(document.title).toBe('Sign in · CXR Decision Support');
  });
});
