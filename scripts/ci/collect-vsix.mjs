#!/usr/bin/env node
/**
 * The release job's step: the VSIXes of every target collected into one folder (the native runners' artifacts, or
 * `npm run package:all`'s output), each one checked (check-vsix.mjs), none missing, and SHA256SUMS written beside
 * them. With --publish and GITHUB_REF_NAME set, `gh release create <tag>` uploads them (GitHub Actions only; the
 * Linux CI runs the same script without --publish on its own package:all output).
 *   node scripts/ci/collect-vsix.mjs <folder> [--publish]
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkVsix, formatCheck } from '../../packages/extension/scripts/check-vsix.mjs';
import { TARGETS } from '../../packages/extension/scripts/targets.mjs';

/** Checks the folder: { ok, lines, files } (lines say what is wrong or right, one per VSIX or problem). */
export function collect(dir) {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.vsix'))
    .sort();
  const lines = [];
  let ok = true;
  const seen = new Map();
  for (const f of files) {
    const r = checkVsix(path.join(dir, f));
    lines.push(formatCheck(r, dir));
    if (!r.ok) ok = false;
    if (r.target) {
      if (seen.has(r.target)) {
        lines.push(`collect-vsix: ${f} and ${seen.get(r.target)} are both ${r.target}`);
        ok = false;
      }
      seen.set(r.target, f);
    }
  }
  for (const t of Object.keys(TARGETS)) {
    if (!seen.has(t)) {
      lines.push(`collect-vsix: no VSIX for ${t}`);
      ok = false;
    }
  }
  return { ok, lines, files };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv.slice(2).find((a) => !a.startsWith('--'));
  if (!dir) {
    console.error('collect-vsix: name the folder that holds the VSIXes');
    process.exit(2);
  }
  const { ok, lines, files } = collect(dir);
  console.log(lines.join('\n'));
  if (!ok) process.exit(1);
  const sums = files.map(
    (f) =>
      `${createHash('sha256')
        .update(readFileSync(path.join(dir, f)))
        .digest('hex')}  ${f}`,
  );
  writeFileSync(path.join(dir, 'SHA256SUMS'), `${sums.join('\n')}\n`);
  console.log(`collect-vsix: ${files.length} VSIXes checked, SHA256SUMS written`);
  if (process.argv.includes('--publish')) {
    const tag = process.env.GITHUB_REF_NAME;
    if (!tag || process.env.GITHUB_REF_TYPE !== 'tag') {
      console.log('collect-vsix: --publish outside a tag build: nothing published');
    } else {
      const assets = [...files, 'SHA256SUMS'].map((f) => path.join(dir, f));
      const r = spawnSync('gh', ['release', 'create', tag, ...assets, '--generate-notes', '--title', tag], { stdio: 'inherit' });
      process.exit(r.status ?? 1);
    }
  }
}
