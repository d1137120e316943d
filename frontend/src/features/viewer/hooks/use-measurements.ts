import { type KeyboardEvent, useState } from 'react';

import { clampToImage, type Line, manualCardiothoracicRatio, type Point } from '../utils/measurement';
import { type Orientation, screenStepToImage, type Size } from '../utils/orientation';
import type { ViewerAction } from '../utils/viewer-keys';

/** What the reader is placing: a length (two points) or the cardiothoracic ratio (heart line, then thorax line). */
export type MeasureMode = 'length' | 'ratio';
export type ManualRatio = { heart: Line; thorax: Line; ratio: number | null };

const RATIO_STEPS = [
  'heart line, its first end',
  'heart line, its second end',
  'thorax line, its first end',
  'thorax line, its second end',
] as const;

/** Arrow keys move the cross by 1/200 of the image's width (Shift: ten times as far). */
export function cursorStep(image: Size, big: boolean): number {
  return Math.max(1, Math.round(image.width / 200)) * (big ? 10 : 1);
}

const ARROWS: Record<string, Point> = {
  ArrowLeft: { x: -1, y: 0 },
  ArrowRight: { x: 1, y: 0 },
  ArrowUp: { x: 0, y: -1 },
  ArrowDown: { x: 0, y: 1 },
};

/**
 * The reader's measurements on one radiograph, in its pixels: lengths, and one manual
 * cardiothoracic ratio. Points come from a click, or from the keyboard: a cross starts at the
 * image's centre, the arrow keys move it (the way they point on screen, whatever the orientation)
 * and Enter or Space places a point.
 */
export function useMeasurements({ imageSize, orientation }: { imageSize: Size | null; orientation: Orientation }) {
  const [mode, setMode] = useState<MeasureMode | null>(null);
  const [cursor, setCursor] = useState<Point | null>(null);
  const [pending, setPending] = useState<readonly Point[]>([]);
  const [lengths, setLengths] = useState<readonly Line[]>([]);
  const [ratio, setRatio] = useState<ManualRatio | null>(null);

  const start = (next: MeasureMode) => {
    setPending([]);
    if (mode === next || !imageSize) {
      setMode(null);
      setCursor(null);
      return;
    }
    setMode(next);
    setCursor({ x: imageSize.width / 2, y: imageSize.height / 2 });
  };
  const stop = () => {
    setMode(null);
    setCursor(null);
    setPending([]);
  };
  const clear = () => {
    setLengths([]);
    setRatio(null);
    setPending([]);
  };

  const place = (point: Point) => {
    if (!mode || !imageSize) return;
    const placed = clampToImage(point, imageSize.width, imageSize.height);
    setCursor(placed);
    const points = [...pending, placed];
    if (mode === 'length' && points.length === 2) {
      setLengths((current) => [...current, [points[0]!, points[1]!]]);
      setPending([]);
    } else if (mode === 'ratio' && points.length === 4) {
      const heart: Line = [points[0]!, points[1]!];
      const thorax: Line = [points[2]!, points[3]!];
      setRatio({ heart, thorax, ratio: manualCardiothoracicRatio(heart, thorax) });
      setPending([]);
      setMode(null);
      setCursor(null);
    } else {
      setPending(points);
    }
  };

  /** Arrow keys and Enter or Space while measuring; false when the key is not the measurement's. */
  const onFrameKeyDown = (event: KeyboardEvent<HTMLElement>): boolean => {
    if (!mode || !imageSize || !cursor) return false;
    const arrow = ARROWS[event.key];
    if (arrow) {
      const step = cursorStep(imageSize, event.shiftKey);
      const moved = screenStepToImage({ x: arrow.x * step, y: arrow.y * step }, orientation);
      setCursor(clampToImage({ x: cursor.x + moved.x, y: cursor.y + moved.y }, imageSize.width, imageSize.height));
    } else if (event.key === 'Enter' || event.key === ' ') {
      place(cursor);
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  };

  /** The hotkeys that are the measurements'; false for any other action. */
  const perform = (action: ViewerAction): boolean => {
    if (action === 'lengthTool') start('length');
    else if (action === 'ratioTool') start('ratio');
    else if (action === 'clearMeasurements') clear();
    else if (action === 'cancel' && mode) stop();
    else return false;
    return true;
  };

  const instruction =
    mode === 'length'
      ? `Measuring a length: place its ${pending.length === 0 ? 'first' : 'second'} end`
      : mode === 'ratio'
        ? `Cardiothoracic ratio: place the ${RATIO_STEPS[pending.length]}`
        : null;

  return { mode, cursor, pending, lengths, ratio, instruction, start, stop, clear, place, onFrameKeyDown, perform };
}

export type Measurements = ReturnType<typeof useMeasurements>;
