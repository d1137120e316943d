import { useState } from 'react';

/** Which parts of the anatomy overlay are drawn: each structure's outline, and the two measurement lines. */
export type AnatomyLayers = {
  isStructureShown: (name: string) => boolean;
  toggleStructure: (name: string) => void;
  linesShown: boolean;
  setLinesShown: (shown: boolean) => void;
};

/**
 * Shared by the segmentation panel (the switches) and the overlay on the radiograph (the drawing).
 * It keeps the structures switched off, so every structure a segmentation brings starts shown.
 */
export function useAnatomyLayers(): AnatomyLayers {
  const [hidden, setHidden] = useState<ReadonlySet<string>>(() => new Set());
  const [linesShown, setLinesShown] = useState(true);
  return {
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
