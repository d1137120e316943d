/**
 * Measurements a reader makes on the radiograph, in the image's own pixels. A length is given in
 * millimetres when the DICOM file said its pixel spacing (the API's `metadata.pixel_spacing_mm`:
 * DICOM's order, the spacing between rows, then between columns), and in pixels otherwise.
 */
export type Point = { x: number; y: number };
export type Line = readonly [Point, Point];
export type Length = { value: number; unit: 'mm' | 'px' };

export function lineLength([start, end]: Line, pixelSpacingMm: readonly number[] | null | undefined): Length {
  const dx = end.x - start.x;
  const dy = end.y - start.y;
  if (pixelSpacingMm && pixelSpacingMm.length === 2 && pixelSpacingMm.every((spacing) => spacing > 0)) {
    const [rowSpacing, columnSpacing] = pixelSpacingMm as [number, number];
    return { value: Math.hypot(dx * columnSpacing, dy * rowSpacing), unit: 'mm' };
  }
  return { value: Math.hypot(dx, dy), unit: 'px' };
}

/** A line's extent along the image's rows: the transverse width the cardiothoracic ratio compares. */
export function horizontalWidth([start, end]: Line, pixelSpacingMm: readonly number[] | null | undefined): Length {
  return lineLength([start, { x: end.x, y: start.y }], pixelSpacingMm);
}

export function formatLength({ value, unit }: Length): string {
  return unit === 'mm' ? `${value.toFixed(1)} mm` : `${Math.round(value)} px`;
}

/**
 * The cardiothoracic ratio from two lines the reader drew: the heart's widest transverse extent
 * over the thorax's widest inner transverse extent. Both are horizontal widths (the lines' extents
 * along the image's rows), as the ratio is defined, so a line drawn slightly askew still measures
 * a width; the pixel spacing cancels out. Null when the thorax line has no width.
 */
export function manualCardiothoracicRatio(heart: Line, thorax: Line): number | null {
  const thoraxWidth = Math.abs(thorax[1].x - thorax[0].x);
  if (thoraxWidth === 0) return null;
  return Math.abs(heart[1].x - heart[0].x) / thoraxWidth;
}

export function clampToImage(point: Point, width: number, height: number): Point {
  return { x: Math.min(width, Math.max(0, point.x)), y: Math.min(height, Math.max(0, point.y)) };
}
