/**
 * The radiograph's orientation on screen: a rotation in quarter turns (clockwise) after an optional
 * mirror of each axis. The stage applies it as CSS `rotate(...) scale(fx, fy)`: the mirror first,
 * then the rotation.
 */
export type Orientation = { rotation: 0 | 90 | 180 | 270; flipHorizontal: boolean; flipVertical: boolean };

export const UPRIGHT: Orientation = { rotation: 0, flipHorizontal: false, flipVertical: false };

export type Size = { width: number; height: number };
export type Vector = { x: number; y: number };

export function rotateClockwise(orientation: Orientation): Orientation {
  return { ...orientation, rotation: ((orientation.rotation + 90) % 360) as Orientation['rotation'] };
}

export function orientationTransform({ rotation, flipHorizontal, flipVertical }: Orientation): string {
  return `rotate(${rotation}deg) scale(${flipHorizontal ? -1 : 1}, ${flipVertical ? -1 : 1})`;
}

/**
 * A step on screen (an arrow key) as a step in the image's own pixels, so that the measuring cursor
 * moves the way the arrow points whatever the rotation and mirroring: the inverse of the stage's
 * transform (rotate back, then mirror, a mirror being its own inverse).
 */
export function screenStepToImage(step: Vector, { rotation, flipHorizontal, flipVertical }: Orientation): Vector {
  const radians = (rotation * Math.PI) / 180;
  const cos = Math.round(Math.cos(radians));
  const sin = Math.round(Math.sin(radians));
  const x = step.x * cos + step.y * sin;
  const y = -step.x * sin + step.y * cos;
  return { x: flipHorizontal ? -x : x, y: flipVertical ? -y : y };
}

/**
 * The extra scale that keeps a quarter-turned radiograph inside its frame: the image is letterboxed
 * into the frame (object-fit: contain), and once turned its width runs along the frame's height.
 */
export function rotationFitScale(frame: Size, image: Size, rotation: Orientation['rotation']): number {
  if (rotation % 180 === 0 || frame.width <= 0 || frame.height <= 0 || image.width <= 0 || image.height <= 0) return 1;
  const contain = Math.min(frame.width / image.width, frame.height / image.height);
  const shownWidth = image.width * contain;
  const shownHeight = image.height * contain;
  return Math.min(1, frame.width / shownHeight, frame.height / shownWidth);
}
