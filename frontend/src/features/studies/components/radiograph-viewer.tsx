import { useState } from 'react';

import { useObjectUrl } from '@/hooks/use-object-url';
import { errorMessage } from '@/lib/api-error';

import { useStudyFile } from '../api/get-study-file';

type RadiographViewerProps = {
  imagePath: string;
  fileName: string;
  heatmap: { path: string; name: string } | null;
};

export function RadiographViewer({ imagePath, fileName, heatmap }: RadiographViewerProps) {
  const [opacity, setOpacity] = useState(0.6);
  const image = useStudyFile(imagePath);
  const heatmapFile = useStudyFile(heatmap?.path);
  const imageUrl = useObjectUrl(image.data);
  const heatmapUrl = useObjectUrl(heatmap ? heatmapFile.data : undefined);

  return (
    <figure className="radiograph-viewer">
      <div className="radiograph-frame">
        {imageUrl ? (
          <img className="radiograph" src={imageUrl} alt={`Radiograph ${fileName}`} />
        ) : (
          <div className="radiograph-placeholder">
            {image.isError ? `Radiograph unavailable: ${errorMessage(image.error)}` : 'Loading radiograph…'}
          </div>
        )}
        {imageUrl && heatmap && heatmapUrl && (
          <img
            className="heatmap-overlay"
            src={heatmapUrl}
            alt={`Grad-CAM heatmap for ${heatmap.name}`}
            style={{ opacity }}
          />
        )}
      </div>
      <figcaption>
        {heatmap ? (
          <>
            {heatmapFile.isPending && <span className="muted">Loading heatmap for {heatmap.name}…</span>}
            {heatmapFile.isError && <span className="error-text">{errorMessage(heatmapFile.error)}</span>}
            {heatmapFile.isSuccess && <span>Grad-CAM: where the model looked for {heatmap.name}.</span>}
            <label className="inline-field">
              Heatmap opacity
              <input
                type="range"
                min={0.1}
                max={1}
                step={0.1}
                value={opacity}
                onChange={(event) => setOpacity(Number(event.target.value))}
              />
            </label>
          </>
        ) : (
          <span className="muted">{fileName}</span>
        )}
      </figcaption>
    </figure>
  );
}
