import { useEffect, useRef } from 'react';

import { isTextEntry, type ViewerAction, viewerActionFor } from '../utils/viewer-keys';

/**
 * The viewer's hotkeys anywhere on the page, as in a PACS (a reader who has just pressed a finding
 * presses `i` without going back to the image), except in a text field. `onAction` answers whether
 * it did something with the action; only then is the key kept from the browser.
 */
export function useViewerHotkeys(onAction: (action: ViewerAction) => boolean) {
  const latest = useRef(onAction);
  useEffect(() => {
    latest.current = onAction;
  });
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.defaultPrevented || isTextEntry(event.target)) return;
      const action = viewerActionFor(event);
      if (action && latest.current(action)) event.preventDefault();
    };
    document.addEventListener('keydown', onKeyDown);
    return () => document.removeEventListener('keydown', onKeyDown);
  }, []);
}
