/**
 * The viewer's hotkeys, as PACS readers know them. One table serves the key handler and the help
 * panel, so the panel lists exactly what the keys do.
 */
export type ViewerAction =
  | 'invert'
  | 'rotate'
  | 'flipHorizontal'
  | 'flipVertical'
  | 'zoomIn'
  | 'zoomOut'
  | 'fit'
  | 'reset'
  | 'fullScreen'
  | 'help'
  | 'windowTool'
  | 'lengthTool'
  | 'ratioTool'
  | 'clearMeasurements'
  | 'cancel'
  | 'presetFull'
  | 'presetLungs'
  | 'presetMediastinum'
  | 'presetBone';

export type KeyHelp = { keys: readonly string[]; does: string };
export type ViewerKey = KeyHelp & { action: ViewerAction };

export const VIEWER_KEYS: readonly ViewerKey[] = [
  { keys: ['i'], action: 'invert', does: 'Invert black and white' },
  { keys: ['r'], action: 'rotate', does: 'Rotate a quarter turn clockwise' },
  { keys: ['h'], action: 'flipHorizontal', does: 'Flip left to right' },
  { keys: ['v'], action: 'flipVertical', does: 'Flip top to bottom' },
  { keys: ['+'], action: 'zoomIn', does: 'Zoom in' },
  { keys: ['-'], action: 'zoomOut', does: 'Zoom out' },
  { keys: ['='], action: 'fit', does: 'Fit the image to the frame' },
  { keys: ['0'], action: 'reset', does: 'Reset zoom, orientation and window' },
  { keys: ['1'], action: 'presetFull', does: 'Window preset: full range' },
  { keys: ['2'], action: 'presetLungs', does: 'Window preset: lungs' },
  { keys: ['3'], action: 'presetMediastinum', does: 'Window preset: mediastinum' },
  { keys: ['4'], action: 'presetBone', does: 'Window preset: bone' },
  { keys: ['w'], action: 'windowTool', does: 'Window/level by dragging (again: back to panning)' },
  { keys: ['m'], action: 'lengthTool', does: 'Measure a length' },
  { keys: ['c'], action: 'ratioTool', does: 'Measure the cardiothoracic ratio: heart line, then thorax line' },
  { keys: ['Delete', 'Backspace'], action: 'clearMeasurements', does: 'Clear the measurements' },
  { keys: ['f'], action: 'fullScreen', does: 'Full screen on or off' },
  { keys: ['?'], action: 'help', does: 'Show or hide this list' },
  { keys: ['Escape'], action: 'cancel', does: 'Stop measuring; leave full screen; close this list' },
];

/** Keys that act while the image frame has the focus: they would scroll or press elsewhere. */
export const FRAME_KEYS: readonly KeyHelp[] = [
  { keys: ['←', '→', '↑', '↓'], does: 'Pan; while measuring, move the cross (Shift: ten times further)' },
  { keys: ['Enter', 'Space'], does: 'While measuring, place a point at the cross' },
];

const ACTIONS = new Map(VIEWER_KEYS.flatMap((entry) => entry.keys.map((key) => [key, entry.action] as const)));

type KeyPress = { key: string; ctrlKey: boolean; metaKey: boolean; altKey: boolean };

/** The action of a key press, or null: with Ctrl, Cmd or Alt the key is the browser's or the system's. */
export function viewerActionFor({ key, ctrlKey, metaKey, altKey }: KeyPress): ViewerAction | null {
  if (ctrlKey || metaKey || altKey) return null;
  return ACTIONS.get(key.length === 1 ? key.toLowerCase() : key) ?? null;
}

// A key typed into a text field is text, not a command.
const TEXT_INPUT_TYPES = new Set(['text', 'search', 'email', 'password', 'number', 'url', 'tel', 'date', 'time']);

export function isTextEntry(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && TEXT_INPUT_TYPES.has(target.type);
}
