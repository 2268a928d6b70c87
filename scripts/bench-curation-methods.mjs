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
 *     out-of-sample pred_probs: the CV regression's (cleanlab's own recipe), and the shipped probabilities;
 *   - cleanlab's Datalab (scripts/cleanlab-datalab.py) with its label, outlier and near-duplicate issue types on the
 *     same unit embeddings as features and the same pred_probs (its label row for both pred_probs; the outlier and
 *     near-duplicate types use the features alone).
 * Each ranking is the flagged files (most suspect first) then every other file by self-confidence; scored as AP,
 * P@n and R@2n with n the number of mislabelled files. Duplicates: pair precision and recall against every pair
 * inside the truth's near- and exact-duplicate groups, core's duplicates check beside Datalab's near_duplicate_sets.
 * Outliers: AP against the truth's out-of-vocabulary files where it has some (the ranking is the flagged files, then
 * the rest by score), else the number each flags. `node scripts/bench-curation-methods.mjs [--json]`.
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

/** AP, precision at n and recall at 2n of a ranking (most suspect first) against the set of n true files. */
export function score(rankedFiles, noise) {
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
export function ranking(flagged, quality) {
  const set = new Set(flagged);
  const rest = [...quality.keys()].filter((i) => !set.has(i)).sort((a, b) => quality[a] - quality[b] || a - b);
  return [...flagged, ...rest];
}

/** Every unordered pair inside each group, as 'a\tb' with a < b (paths as given). */
export function pairsOf(groups) {
  const out = new Set();
  for (const g of groups) {
    const m = [...new Set(g)].sort();
    for (let i = 0; i < m.length; i++) for (let j = i + 1; j < m.length; j++) out.add(`${m[i]}\t${m[j]}`);
  }
  return out;
}

/** The truth's duplicate pairs: all of them (near and exact groups) and the exact ones alone. */
export function truthPairs(truth) {
  const exact = pairsOf((truth.exact_duplicate_groups ?? []).map((g) => g.members));
  const all = pairsOf([...(truth.near_duplicate_groups ?? []), ...(truth.exact_duplicate_groups ?? [])].map((g) => g.members));
  return { all, exact };
}

/** Pair precision and recall of predicted pairs against the truth's (as curation-dev's evaluate.py scores them). */
export function pairScore(predicted, truth) {
  const tp = [...predicted].filter((p) => truth.all.has(p)).length;
  const exactFound = [...truth.exact].filter((p) => predicted.has(p)).length;
  const near = [...truth.all].filter((p) => !truth.exact.has(p));
  const nearFound = near.filter((p) => predicted.has(p)).length;
  return {
    pairs: predicted.size,
    tp,
    precision: tp / Math.max(1, predicted.size),
    recall: tp / Math.max(1, truth.all.size),
    exact: `${exactFound}/${truth.exact.size}`,
    near: `${nearFound}/${near.length}`,
  };
}

/** Datalab's near_duplicate_sets (per row, the rows it is a near duplicate of) as groups of two. */
export function setsToGroups(sets) {
  return sets.flatMap((s, i) => s.map((j) => [i, j]));
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

function datalab(python, y, probs, classes, features) {
  const n = y.length;
  const rows = (a, c) => Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * c, (i + 1) * c)));
  const out = execFileSync(python, [path.join(ROOT, 'scripts', 'cleanlab-datalab.py')], {
    input: JSON.stringify({ labels: Array.from(y), pred_probs: rows(probs, classes), features: rows(features.data, features.d) }),
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  return JSON.parse(out);
}

/** Rows sorted by ascending score (Datalab: lower = more of an issue), ties by row. */
const byScore = (rows, score) => [...rows].sort((a, b) => score[a] - score[b] || a - b);

async function extracted(core, classifier, root) {
  const scan = await core.scanDataset(root);
  const ex = await core.extractAll(classifier, scan.entries, { logits: true });
  return ex.filter((x) => x.features && x.embedding);
}

function methods(core, items, truth, python) {
  const noise = new Set(truth.label_noise.map((n) => n.file));
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
  // The shipped run with the duplicates and outliers checks too, for the side by side with Datalab.
  const full = core.analyse(items, core.IMAGENET_LABELS, { neighbours: 10, checks: new Set(['label', 'duplicates', 'outliers']) });
  const tp = truthPairs(truth);
  const duplicates = {
    shipped: {
      name: "shipped: core's duplicates check (content hashes + pHash + embedding cosine)",
      ...pairScore(pairsOf(full.duplicates.map((g) => g.files.map(key))), tp),
    },
  };
  const oov = new Set(truth.out_of_vocabulary ?? []);
  const dist = core.meanNeighbourDistance(full.nb, items.length);
  const rowOf = new Map(items.map((x, i) => [x.entry.file, i]));
  const vocabulary = full.outliers.filter((o) => o.kind === 'out_of_vocabulary').map((o) => rowOf.get(o.file));
  const embedding = full.outliers.filter((o) => o.kind !== 'out_of_vocabulary').map((o) => rowOf.get(o.file));
  const flaggedOutliers = [...vocabulary, ...embedding];
  const outlierRow = (name, flagged, order) => ({
    name,
    flagged: flagged.length,
    flaggedTrue: flagged.filter((i) => oov.has(key(items[i].entry.file))).length,
    files: flagged.map((i) => key(items[i].entry.file)),
    ...(oov.size
      ? {
          ap: score(
            order.map((i) => key(items[i].entry.file)),
            oov,
          ).ap,
        }
      : {}),
  });
  const negDist = Array.from(dist, (v) => -v);
  const allRows = [...items.keys()];
  const outliers = {
    shipped: outlierRow(
      "shipped: core's outliers check (out of vocabulary first, then mean 10-NN cosine distance above Tukey's fence; the rest by that distance)",
      flaggedOutliers,
      ranking(flaggedOutliers, negDist),
    ),
    distance: outlierRow(
      'mean 10-NN cosine distance alone (the outliers check’s embedding score; flagged: above the fence)',
      embedding,
      byScore(allRows, negDist),
    ),
  };
  if (python) {
    const c = reg.classes.length;
    const y = Int32Array.from(reg.rows, (i) => reg.classes.indexOf(items[i].entry.label));
    const feats = { data: new Float32Array(reg.rows.length * full.m.d), d: full.m.d };
    for (const [i, r] of reg.rows.entries()) feats.data.set(full.m.data.subarray(r * full.m.d, (r + 1) * full.m.d), i * full.m.d);
    const at = (i) => reg.rows[i];
    for (const [id, name, lr] of [
      ['datalabShipped', 'cleanlab Datalab label issues, pred_probs = the shipped probabilities', shipped],
      ['datalab', "cleanlab Datalab label issues, pred_probs = the CV regression's", reg],
    ]) {
      const r = datalab(python, y, lr.analysis.probs, c, feats);
      const l = r.label;
      add(id, `${name} (cleanlab ${r.version})`, lr, ranking(byScore(l.issues, l.score), Float64Array.from(l.score)));
      rows[id].flagged = l.issues.length;
      if (id !== 'datalabShipped') continue;
      const tag = `cleanlab ${r.version}, ${r.near_duplicate.metric} distance < ${r.near_duplicate.radius.toPrecision(4)}`;
      duplicates.datalab = {
        name: `Datalab near_duplicate: near_duplicate_sets (${tag})`,
        ...pairScore(pairsOf(setsToGroups(r.near_duplicate.sets).map((g) => g.map((i) => key(items[at(i)].entry.file)))), tp),
      };
      const o = r.outlier;
      outliers.datalab = outlierRow(
        `Datalab outlier: is_outlier_issue, ranked by outlier_score (cleanlab ${r.version}, metric ${o.metric})`,
        byScore(o.issues, o.score).map(at),
        ranking(byScore(o.issues, o.score), Float64Array.from(o.score)).map(at),
      );
    }
  }
  return { rows, duplicates, outliers, outOfVocabulary: oov.size };
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
      const m = methods(core, items, s.truth, python);
      out[s.name] = {
        files: items.length,
        noise: s.truth.label_noise.length,
        methods: m.rows,
        duplicates: m.duplicates,
        outliers: m.outliers,
        outOfVocabulary: m.outOfVocabulary,
      };
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
    if (s.duplicates) {
      lines.push(
        `${name}, duplicates (pairs inside the truth's near- and exact-duplicate groups):`,
        '',
        '| method | predicted pairs | precision | recall | exact / near pairs found |',
        '| --- | --- | --- | --- | --- |',
      );
      for (const d of Object.values(s.duplicates))
        lines.push(`| ${d.name} | ${d.pairs} | ${f(d.precision)} | ${f(d.recall)} | ${d.exact}, ${d.near} |`);
      lines.push('');
    }
    if (s.outliers) {
      const has = s.outOfVocabulary > 0;
      lines.push(
        has
          ? `${name}, outliers (AP against the truth's ${s.outOfVocabulary} out-of-vocabulary files; the ranking is the flagged files, then the rest by score):`
          : `${name}, outliers: the truth has no outliers or out-of-vocabulary files, so every file flagged is a false alarm:`,
        '',
        has ? '| method | flagged | of them out of vocabulary | AP |' : '| method | flagged (false alarms) |',
        has ? '| --- | --- | --- | --- |' : '| --- | --- |',
      );
      for (const o of Object.values(s.outliers))
        lines.push(has ? `| ${o.name} | ${o.flagged} | ${o.flaggedTrue} | ${f(o.ap)} |` : `| ${o.name} | ${o.flagged} |`);
      lines.push('');
    }
  }
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await benchCurationMethods();
  if (process.argv.includes('--json')) console.log(JSON.stringify(r, null, 2));
  else console.log(markdown(r));
}
