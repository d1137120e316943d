import type { CardiothoracicRatio, Segmentation } from '@/types/api';

// Names and colours of the structures a segmentation outlines (ml.segmentation.structures).
// Names are snake_case, and the imported PSPNet keeps ChestX-Det's Latin ones; people read plain words.

const PLAIN_NAMES: Record<string, string> = {
  hilus_pulmonis: 'hilum',
  facies_diaphragmatica: 'diaphragm',
  weasand: 'weasand (windpipe)',
};

/** "left_lung" → "Left lung", "left_hilus_pulmonis" → "Left hilum". */
export function structureLabel(name: string): string {
  const plain = Object.entries(PLAIN_NAMES).reduce((text, [latin, words]) => text.replace(latin, words), name);
  const words = plain.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// Bright on a grey radiograph, and none of them the measurement lines' red or blue.
const OUTLINE_COLOURS = [
  '#ffd60a',
  '#30d158',
  '#ff9f0a',
  '#64d2ff',
  '#bf5af2',
  '#ff6ac1',
  '#d4fc79',
  '#ffffff',
  '#ac8e68',
  '#00c7be',
  '#ffb3a7',
  '#c7c7ff',
  '#9be15d',
  '#f5c26b',
] as const;

/** The colour of a structure's outline: by its place in the segmentation's list, so panel and overlay agree. */
export function structureColour(structures: readonly string[], name: string): string {
  const index = Math.max(0, structures.indexOf(name));
  return OUTLINE_COLOURS[index % OUTLINE_COLOURS.length]!;
}

// As the PDF report draws them (backend/reports/services.py): red for the heart, blue for the thorax.
export const HEART_LINE_COLOUR = '#ff3b30';
export const THORAX_LINE_COLOUR = '#2f80ff';

type MeasuredSegmentation = Pick<Segmentation, 'analyser' | 'cardiothoracic_ratio'>;

/** The ratio to show as a measurement: never one from an untrained segmentation, whatever it sent. */
export function measuredRatio(segmentation: MeasuredSegmentation): CardiothoracicRatio | null {
  return segmentation.analyser?.trained === false ? null : segmentation.cardiothoracic_ratio;
}

export type LineEnds = { x1: number; y1: number; x2: number; y2: number };

/** A measurement line's two [x, y] points as SVG line ends; null for anything else. */
export function lineEnds(line: readonly (readonly number[])[]): LineEnds | null {
  const [start, end] = line;
  if (line.length !== 2 || start?.length !== 2 || end?.length !== 2) return null;
  return { x1: start[0]!, y1: start[1]!, x2: end[0]!, y2: end[1]! };
}
