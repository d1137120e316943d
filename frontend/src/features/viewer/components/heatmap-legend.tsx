// The colour map of the server's heatmaps (ml/src/ml/rendering.py, a Turbo-like map), as a CSS
// gradient: dark blue where the model found little evidence, dark red where it found the most.
const TURBO_STOPS = [
  [0, '#30123b'],
  [12.5, '#466be3'],
  [25, '#28aaf5'],
  [37.5, '#1ee1b4'],
  [50, '#8cfa46'],
  [62.5, '#dce137'],
  [75, '#faa02d'],
  [87.5, '#e1460f'],
  [100, '#7a0403'],
] as const;

export const HEATMAP_GRADIENT = `linear-gradient(to right, ${TURBO_STOPS.map(([at, colour]) => `${colour} ${at}%`).join(', ')})`;

export function HeatmapLegend({ findingName }: { findingName: string }) {
  return (
    <div className="heatmap-legend">
      <span className="heatmap-legend-end">Low</span>
      <span
        className="heatmap-legend-bar"
        role="img"
        aria-label={`Colour scale for the ${findingName} heatmap: dark blue is the least evidence, dark red the most`}
        style={{ backgroundImage: HEATMAP_GRADIENT }}
      />
      <span className="heatmap-legend-end">High</span>
    </div>
  );
}
