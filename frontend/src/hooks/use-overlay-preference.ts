import { useState } from 'react';

const storageKey = (overlay: string) => `cxr.overlay.${overlay}`;

function storedChoice(overlay: string): boolean | null {
  const value = window.localStorage.getItem(storageKey(overlay));
  return value === 'shown' ? true : value === 'hidden' ? false : null;
}

/**
 * Whether an overlay is drawn over the radiograph (a heatmap, the anatomy outlines). Until the
 * person chooses, it follows `shownByDefault` (the web app passes whether the overlay's analyser
 * is trained: an untrained one's drawing is off until asked for). Only a person's own choice is
 * remembered across loads.
 */
export function useOverlayPreference(overlay: string, shownByDefault: boolean): [boolean, (shown: boolean) => void] {
  const [chosen, setChosen] = useState<boolean | null>(() => storedChoice(overlay));
  const choose = (shown: boolean) => {
    window.localStorage.setItem(storageKey(overlay), shown ? 'shown' : 'hidden');
    setChosen(shown);
  };
  return [chosen ?? shownByDefault, choose];
}
