import { type RefObject, useEffect, useState } from 'react';

/**
 * The viewer's full-screen mode: the viewer fills the browser window (a CSS class, which works on
 * every tablet), and the screen too where the browser grants the Fullscreen API. Leaving the
 * browser's full screen (Esc) leaves the mode.
 */
export function useFullScreen(element: RefObject<HTMLElement | null>) {
  const [fullScreen, setFullScreen] = useState(false);

  useEffect(() => {
    const onChange = () => {
      if (!document.fullscreenElement) setFullScreen(false);
    };
    document.addEventListener('fullscreenchange', onChange);
    return () => document.removeEventListener('fullscreenchange', onChange);
  }, []);

  const enter = () => {
    setFullScreen(true);
    // Refused without a user gesture or by policy: the window-filling mode stays.
    element.current?.requestFullscreen?.().catch(() => undefined);
  };
  const exit = () => {
    setFullScreen(false);
    if (document.fullscreenElement) void document.exitFullscreen();
  };

  return { fullScreen, toggle: () => (fullScreen ? exit() : enter()), exit };
}
