import { useObjectUrl } from '@/hooks/use-object-url';
import { useStudyFile } from '@/hooks/use-study-file';
import { errorMessage } from '@/lib/api-error';

import type { useViewerState } from '../hooks/use-viewer-state';
import type { Size } from '../utils/orientation';

/** An image shown beside the one being read (the patient's prior study), in the same view. */
export type ComparedImage = {
  imagePath: string;
  fileName: string;
  imageSize: Size | null;
  /** What the pane is called above the image ("Prior study, 3 Dec 2026"). */
  label: string;
};

type ComparedFrameProps = {
  image: ComparedImage;
  view: ReturnType<typeof useViewerState>;
  /** The SVG filter of the view's window and level, which the two images share. */
  filterId: string;
};

/**
 * The compared image, zoomed, panned, turned and windowed with the current one: the view is one
 * (a drag, the wheel, a key or a tool on either image acts on both). It carries no overlay and
 * takes no measurement; those are the current study's.
 */
export function ComparedFrame({ image, view, filterId }: ComparedFrameProps) {
  const file = useStudyFile(image.imagePath);
  const url = useObjectUrl(file.data);
  const classes = ['radiograph-frame', view.zoom > 1 && 'is-zoomed', view.dragMode === 'window' && 'is-windowing'];
  return (
    <div
      ref={view.pairedViewportRef}
      className={classes.filter(Boolean).join(' ')}
      role="group"
      aria-label={`${image.label}: shown with the current image's zoom, pan, orientation and window`}
      tabIndex={0}
      {...view.frameHandlers}
    >
      {url ? (
        <div className="radiograph-stage" style={{ transform: view.stageTransformFor(image.imageSize) }}>
          <img
            className="radiograph"
            src={url}
            alt={`Prior radiograph ${image.fileName}`}
            draggable={false}
            style={view.windowed ? { filter: `url(#${filterId})` } : undefined}
          />
        </div>
      ) : (
        <div className="radiograph-placeholder">
          {file.isError ? `Prior radiograph unavailable: ${errorMessage(file.error)}` : 'Loading the prior radiograph…'}
        </div>
      )}
    </div>
  );
}
