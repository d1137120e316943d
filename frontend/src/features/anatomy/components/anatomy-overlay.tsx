import type { Segmentation } from '@/types/api';

import { useSegmentationOutlines } from '../api/get-segmentation-outlines';
import type { AnatomyLayers } from '../hooks/use-anatomy-layers';
import {
  HEART_LINE_COLOUR,
  type LineEnds,
  lineEnds,
  measuredRatio,
  structureColour,
  structureLabel,
  THORAX_LINE_COLOUR,
} from '../utils/anatomy';

type MeasurementLineProps = { ends: LineEnds; label: string; colour: string; dashed?: boolean };

// Dashed or solid as well as red or blue, so the two lines differ without colour too.
function MeasurementLine({ ends, label, colour, dashed = false }: MeasurementLineProps) {
  return (
    <line
      {...ends}
      role="img"
      aria-label={label}
      stroke={colour}
      strokeWidth={3}
      strokeLinecap="round"
      strokeDasharray={dashed ? '8 5' : undefined}
      vectorEffect="non-scaling-stroke"
    />
  );
}

type AnatomyOverlayProps = {
  segmentation: Segmentation;
  /** The radiograph's size in pixels: outlines and lines come in its pixels. */
  width: number;
  height: number;
  layers: AnatomyLayers;
};

/**
 * The segmentation's outlines and the cardiothoracic measurement lines, drawn over the radiograph.
 * The SVG fills the radiograph's box with a viewBox in radiograph pixels and "meet" scaling, which
 * letterboxes exactly as the image's object-fit: contain does; strokes keep their width at any zoom.
 */
export function AnatomyOverlay({ segmentation, width, height, layers }: AnatomyOverlayProps) {
  // The outlines are traced on request: not fetched while the overlay is off.
  const outlines = useSegmentationOutlines(layers.overlayShown ? segmentation.outlines : null);
  const ratio = measuredRatio(segmentation);
  const structures = (outlines.data?.structures ?? []).filter((structure) => layers.isStructureShown(structure.name));
  const heart = ratio && layers.linesShown ? lineEnds(ratio.heart_line) : null;
  const thorax = ratio && layers.linesShown ? lineEnds(ratio.thorax_line) : null;
  if (!layers.overlayShown || (structures.length === 0 && !heart && !thorax)) return null;

  return (
    <svg
      className="anatomy-overlay"
      viewBox={`0 0 ${outlines.data?.width ?? width} ${outlines.data?.height ?? height}`}
      preserveAspectRatio="xMidYMid meet"
      role="group"
      aria-label="Anatomy overlay"
    >
      {structures.map((structure) => (
        <g
          key={structure.name}
          role="img"
          aria-label={`${structureLabel(structure.name)} outline`}
          stroke={structureColour(segmentation.structures, structure.name)}
          strokeWidth={2}
          fill="none"
        >
          {structure.outlines.map((polygon, index) => (
            <polygon key={index} points={polygon.map((point) => point.join(',')).join(' ')} vectorEffect="non-scaling-stroke" />
          ))}
        </g>
      ))}
      {heart && <MeasurementLine ends={heart} label="Heart line: the heart's widest extent" colour={HEART_LINE_COLOUR} />}
      {thorax && (
        <MeasurementLine ends={thorax} label="Thorax line: the thorax's widest inner extent" colour={THORAX_LINE_COLOUR} dashed />
      )}
    </svg>
  );
}
