// The ESLint toolchain for the web app, in one package beside it: typescript-eslint parses with
// TypeScript's classic JavaScript API, which TypeScript 7 (the app's compiler) no longer ships, so
// this package keeps its own TypeScript 6 where npm cannot hoist it over the app's.
export { default as js } from '@eslint/js';
export { defineConfig } from 'eslint/config';
export { default as boundaries } from 'eslint-plugin-boundaries';
export { default as globals } from 'globals';
export { default as tseslint } from 'typescript-eslint';
