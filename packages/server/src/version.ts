/**
 * The package's version, from packages/server/package.json: `require` resolves it from dist/ and from src/ (tsx),
 * and esbuild inlines the JSON when it bundles the server for the extension.
 */
const pkg = require('../package.json') as { version: string };

export const SERVER_NAME = 'image-classifier';
export const SERVER_VERSION: string = pkg.version;
