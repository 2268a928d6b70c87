#!/usr/bin/env node
/**
 * Rewrites the `resourceExtname =~ /…/i` clauses of package.json's menu `when` clauses from the protocol's image-format
 * table (classifiableWhenClause() of @image-classifier/protocol/formats, built: run `npm run build` first), so the
 * palette, the editor title bar and the context menus offer Classify Image on exactly the files the server
 * classifies, and the `workspaceContains:` activation event (classifiableGlob()), so the extension starts as soon as
 * a workspace holds such a file. Only those change; the rest of the file is kept byte for byte.
 * test/manifest.test.ts fails when they drift.
 *
 *   node scripts/sync-manifest.mjs          rewrite package.json
 *   node scripts/sync-manifest.mjs --check  exit 1 (and say which) when package.json is out of step
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const manifestPath = path.join(here, 'package.json');
const require = createRequire(import.meta.url);
const { classifiableGlob, classifiableWhenClause } = require('@image-classifier/protocol/formats');

/** A `resourceExtname =~ /regex/i` clause inside a `when` string (the regex holds no slash). */
const CLAUSE = /resourceExtname\s*=~\s*\/[^/]*\/i?/g;

const raw = readFileSync(manifestPath, 'utf8');
const manifest = JSON.parse(raw);
const want = classifiableWhenClause();
const found = new Set();
for (const items of Object.values(manifest.contributes?.menus ?? {})) {
  for (const item of items) for (const m of String(item.when ?? '').matchAll(CLAUSE)) found.add(m[0]);
}
const stale = [...found].filter((c) => c !== want);
const wantEvent = `workspaceContains:${classifiableGlob()}`;
const events = manifest.activationEvents ?? [];
const eventStale = !events.includes(wantEvent) || events.some((e) => e.startsWith('workspaceContains:') && e !== wantEvent);
if (process.argv.includes('--check')) {
  if (eventStale) {
    console.error(`sync-manifest: activationEvents lack ${wantEvent}. Run node scripts/sync-manifest.mjs.`);
    process.exit(1);
  }
  if (stale.length) {
    console.error(
      `sync-manifest: package.json has ${stale.join(', ')}; the format table gives ${want}. Run node scripts/sync-manifest.mjs.`,
    );
    process.exit(1);
  }
  console.log(
    `sync-manifest: package.json's ${found.size ? 'clauses match' : 'menus have no resourceExtname clause; nothing to'} the format table.`,
  );
} else if (stale.length || eventStale) {
  // Replace the JSON-escaped form of each stale clause, so that nothing else in the file moves.
  const escaped = (s) => JSON.stringify(s).slice(1, -1);
  let text = raw;
  for (const c of stale) text = text.split(escaped(c)).join(escaped(want));
  if (eventStale) {
    const next = [wantEvent, ...events.filter((e) => !e.startsWith('workspaceContains:'))];
    const block = `"activationEvents": [\n${next.map((e) => `    ${JSON.stringify(e)}`).join(',\n')}\n  ]`;
    text = text.replace(/"activationEvents":\s*\[[^\]]*\]/, block);
  }
  writeFileSync(manifestPath, text);
  console.log(`sync-manifest: package.json's when clauses use ${want}; activation on ${wantEvent}.`);
} else {
  console.log('sync-manifest: package.json already matches the format table.');
}
