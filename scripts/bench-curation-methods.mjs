#!/usr/bin/env node
/**
 * Label-issue ranking per method on both dev sets (../shared/datasets/curation-dev and the harder set that
 * scripts/build-curation-hard.mjs builds into .cache/curation-hard), MobileNetV2-12 int8, embeddings and logits
 * extracted once per set and every method run by core's `analyse` on them:
 *   - kNN vote alone, CV softmax regression alone, their average (the method before the WordNet hierarchy), each
 *     followed by confident learning;
 *   - shipped: the average mixed with the model's mass under the folders' synsets (semantic.ts), then confident
 *     learning; and the same with group-aware cross-validation (duplicate groups kept whole);
 *   - cleanlab's `find_label_issues` (PyPI, in the venv scripts/cleanlab-venv.sh makes) on the same embeddings'
 *     out-of-sample pred_probs: the CV regression's (cleanlab's own recipe), and the shipped probabilities.
 * Each ranking is the flagged files (most suspect first) then every other file by self-confidence; scored as AP,
 * P@n and R@2n with n the number of mislabelled files. `node scripts/bench-curation-methods.mjs [--json]`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureHardSet } from './build-curation-hard.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const SHARED = process.env.IMAGE_CLASSIFIER_SHARED_DIR ?? path.resolve(ROOT, '..', 'shared');
const MODEL = path.join(SHARED, 'models', 'mobilenetv2-12-int8.onnx');

function score(rankedFiles, noise) {
  let hits = 0;
  let ap = 0;
  rankedFiles.forEach((f, i) => {
    if (noise.has(f)) ap += ++hits / (i + 1);
  });
  const n = noise.size;
  const tp = (k) => rankedFiles.slice(0, k).filter((f) => noise.has(f)).length;
  return { ap: ap / n, pAtN: tp(n) / n, rAt2N: tp(2 * n) / n, n };
}

/** Flagged first (in the order given), then the rest by ascending self-confidence. */
function ranking(flagged, quality) {
  const set = new Set(flagged);
  const rest = [...quality.keys()].filter((i) => !set.has(i)).sort((a, b) => quality[a] - quality[b] || a - b);
  return [...flagged, ...rest];
}

