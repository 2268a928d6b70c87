/**
 * The package's version, from packages/server/package.json: `require` resolves it from dist/ and from src/ (tsx),
 * and esbuild inlines the JSON when it bundles the server for the extension.
 */
// biome-ignore lint/style/noCommonJs: a JSON require is what esbuild inlines and tsc leaves as is.
const pkg = require('../package.json') as { version: string };

export const SERVER_NAME = 'image-classifier';
export const SERVER_VERSION: string = pkg.version;
