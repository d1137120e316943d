import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { baseUrl, launchBrowser, openPage, requiredEnv, signIn } from './support';

// Staff of the hospital sign in on the ordinary form with their directory's user name and password
// (a real LDAP directory that with-backend.sh starts: Debian's slapd); the role is their group's.
const username = requiredEnv('E2E_LDAP_USERNAME');
const noRoleUsername = requiredEnv('E2E_LDAP_NO_ROLE_USERNAME');
const password = requiredEnv('E2E_LDAP_PASSWORD');

describe('directory sign-in', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it("signs a clinician in with the directory's password on the ordinary form and lands on the worklist", async () => {
    const watched = await openPage(browser);
    const { page } = watched;

    await signIn(page, username, password);

    await page.getByRole('heading', { name: 'My studies' }).waitFor();
    await expect.poll(() => page.getByText(username).count()).toBeGreaterThan(0);
    expect(watched.errors()).toEqual([]);
    await watched.context.close();
  });

  it('tells a directory user in no group of the service why they cannot sign in', async () => {
    const watched = await openPage(browser);
    const { page } = watched;
    await page.goto(`${baseUrl}/`);
    await page.getByLabel('Username').fill(noRoleUsername);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();

    await page.getByText('none of the groups that give a role in this service').waitFor();
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    expect(await page.evaluate(() => window.localStorage.getItem('cxr.refreshToken'))).toBeNull();
    await watched.context.close();
  });
});