function cleanlab(python, y, probs, classes) {
  const n = y.length;
  const pred = Array.from({ length: n }, (_, i) => Array.from(probs.subarray(i * classes, (i + 1) * classes)));
  const out = execFileSync(python, [path.join(ROOT, 'scripts', 'cleanlab-rank.py')], {
    input: JSON.stringify({ labels: Array.from(y), pred_probs: pred }),
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  return JSON.parse(out);
}

function cleanlabPython(log) {
  try {
    return execFileSync('bash', [path.join(ROOT, 'scripts', 'cleanlab-venv.sh')], { encoding: 'utf8' }).trim();
  } catch (e) {
    log(`!!! cleanlab could not be installed from PyPI (${e.message.split('\n')[0]}): its rows are left out.`);
    return undefined;
  }
}

async function extracted(core, classifier, root) {
  const scan = await core.scanDataset(root);
  const ex = await core.extractAll(classifier, scan.entries, { logits: true });
  return ex.filter((x) => x.features && x.embedding);
}

function methods(core, items, noise, python) {
  const key = (f) => f.split('/').slice(-2).join('/');
  const run = (labels, label, checks = ['label']) =>
    core.analyse(items, labels, { neighbours: 10, checks: new Set(checks), ...label }).label;
  const rows = {};
  const add = (id, name, lr, order) => {
    const files = (order ?? ranking(lr.analysis.issues, lr.analysis.quality)).map((r) => key(items[lr.rows[r]].entry.file));
    rows[id] = { name, ...score(files, noise), flagged: lr.analysis.issues.length };
  };
  const none = undefined;
  add('knn', 'kNN vote alone (k=10) + confident learning', run(none, { regressionWeight: 0 }));
  const reg = run(none, { regressionWeight: 1 });
  add('regression', 'CV softmax regression alone + confident learning', reg);
  add('average', 'kNN + regression average + confident learning (before the hierarchy)', run(none, { regressionWeight: 0.5 }));
  const shipped = run(core.IMAGENET_LABELS, {});
  add('shipped', "shipped: average mixed with the model's mass under the folders' synsets + confident learning", shipped);
  rows.shipped.semanticWeight = shipped.analysis.semanticWeight;
  add(
    'grouped',
    'shipped with group-aware CV (duplicate groups whole, out of each other’s vote)',
    run(core.IMAGENET_LABELS, { groupAware: true }, ['label', 'duplicates']),
  );
  if (python) {
    const c = reg.classes.length;
    const y = Int32Array.from(reg.rows, (i) => reg.classes.indexOf(items[i].entry.label));
    for (const [id, name, lr] of [
      ['cleanlab', "cleanlab find_label_issues, pred_probs = the CV regression's", reg],
      ['cleanlabShipped', 'cleanlab find_label_issues, pred_probs = the shipped probabilities', shipped],
    ]) {
      const r = cleanlab(python, y, lr.analysis.probs, c);
      const selfConf = Float64Array.from(y, (k, i) => lr.analysis.probs[i * c + k]);
      add(id, `${name} (cleanlab ${r.version})`, lr, ranking(r.issues, selfConf));
      rows[id].flagged = r.issues.length;
    }
  }
  return rows;
}

export async function benchCurationMethods({ log = console.error } = {}) {
  if (!existsSync(MODEL)) {
    log(`!!! ${MODEL} not found: the methods bench is skipped.`);
    return undefined;
  }
  const core = require(path.join(ROOT, 'packages', 'core', 'dist', 'index.js'));
  const sets = [];
  const dev = path.join(SHARED, 'datasets', 'curation-dev');
  sets.push({
    name: 'curation-dev',
    root: path.join(dev, 'dataset'),
    truth: JSON.parse(readFileSync(path.join(dev, 'truth.json'), 'utf8')),
  });
  const hard = await ensureHardSet();
  if (hard.skip) log(`!!! ${hard.skip}`);
  else sets.push({ name: 'harder set (.cache/curation-hard)', root: hard.root, truth: hard.truth });
  const python = cleanlabPython(log);
  const classifier = await core.Classifier.create({ modelPath: MODEL });
  const out = {};
  try {
    for (const s of sets) {
      const items = await extracted(core, classifier, s.root);
      const noise = new Set(s.truth.label_noise.map((n) => n.file));
      out[s.name] = { files: items.length, noise: noise.size, methods: methods(core, items, noise, python) };
      log(`${s.name}: ${JSON.stringify(out[s.name])}`);
    }
  } finally {
    await classifier.close();
  }
  return { date: new Date().toISOString(), sets: out };
}

export function markdown(r) {
  if (!r) return '';
  const f = (v) => v.toFixed(3);
  const lines = [
    `### Label issues per method on both dev sets (MobileNetV2-12 int8; ${r.date.slice(0, 10)})`,
    '',
    '`node scripts/bench-curation-methods.mjs`. n = mislabelled files; the ranking is the flagged files, most suspect first, then the rest by self-confidence.',
    '',
  ];
  for (const [name, s] of Object.entries(r.sets)) {
    lines.push(
      `${name}: ${s.files} files, n = ${s.noise}`,
      '',
      '| method | flagged | AP | P@n | R@2n |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const m of Object.values(s.methods)) lines.push(`| ${m.name} | ${m.flagged} | ${f(m.ap)} | ${f(m.pAtN)} | ${f(m.rAt2N)} |`);
    lines.push('');
  }
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await benchCurationMethods();
  if (process.argv.includes('--json')) console.log(JSON.stringify(r, null, 2));
  else console.log(markdown(r));
}
