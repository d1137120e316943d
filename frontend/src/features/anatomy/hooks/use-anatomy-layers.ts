import { useState } from 'react';

import { useOverlayPreference } from '@/hooks/use-overlay-preference';

/** Which parts of the anatomy overlay are drawn: the overlay at all, each structure's outline, and the two measurement lines. */
export type AnatomyLayers = {
  /** The overlay's one switch, beside the image: off, nothing of the segmentation is drawn. */
  overlayShown: boolean;
  setOverlayShown: (shown: boolean) => void;
  isStructureShown: (name: string) => boolean;
  toggleStructure: (name: string) => void;
  linesShown: boolean;
  setLinesShown: (shown: boolean) => void;
};

/**
 * Shared by the segmentation panel (the switches) and the overlay on the radiograph (the drawing).
 * The overlay starts shown only for a trained segmentation (an untrained one's outlines are not
 * anatomy), unless the person chose otherwise before; within it, every structure starts shown.
 */
export function useAnatomyLayers(trained: boolean): AnatomyLayers {
  const [overlayShown, setOverlayShown] = useOverlayPreference('anatomy-outlines', trained);
  const [hidden, setHidden] = useState<ReadonlySet<string>>(() => new Set());
  const [linesShown, setLinesShown] = useState(true);
  return {
    overlayShown,
    setOverlayShown,
    isStructureShown: (name) => !hidden.has(name),
    toggleStructure: (name) =>
      setHidden((current) => {
        const next = new Set(current);
        if (!next.delete(name)) next.add(name);
        return next;
      }),
    linesShown,
    setLinesShown,
  };
}
