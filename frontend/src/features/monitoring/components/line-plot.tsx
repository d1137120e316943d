/**
 * A small SVG line plot: the ROC and calibration curves of an acceptance run and the monitoring
 * figures over time. No chart library: a few lines, axes from 0 to 1 (or the x values given), and
 * an optional diagonal or horizontal reference.
 */
export type Series = { name: string; points: [number, number][]; dashed?: boolean };

type LinePlotProps = {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** The y = x line (a chance ROC, a perfect calibration). */
  diagonal?: boolean;
  /** A horizontal line at this y (a drift threshold). */
  reference?: { y: number; label: string };
  /** Tick labels of the x axis (days); the x values are then their indices. */
  xTicks?: string[];
  yMax?: number;
};

const WIDTH = 320;
const HEIGHT = 240;
const PAD = { left: 44, right: 12, top: 12, bottom: 36 };
const COLOURS = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#0a7f8f'];

export function LinePlot({ title, xLabel, yLabel, series, diagonal, reference, xTicks, yMax = 1 }: LinePlotProps) {
  const xMax = xTicks ? Math.max(1, xTicks.length - 1) : 1;
  const x = (value: number) => PAD.left + (value / xMax) * (WIDTH - PAD.left - PAD.right);
  const y = (value: number) => HEIGHT - PAD.bottom - (Math.min(value, yMax) / yMax) * (HEIGHT - PAD.top - PAD.bottom);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((fraction) => fraction * yMax);
  return (
    <figure className="line-plot">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={title} width={WIDTH} height={HEIGHT}>
        <rect x={PAD.left} y={PAD.top} width={WIDTH - PAD.left - PAD.right} height={HEIGHT - PAD.top - PAD.bottom} fill="none" stroke="#8c959f" />
        {ticks.map((tick) => (
          <text key={tick} x={PAD.left - 4} y={y(tick) + 4} fontSize="10" textAnchor="end">
            {Number(tick.toFixed(2))}
          </text>
        ))}
        {(xTicks ?? ['0', '1']).map((tick, index, all) =>
          index === 0 || index === all.length - 1 || all.length <= 8 ? (
            <text key={`${tick}-${index}`} x={x(xTicks ? index : index)} y={HEIGHT - PAD.bottom + 14} fontSize="10" textAnchor="middle">
              {tick}
            </text>
          ) : null,
        )}
        <text x={(WIDTH + PAD.left) / 2} y={HEIGHT - 4} fontSize="11" textAnchor="middle">
          {xLabel}
        </text>
        <text x={12} y={(HEIGHT - PAD.bottom) / 2} fontSize="11" textAnchor="middle" transform={`rotate(-90 12 ${(HEIGHT - PAD.bottom) / 2})`}>
          {yLabel}
        </text>
        {diagonal && <line x1={x(0)} y1={y(0)} x2={x(xMax)} y2={y(yMax)} stroke="#8c959f" strokeDasharray="4 3" />}
        {reference && (
          <g>
            <line x1={x(0)} y1={y(reference.y)} x2={x(xMax)} y2={y(reference.y)} stroke="#d1242f" strokeDasharray="4 3" />
            <text x={x(xMax) - 2} y={y(reference.y) - 3} fontSize="10" textAnchor="end" fill="#d1242f">
              {reference.label}
            </text>
          </g>
        )}
        {series.map((line, index) => (
          <g key={line.name} stroke={COLOURS[index % COLOURS.length]} fill={COLOURS[index % COLOURS.length]}>
            <polyline
              fill="none"
              strokeWidth="2"
              strokeDasharray={line.dashed ? '5 3' : undefined}
              points={line.points.map(([px, py]) => `${x(px)},${y(py)}`).join(' ')}
            />
            {line.points.length <= 40 && line.points.map(([px, py], point) => <circle key={point} cx={x(px)} cy={y(py)} r="2.5" />)}
          </g>
        ))}
      </svg>
      {series.length > 1 && (
        <figcaption className="plot-legend">
          {series.map((line, index) => (
            <span key={line.name}>
              <span aria-hidden="true" style={{ color: COLOURS[index % COLOURS.length] }}>
                ■
              </span>{' '}
              {line.name}{' '}
            </span>
          ))}
        </figcaption>
      )}
    </figure>
  );
}
