import type { MouseEvent } from 'react';

import type { Measurements } from '../hooks/use-measurements';
import { formatLength, type Line, lineLength, type Point } from '../utils/measurement';
import type { Size } from '../utils/orientation';

export const LENGTH_COLOUR = '#ffd400';
export const MANUAL_HEART_COLOUR = '#ff5a5a';
export const MANUAL_THORAX_COLOUR = '#5ab4ff';

function MeasuredLine({ line, label, colour, dashed = false }: { line: Line; label: string; colour: string; dashed?: boolean }) {
  const [start, end] = line;
  return (
    <line
      x1={start.x}
      y1={start.y}
      x2={end.x}
      y2={end.y}
      role="img"
      aria-label={label}
      stroke={colour}
      strokeWidth={2}
      strokeDasharray={dashed ? '8 5' : undefined}
      strokeLinecap="round"
      vectorEffect="non-scaling-stroke"
    />
  );
}

function Cross({ at, size }: { at: Point; size: number }) {
  return (
    <g role="img" aria-label={`Measuring cross at ${Math.round(at.x)}, ${Math.round(at.y)}`} stroke={LENGTH_COLOUR} strokeWidth={1.5}>
      <line x1={at.x - size} y1={at.y} x2={at.x + size} y2={at.y} vectorEffect="non-scaling-stroke" />
      <line x1={at.x} y1={at.y - size} x2={at.x} y2={at.y + size} vectorEffect="non-scaling-stroke" />
    </g>
  );
}

type MeasurementLayerProps = {
  measurements: Measurements;
  imageSize: Size;
  pixelSpacingMm: readonly number[] | null | undefined;
};

/**
 * The reader's measurements over the radiograph, in its pixels: a viewBox with "meet" scaling
 * letterboxes as the image's object-fit: contain does, and the layer turns with the stage. While
 * measuring it takes the clicks; the screen-to-image mapping is the SVG's own (its screen CTM
 * includes the stage's zoom, pan, rotation and mirroring).
 */
export function MeasurementLayer({ measurements, imageSize, pixelSpacingMm }: MeasurementLayerProps) {
  const { mode, cursor, pending, lengths, ratio } = measurements;
  const onClick = (event: MouseEvent<SVGSVGElement>) => {
    const matrix = event.currentTarget.getScreenCTM();
    if (!mode || !matrix) return;
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
    measurements.place({ x: point.x, y: point.y });
  };
  const pendingLine = pending.length === 1 && cursor ? ([pending[0]!, cursor] as const) : null;
  const heartPlaced = mode === 'ratio' && pending.length >= 2 ? ([pending[0]!, pending[1]!] as const) : null;
  const thoraxPending = mode === 'ratio' && pending.length === 3 && cursor ? ([pending[2]!, cursor] as const) : null;

  return (
    <svg
      className={`measurement-layer${mode ? ' is-measuring' : ''}`}
      viewBox={`0 0 ${imageSize.width} ${imageSize.height}`}
      preserveAspectRatio="xMidYMid meet"
      role="group"
      aria-label="Measurements on the radiograph"
      onClick={onClick}
    >
      {lengths.map((line, index) => (
        <MeasuredLine
          key={index}
          line={line}
          label={`Length ${index + 1}: ${formatLength(lineLength(line, pixelSpacingMm))}`}
          colour={LENGTH_COLOUR}
        />
      ))}
      {ratio && (
        <>
          <MeasuredLine line={ratio.heart} label="Manual heart line" colour={MANUAL_HEART_COLOUR} />
          <MeasuredLine line={ratio.thorax} label="Manual thorax line" colour={MANUAL_THORAX_COLOUR} dashed />
        </>
      )}
      {pendingLine && <MeasuredLine line={pendingLine} label="Line being measured" colour={LENGTH_COLOUR} dashed />}
      {heartPlaced && <MeasuredLine line={heartPlaced} label="Manual heart line" colour={MANUAL_HEART_COLOUR} />}
      {thoraxPending && <MeasuredLine line={thoraxPending} label="Line being measured" colour={MANUAL_THORAX_COLOUR} dashed />}
      {mode && cursor && <Cross at={cursor} size={Math.max(imageSize.width, imageSize.height) / 40} />}
    </svg>
  );
}
