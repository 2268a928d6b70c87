#!/usr/bin/env node
/**
 * The import rules of the extension's folders, checked on every `npm run lint` (exit 1 with one line per broken
 * import: file:line, what it imports, the rule it breaks). Every import form counts: `import`, `import type`,
 * `export … from`, `import()`, `require()` and `import('…')` types.
 *
 *   packages/extension/src/webview/          the board's browser script: imports only itself, curation/shared and
 *                                            @image-classifier/protocol (no `vscode`, no node builtins, no packages)
 *   packages/extension/src/curation/shared/  pure TS used by the webview and the host: imports only itself and
 *                                            @image-classifier/protocol
 *   packages/extension/src/curation/model/   the curation state on disk (journal, decisions, locks, the actions over
 *                                            FileOps): node builtins, curation/shared and the protocol; no `vscode`,
 *                                            so unit tests run it under plain node
 *   packages/extension/src/curation/host/    the VS Code side of curation (panel, Explorer badges, controller)
 *   packages/extension/src/server/           the extension's handle on the server process (the language client)
 *   packages/extension/src/text/             pure text helpers (percentages and label lines, CSV/JSON export, image
 *                                            paths written in text, Markdown escapes, paths in messages): imports
 *                                            only itself and @image-classifier/protocol, so unit tests run it under
 *                                            plain node
 *   packages/extension/src/ (all of it)      never onnxruntime, sharp, usearch, @image-classifier/core or
 *                                            @image-classifier/server, nor a relative path out of packages/extension:
 *                                            the extension depends on @image-classifier/protocol alone
 *
 *   node scripts/check-imports.mjs [--root=<repository root>]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const rootArg = process.argv.find((a) => a.startsWith('--root='));
const ROOT = path.resolve(rootArg ? rootArg.slice('--root='.length) : path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));
const EXT = 'packages/extension';
const SRC = `${EXT}/src`;

const PROTOCOL = /^@image-classifier\/protocol(\/|$)/;
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, m.split('/')[0]]));
const isNodeBuiltin = (spec) => spec.startsWith('node:') || NODE_BUILTINS.has(spec.split('/')[0]);
const SERVER_SIDE = /^(onnxruntime-(node|common|web)|sharp|@img\/|usearch|@image-classifier\/(core|server))(\/|$)/;

/** Whether the repository-relative `target` lies in one of the folders `dirs`. */
const within = (target, dirs) => dirs.some((d) => target === d || target.startsWith(`${d}/`));

/**
 * One rule per folder: `dir` is the folder it covers; `check(spec, target)` returns why the import is not allowed
 * (or nothing). `target` is the repository-relative path a relative specifier points at (undefined for a package).
 */
const RULES = [
  {
    name: 'webview (browser code: only webview/, curation/shared/ and @image-classifier/protocol)',
    dir: `${SRC}/webview`,
    check: (spec, target) => pureImport(spec, target, [`${SRC}/webview`, `${SRC}/curation/shared`]),
  },
  {
    name: 'curation/shared (pure TS for webview and host: only curation/shared/ and @image-classifier/protocol)',
    dir: `${SRC}/curation/shared`,
    check: (spec, target) => pureImport(spec, target, [`${SRC}/curation/shared`]),
  },
  {
    name: 'text (pure text helpers: only text/ and @image-classifier/protocol)',
    dir: `${SRC}/text`,
    check: (spec, target) => pureImport(spec, target, [`${SRC}/text`]),
  },
  {
    name: 'curation/model (no vscode: node builtins, curation/model/, curation/shared/ and @image-classifier/protocol)',
    dir: `${SRC}/curation/model`,
    check: (spec, target) => {
      if (target !== undefined)
        return within(target, [`${SRC}/curation/model`, `${SRC}/curation/shared`])
          ? undefined
          : 'a file outside curation/model and curation/shared';
      if (isNodeBuiltin(spec) || PROTOCOL.test(spec)) return undefined;
      return spec === 'vscode' || spec.startsWith('vscode-') ? 'the VS Code API' : 'a package other than @image-classifier/protocol';
    },
  },
  {
    name: 'extension (depends on @image-classifier/protocol alone: no onnxruntime, sharp, usearch, core or server)',
    dir: SRC,
    check: (spec, target) => {
      if (target !== undefined) return within(target, [EXT]) ? undefined : 'a file outside packages/extension';
      return SERVER_SIDE.test(spec) ? 'server-side or native code' : undefined;
    },
  },
];

/** The rule of the webview, curation/shared and text: only the `dirs` given, and the protocol. */
function pureImport(spec, target, dirs) {
  if (target !== undefined)
    return within(target, dirs) ? undefined : `a file outside ${dirs.map((d) => path.posix.relative(SRC, d)).join(', ')}`;
  if (spec === 'vscode' || spec.startsWith('vscode-')) return 'the VS Code API';
  if (isNodeBuiltin(spec)) return 'a node builtin';
  return PROTOCOL.test(spec) ? undefined : 'a package other than @image-classifier/protocol';
}

/** Every module specifier of a source file with its line: imports, re-exports, import(), require(), import types. */
function specifiersOf(file, text) {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out = [];
  const add = (node) => {
    if (node && ts.isStringLiteralLike(node))
      out.push({ spec: node.text, line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node.moduleReference.expression);
    else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) add(node.arguments[0]);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function* sources(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* sources(p);
    else if (/\.(ts|tsx|mts|cts|js|mjs|cjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) yield p;
  }
}

const toRepo = (abs) => path.relative(ROOT, abs).split(path.sep).join('/');

const problems = [];
for (const file of sources(path.join(ROOT, SRC))) {
  const rel = toRepo(file);
  const rules = RULES.filter((r) => within(rel, [r.dir]));
  for (const { spec, line } of specifiersOf(file, readFileSync(file, 'utf8'))) {
    const target = spec.startsWith('.') ? toRepo(path.resolve(path.dirname(file), spec)) : undefined;
    for (const rule of rules) {
      const why = rule.check(spec, target);
      if (why) problems.push(`${rel}:${line}: imports '${spec}' (${why}); rule ${rule.name}`);
    }
  }
}

if (problems.length) {
  console.error(
    `check-imports: ${problems.length} import(s) break the folder rules (scripts/check-imports.mjs says why each folder has its rule):`,
  );
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log(`check-imports: the folder import rules of ${SRC} hold`);
