import { useEffect } from 'react';

export const APP_TITLE = 'CXR Decision Support';

/** Name the browser tab after the page ("Users · CXR Decision Support"), so that tabs tell apart. */
export function useDocumentTitle(page: string | null) {
  useEffect(() => {
    document.title = page ? `${page} · ${APP_TITLE}` : APP_TITLE;
  }, [page]);
}
