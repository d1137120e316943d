import '@testing-library/jest-dom/vitest';

import { cleanup } from '@testing-library/react';
import { afterEach, beforeEach, vi } from 'vitest';

import { tokenStore } from '@/lib/token-store';

let objectUrlCount = 0;

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
