import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { baseUrl, expectNoSeriousA11yViolations, launchBrowser, openPage, requiredEnv, type WatchedPage } from './support';

// A clinician of the hospital signs in with the hospital's directory (a real OpenID provider that
// with-backend.sh starts: django-oauth-toolkit), lands on the worklist, and signs out of both.
const username = requiredEnv('E2E_OIDC_USERNAME');
const password = requiredEnv('E2E_OIDC_PASSWORD');
const issuer = requiredEnv('CXR_OIDC_ISSUER');

describe('hospital sign-in', () => {
  let browser: Browser;
  let watched: WatchedPage;

  beforeAll(async () => {
    browser = await launchBrowser();
    watched = await openPage(browser);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('clicks "Sign in with your hospital", signs in at the provider and lands on the worklist', async () => {
    const { page } = watched;
    await page.goto(`${baseUrl}/`);
    const hospitalSignIn = page.getByRole('link', { name: 'Sign in with your hospital' });
    await hospitalSignIn.waitFor();
    await expectNoSeriousA11yViolations(page, 'sign-in page with hospital sign-in');

    await hospitalSignIn.click();
    await page.getByRole('heading', { name: 'Hospital directory' }).waitFor();
    expect(page.url().startsWith(new URL(issuer).origin)).toBe(true);
    await page.getByLabel('User name').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.getByRole('heading', { name: 'My studies' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/');
    await expect.poll(() => page.getByText(username).count()).toBeGreaterThan(0);
    // The service's own tokens: the API answers as for a local sign-in.
    expect(await page.evaluate(() => window.localStorage.getItem('cxr.refreshToken'))).toBeTruthy();
    expect(watched.errors()).toEqual([]);
  });

  it("signs out, which ends the provider's session too: the next hospital sign-in asks for the password again", async () => {
    const { page } = watched;
    // Through the provider's end-session endpoint and back to the sign-in page: a new document
    // (the web app's own move to its sign-in page happens without one, first).
    const providerLogout = page.waitForRequest((request) => request.url().startsWith(`${issuer}/logout/`));
    const backFromProvider = page.waitForEvent('load');
    await page.getByRole('button', { name: 'Sign out' }).click();

    await providerLogout;
    await backFromProvider;
    expect(page.url()).toBe(`${baseUrl}/sign-in`);
    expect(await page.evaluate(() => window.localStorage.getItem('cxr.refreshToken'))).toBeNull();
    await page.getByRole('link', { name: 'Sign in with your hospital' }).click();
    // With the provider's session still open, it would send the browser straight back, signed in.
    await page.getByRole('heading', { name: 'Hospital directory' }).waitFor();
    await page.getByLabel('User name').waitFor();
    expect(page.url().startsWith(new URL(issuer).origin)).toBe(true);
    expect(watched.errors()).toEqual([]);
  });
});
