// Where to end the session at the hospital's provider after signing out (RP-initiated logout):
// kept beside the refresh token, and only while a hospital sign-in's session lasts.
const END_SESSION_URL_KEY = 'cxr.endSessionUrl';

export function rememberEndSessionUrl(url: string | null): void {
  try {
    if (url === null) window.localStorage.removeItem(END_SESSION_URL_KEY);
    else window.localStorage.setItem(END_SESSION_URL_KEY, url);
  } catch {
    // Without storage, signing out ends this service's session only.
  }
}

/** The stored address, forgotten as it is read: a session ends at the provider once. */
export function takeEndSessionUrl(): string | null {
  try {
    const url = window.localStorage.getItem(END_SESSION_URL_KEY);
    window.localStorage.removeItem(END_SESSION_URL_KEY);
    return url;
  } catch {
    return null;
  }
}
