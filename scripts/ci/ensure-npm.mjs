#!/usr/bin/env node
/**
 * Makes `npm` the version package.json's `packageManager` names (npm@11.x: the repository's `allowScripts` and
 * lockfile need it; Node 20 ships npm 10). A no-op where it already is (the Linux CI machine); elsewhere (the native
 * runners) `npm install -g npm@<version>` from the npm registry.
 *   node scripts/ci/ensure-npm.mjs
 */
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const want = /^npm@(\d+\.\d+\.\d+)$/.exec(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).packageManager ?? '')?.[1];
if (!want) {
  console.error('ensure-npm: package.json names no npm@x.y.z as its packageManager');
  process.exit(1);
}
const have = execSync('npm --version', { encoding: 'utf8' }).trim();
if (have === want) {
  console.log(`ensure-npm: npm ${have}, as packageManager says`);
} else {
  console.log(`ensure-npm: npm ${have} here, packageManager says ${want}: npm install -g npm@${want}`);
  execSync(`npm install -g npm@${want} --no-audit --no-fund`, { stdio: 'inherit' });
  const now = execSync('npm --version', { encoding: 'utf8' }).trim();
  if (now !== want) {
    console.error(`ensure-npm: npm is still ${now}`);
    process.exit(1);
  }
}
