type OverlaySwitch = { shown: boolean; onChange: (shown: boolean) => void; untrained: boolean };

function OverlayCheckbox({ label, overlay }: { label: string; overlay: OverlaySwitch }) {
  return (
    <label className="checkbox-field">
      <input type="checkbox" checked={overlay.shown} onChange={(event) => overlay.onChange(event.target.checked)} />
      {label}
      {overlay.untrained && <span className="tag tag-untrained">untrained</span>}
    </label>
  );
}

/**
 * What is drawn over the radiograph, switched beside it: the selected finding's heatmap (the
 * classifier's) and the anatomy outlines (the segmentation's), each marked when its analyser is untrained.
 */
export function OverlaySwitches({ heatmap, outlines }: { heatmap: OverlaySwitch; outlines: OverlaySwitch | null }) {
  return (
    <>
      <OverlayCheckbox label="Heatmap" overlay={heatmap} />
      {outlines && <OverlayCheckbox label="Anatomy outlines" overlay={outlines} />}
    </>
  );
}
