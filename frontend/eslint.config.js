import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { boundaries, defineConfig, globals, js, tseslint } from './lint/index.js';

const aliasResolver = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lint', 'alias-resolver.cjs');

// The layering (bulletproof-react): app → features → shared code. Nothing imports the app but the
// entry point (src/main.tsx, outside every layer) and the test helpers; a feature imports only
// itself and shared code (features meet in src/app/routes); shared code never imports a feature,
// and within it each layer imports only itself and the layers after it in SHARED (components →
// hooks → lib → utils and config → types). lint/boundaries-check.js plants violations and fails
// `npm run lint` if this rule stops catching them.
const SHARED = ['components', 'hooks', 'lib', 'utils', 'types'];

const layers = {
  plugins: { boundaries },
  settings: {
    'import/resolver': { [aliasResolver]: {} },
    'boundaries/include': ['src/**/*'],
    'boundaries/elements': [
      { type: 'app', pattern: 'src/app' },
      { type: 'feature', pattern: 'src/features/*', capture: ['feature'] },
      { type: 'testing', pattern: 'src/testing' },
      { type: 'components', pattern: 'src/components' },
      { type: 'hooks', pattern: 'src/hooks' },
      { type: 'lib', pattern: 'src/lib' },
      { type: 'utils', pattern: ['src/utils', 'src/config'] },
      { type: 'types', pattern: 'src/types' },
    ],
  },
  rules: {
    'boundaries/dependencies': [
      'error',
      {
        default: 'disallow',
        policies: [
          { from: { element: { type: 'app' } }, allow: { to: { element: { types: { anyOf: ['app', 'feature', ...SHARED] } } } } },
          {
            from: { element: { type: 'feature' } },
            allow: {
              to: {
                element: { type: 'feature', captured: { feature: '{{ from.element.captured.feature }}' } },
              },
            },
          },
          { from: { element: { type: 'feature' } }, allow: { to: { element: { types: { anyOf: SHARED } } } } },
          ...SHARED.map((layer, index) => ({
            from: { element: { type: layer } },
            allow: { to: { element: { types: { anyOf: SHARED.slice(index) } } } },
          })),
          // Test helpers render the whole app; only tests may import them.
          { from: { element: { type: 'testing' } }, allow: { to: { element: { types: { anyOf: ['app', 'testing', ...SHARED] } } } } },
          { from: { file: { path: '**/*.test.{ts,tsx}' } }, allow: { to: { element: { type: 'testing' } } } },
        ],
      },
    ],
  },
};

export default defineConfig(
  { ignores: ['dist', 'node_modules', 'lint/node_modules', 'src/types/api.generated.ts'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  { files: ['src/**/*.{ts,tsx}'], ...layers },
);
