#!/usr/bin/env node
/**
 * Keeps each source file small enough to hold in one's head: no file in packages/<pkg>/src over MAX_FILE_LINES lines
 * and no function over MAX_FUNCTION_LINES, unless the file's opening comment says why it must be one piece
 * (a line containing "one piece:"). Tests and generated code are not checked. Exit 1 with a list when one is over.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 80;

function* sources(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* sources(p);
    else if (/\.(ts|tsx|mts|cts)$/.test(e.name) && !e.name.endsWith('.d.ts')) yield p;
  }
}

const problems = [];
for (const pkg of readdirSync(path.join(ROOT, 'packages'))) {
  let files;
  try {
    files = [...sources(path.join(ROOT, 'packages', pkg, 'src'))];
  } catch {
    continue;
  }
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const rel = path.relative(ROOT, file);
    const opening = text.slice(0, 1500);
    if (/one piece:/i.test(opening)) continue;
    const lines = text.split('\n').length;
    if (lines > MAX_FILE_LINES) problems.push(`${rel}: ${lines} lines (limit ${MAX_FILE_LINES})`);
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const visit = (node) => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const start = sf.getLineAndCharacterOfPosition(node.getStart()).line;
        const end = sf.getLineAndCharacterOfPosition(node.end).line;
        const n = end - start + 1;
        if (n > MAX_FUNCTION_LINES) {
          const name = node.name?.getText?.() ?? (ts.isArrowFunction(node) ? '(arrow)' : '(anonymous)');
          problems.push(`${rel}:${start + 1}: function ${name} is ${n} lines (limit ${MAX_FUNCTION_LINES})`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
}
if (problems.length) {
  console.error(`check-size: ${problems.length} over the limits:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('check-size: every source file and function is within the limits');
