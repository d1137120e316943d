import { useObjectUrl } from '@/hooks/use-object-url';
import { useStudyFile } from '@/hooks/use-study-file';
import type { StudyImage } from '@/types/api';

export const NOT_ANALYSED_NOTE = 'not analysed (frontal views only)';

/** What a thumbnail says of its image: its number, its view and whether the model read it. */
export function imageCaption(image: StudyImage): string {
  return `Image ${image.position + 1} · ${image.view}${image.analysed ? '' : ` · ${NOT_ANALYSED_NOTE}`}`;
}

function Thumbnail({ image }: { image: StudyImage }) {
  const file = useStudyFile(image.image);
  const url = useObjectUrl(file.data);
  return url ? <img src={url} alt="" /> : <span className="thumbnail-placeholder" aria-hidden="true" />;
}

type ImageStripProps = {
  images: StudyImage[];
  selectedPosition: number;
  onSelect: (position: number) => void;
};

/** The images of a study as thumbnails; the selected one is shown in the viewer. */
export function ImageStrip({ images, selectedPosition, onSelect }: ImageStripProps) {
  return (
    <ul className="image-strip" aria-label="Images of this study">
      {images.map((image) => (
        <li key={image.position}>
          <button
            type="button"
            className={`image-thumbnail${image.position === selectedPosition ? ' is-selected' : ''}`}
            aria-pressed={image.position === selectedPosition}
            onClick={() => onSelect(image.position)}
          >
            <Thumbnail image={image} />
            <span>{imageCaption(image)}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}
