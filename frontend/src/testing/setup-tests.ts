import '@testing-library/jest-dom/vitest';

import { cleanup } from '@testing-library/react';
import { afterEach, beforeEach, vi } from 'vitest';

import { tokenStore } from '@/lib/token-store';

let objectUrlCount = 0;

// jsdom lays nothing out, so no element is ever resized: an observer that never calls back.
class InertResizeObserver {
  observe(): void {}
  unobserve(): void {}
  disconnect(): void {}
}
globalThis.ResizeObserver ??= InertResizeObserver;

beforeEach(() => {
  // jsdom implements neither; the viewer only needs distinct strings.
  URL.createObjectURL = vi.fn(() => `blob:test/${++objectUrlCount}`);
  URL.revokeObjectURL = vi.fn();
});

afterEach(() => {
  cleanup();
  tokenStore.clear();
  window.localStorage.clear();
  vi.unstubAllGlobals();
});
