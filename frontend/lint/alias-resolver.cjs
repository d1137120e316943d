// Import resolver for eslint-plugin-boundaries: maps the app's `@/` alias (tsconfig `paths`,
// Vite `resolve.alias`) onto src/, then resolves like Node with the TypeScript extensions.
const path = require('node:path');

const nodeResolver = require('eslint-import-resolver-node');

const sourceRoot = path.resolve(__dirname, '..', 'src');
const extensions = ['.ts', '.tsx', '.js', '.jsx'];

exports.interfaceVersion = 2;

exports.resolve = (source, file) => {
  const target = source.startsWith('@/') ? path.join(sourceRoot, source.slice(2)) : source;
  return nodeResolver.resolve(target, file, { extensions });
};
