import { describe, expect, it } from 'vitest';

import { isTextEntry, VIEWER_KEYS, viewerActionFor } from './viewer-keys';

const press = (key: string, modifiers: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {}) =>
  viewerActionFor({ key, ctrlKey: false, metaKey: false, altKey: false, ...modifiers });

describe('viewer keys', () => {
  it('maps the PACS hotkeys to their actions', () => {
    expect(press('i')).toBe('invert');
    expect(press('r')).toBe('rotate');
    expect(press('h')).toBe('flipHorizontal');
    expect(press('v')).toBe('flipVertical');
    expect(press('+')).toBe('zoomIn');
    expect(press('-')).toBe('zoomOut');
    expect(press('=')).toBe('fit');
    expect(press('?')).toBe('help');
    expect(press('f')).toBe('fullScreen');
    expect(press('m')).toBe('lengthTool');
    expect(press('c')).toBe('ratioTool');
    expect(press('Escape')).toBe('cancel');
  });

  it('reads a letter typed with Shift or Caps Lock as the letter, and leaves other keys alone', () => {
    expect(press('R')).toBe('rotate');
    expect(press('x')).toBeNull();
    expect(press('ArrowLeft')).toBeNull();
  });

  it('leaves a key with Ctrl, Cmd or Alt to the browser (Ctrl+R reloads, Ctrl+- zooms the page)', () => {
    expect(press('r', { ctrlKey: true })).toBeNull();
    expect(press('-', { metaKey: true })).toBeNull();
    expect(press('i', { altKey: true })).toBeNull();
  });

  it('binds each key to one action only', () => {
    const keys = VIEWER_KEYS.flatMap((entry) => entry.keys);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('treats text fields as text, and checkboxes, buttons and sliders as not', () => {
    const field = (make: () => HTMLElement) => isTextEntry(make());
    expect(field(() => document.createElement('textarea'))).toBe(true);
    expect(field(() => document.createElement('select'))).toBe(true);
    expect(field(() => Object.assign(document.createElement('input'), { type: 'text' }))).toBe(true);
    expect(field(() => Object.assign(document.createElement('input'), { type: 'checkbox' }))).toBe(false);
    expect(field(() => Object.assign(document.createElement('input'), { type: 'range' }))).toBe(false);
    expect(field(() => document.createElement('button'))).toBe(false);
    expect(isTextEntry(null)).toBe(false);
  });
});
