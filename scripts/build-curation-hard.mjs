#!/usr/bin/env node
/**
 * Builds the harder curation dev set, deterministically, from real photographs in one Debian package:
 * gcompris-qt-data 3.1-2 (GCompris's photographs in the `erase`, `explore_world_animals`, `explore_farm_animals`,
 * `categorization`, `explore_monuments`, `details`, `babyshapes` and `paintings` activities, in Qt resource files). Not from tuxpaint-stamps-*,
 * mate-backgrounds or palapeli-data (kept back for independent checks).
 *
 * Classes: bird, fish, mammal, monument, painting (photographs only: GCompris's word pictures are drawings and are
 * left out). Confusable pairs: bird ↔ mammal, fish ↔ mammal (marine mammals), monument ↔ painting (a painted
 * church); painting has no ImageNet class below its WordNet synset. About 10 % label noise: plausible moves within
 * the pairs, random moves, and two invertebrates (the first found of bee, butterfly, caterpillar and of crab,
 * caterpillar, butterfly: no folder for them, out of vocabulary); near
 * duplicates (JPEG q30, half size, 90 % crop, brighter) and exact copies, one of them in another folder. Every
 * image keeps its native size with the long side capped at 512 px, saved as JPEG quality 90 under a random
 * IMG_nnnn.jpg name; truth.json has the same layout as ../shared/datasets/curation-dev/truth.json.
 *
 * `node scripts/build-curation-hard.mjs [--out <dir>] [--force]`. Default folder: .cache/curation-hard (git-ignored);
 * `ensureHardSet()` builds it when absent and returns { root, truth } or { skip: reason } when the package cannot
 * be had (apt-get download needs Debian's archive).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
export const HARD_DIR = path.join(ROOT, '.cache', 'curation-hard');
const PACKAGE = 'gcompris-qt-data';
const VERSION = '3.1-2';
const SEED = 20261206;
const RCC = '/usr/share/gcompris-qt/rcc';
const A = '/gcompris/src/activities';
const SHARED = process.env.IMAGE_CLASSIFIER_SHARED_DIR ?? path.resolve(ROOT, '..', 'shared');
const MODEL = path.join(SHARED, 'models', 'mobilenetv2-12-int8.onnx');

/** [rcc file, folder in its resources, basename without .webp, true class]. */
const SOURCES = [
  ...['northern_harrier', 'penguin', 'swans', 'kingfisher', 'heron', 'toucan', 'gosling', 'spoonbills'].map((n) => [
    'erase',
    'erase/resource',
    n,
    'bird',
  ]),
  ['explore_world_animals', 'explore_world_animals/resource/animals', 'scarlet_macaw', 'bird'],
  ...['chicken', 'duck', 'owl'].map((n) => ['explore_farm_animals', 'explore_farm_animals/resource/animals', n, 'bird']),
  ...[
    'gorilla',
    'pika',
    'giraffe',
    'calf',
    'nubian_ibex',
    'camels',
    'macaque',
    'dolphin',
    'long_nosed_monkey',
    'flying_fox',
    'gibbon',
    'rhinoceros',
    'goat',
    'horse',
    'alpaca',
    'cheetah',
    'meerkats',
    'kitten',
    'red_panda',
    'squirrel',
  ].map((n) => ['erase', 'erase/resource', n, 'mammal']),
  ...['giraffe', 'koala', 'bison', 'jaguar', 'hedgehog', 'kangaroo', 'narwhal', 'moose', 'panda', 'lemur', 'polar_bear'].map((n) => [
    'explore_world_animals',
    'explore_world_animals/resource/animals',
    n,
    'mammal',
  ]),
  ...['dog', 'cow', 'cat', 'horse', 'sheep', 'pig'].map((n) => [
    'explore_farm_animals',
    'explore_farm_animals/resource/animals',
    n,
    'mammal',
  ]),
  ...Array.from({ length: 22 }, (_, i) => ['categorization', 'categorization/resource/images/fishes', `fish${i + 1}`, 'fish']),
  ...[
    'usa/canyondeChelly',
    'usa/georgeWashingtonBirthplace',
    'usa/lincolnMemorial',
    'usa/navajo',
    'usa/cabrillo',
    'usa/mountRushmore',
    'usa/statueofLiberty',
    'usa/castillodeSanMarcos',
    'usa/fortSumter',
    'usa/castleClinton',
    'egypt/meidumPyramid',
    'egypt/greatPyramidOfGiza',
    'egypt/bentPyramid',
    'egypt/redPyramid',
    'india/greatStupa',
    'india/gatewayofIndia',
    'india/konarkSunTemple',
    'india/charminar',
    'india/hawaMahal',
    'india/rangGhar',
    'india/victoriaMemorial',
    'india/mysorePalace',
    'india/goldenTemple',
    'india/ajantaCave',
    'india/qutubMinar',
    'france/chateaudeChambord',
    'france/pontduGard',
    'france/palaisdesPapes',
    'france/reimsCathedral',
    'france/eiffelTower',
    'france/citedeCarcassonne',
    'france/arlesAmphitheater',
    'france/chateaudeChenonceau',
    'france/montStMichel',
    'france/rocamadour',
    'germany/berlinCathedral',
    'germany/schwerinPalace',
    'germany/trierImperialBaths',
    'germany/aulaPalatina',
    'germany/brandenburgGate',
    'germany/neuschwansteinCastle',
    'germany/wormsCathedral',
    'wonders/machuPicchu',
    'wonders/tajMahal',
    'wonders/chichenItza',
    'wonders/colosseum',
    'wonders/petra',
    'wonders/greatWallofChina',
    'wonders/christTheRedeemer',
  ].map((n) => ['explore_monuments', 'explore_monuments/resource', n, 'monument']),
  ...[
    'PortraitOfPereTanguy_background',
    'Van_Gogh_The_Night_Cafe_background',
    'Eglise_dAuvers-sur-Oise_background',
    'VincentVanGogh0012_background',
    'VincentVanGogh0013_background',
    'VincentVanGogh0019_background',
    'Gogh4_background',
    'VincentVanGoghBridge_background',
  ].map((n) => ['details', 'details/resource/image', n, 'painting']),
  ...['Bosschaert_04_background', 'Paul_Gauguin_006_background', 'Pieter_Bruegel_background', 'Van_Gogh_0011_background'].map((n) => [
    'babyshapes',
    'babyshapes/resource/image',
    n,
    'painting',
  ]),
  ...['renoir-moulin_de_la_galette-1', 'cassat_summertime_2', 'GreatWave_a2', 'degas_class-dance_3'].map((n) => [
    'paintings',
    'paintings/resource/image',
    n,
    'painting',
  ]),
  ...['bee', 'butterfly', 'caterpillar', 'crab'].map((n) => ['erase', 'erase/resource', n, 'invertebrate']),
];
export const HARD_CLASSES = ['bird', 'fish', 'mammal', 'monument', 'painting'];

/**
 * Label noise: [true class, candidate photographs, folder, kind]; each move takes the first candidate the model
 * recognises that no other move took. Plausible within the pairs, random across, and out of vocabulary.
 */
const MOVES = [
  ['mammal', ['flying_fox', 'squirrel', 'lemur'], 'bird', 'plausible'],
  ['bird', ['penguin', 'swans'], 'mammal', 'plausible'],
  ['bird', ['owl', 'gosling'], 'mammal', 'plausible'],
  ['mammal', ['dolphin', 'narwhal', 'polar_bear'], 'fish', 'plausible'],
  ['mammal', ['narwhal', 'polar_bear'], 'fish', 'plausible'],
  ['painting', ['Eglise_dAuvers-sur-Oise_background'], 'monument', 'plausible'],
  ['monument', ['france/reimsCathedral'], 'painting', 'plausible'],
  ['fish', ['fish5', 'fish6'], 'monument', 'random'],
  ['mammal', ['koala', 'panda'], 'monument', 'random'],
  ['bird', ['kingfisher', 'toucan'], 'painting', 'random'],
  ['monument', ['germany/brandenburgGate'], 'bird', 'random'],
  ['invertebrate', ['bee', 'butterfly', 'caterpillar'], 'bird', 'out_of_vocabulary'],
  ['invertebrate', ['crab', 'caterpillar', 'butterfly'], 'fish', 'out_of_vocabulary'],
];

/** The WordNet synset whose ImageNet classes must hold the model's top class for a photograph to count as recognised. */
const RECOGNISED_UNDER = { bird: 'bird', fish: 'fish', mammal: 'mammal', invertebrate: 'invertebrate' };

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every file of a Qt resource (.rcc) file: path → bytes (zlib entries inflated; zstd ones left out). */
export function readRcc(buf) {
  if (buf.toString('latin1', 0, 4) !== 'qres') throw new Error('not a Qt resource file');
  const version = buf.readUInt32BE(4);
  const [tree, data, names] = [buf.readUInt32BE(8), buf.readUInt32BE(12), buf.readUInt32BE(16)];
  const node = 14 + (version >= 2 ? 8 : 0);
  const nameAt = (off) => {
    const len = buf.readUInt16BE(names + off);
    return Buffer.from(buf.subarray(names + off + 6, names + off + 6 + 2 * len))
      .swap16()
      .toString('utf16le');
  };
  const out = new Map();
  const walk = (i, prefix) => {
    const o = tree + i * node;
    const flags = buf.readUInt16BE(o + 4);
    const name = i ? nameAt(buf.readUInt32BE(o)) : '';
    if (flags & 2) {
      const [count, first] = [buf.readUInt32BE(o + 6), buf.readUInt32BE(o + 10)];
      for (let c = 0; c < count; c++) walk(first + c, `${prefix}${name}/`);
      return;
    }
    const d = data + buf.readUInt32BE(o + 10);
    const raw = buf.subarray(d + 4, d + 4 + buf.readUInt32BE(d));
    if (flags & 4) return;
    out.set(`${prefix}${name}`, flags & 1 ? inflateSync(raw.subarray(4)) : Buffer.from(raw));
  };
  walk(0, '');
  return out;
}

/** The package's rcc files, unpacked from the .deb that `apt-get download` fetches into `work`. */
function packageFiles(work) {
  mkdirSync(work, { recursive: true });
  let deb = readdirSync(work).find((f) => f.startsWith(`${PACKAGE}_`) && f.endsWith('.deb'));
  if (!deb) {
    execFileSync('apt-get', ['download', `${PACKAGE}=${VERSION}`], { cwd: work, stdio: ['ignore', 'ignore', 'pipe'] });
    deb = readdirSync(work).find((f) => f.startsWith(`${PACKAGE}_`) && f.endsWith('.deb'));
  }
  const x = path.join(work, 'x');
  if (!existsSync(path.join(x, RCC.slice(1)))) execFileSync('dpkg-deb', ['-x', path.join(work, deb), x]);
  const sha = createHash('sha256')
    .update(readFileSync(path.join(work, deb)))
    .digest('hex');
  return { dir: path.join(x, RCC.slice(1)), deb, sha };
}

/** The licence line of `name` in its folder's README (GCompris lists author, licence and URL per image). */
function licenceOf(files, folder, name) {
  const readme = files.get(`${A}/${folder}/README`)?.toString('utf8') ?? '';
  const line = readme.split('\n').find((l) => l.includes(name));
  return line ? line.trim() : 'see debian/copyright of gcompris-qt-data (GCompris image collections)';
}

/**
 * The photographs, decoded and capped at 512 px, each once, and only those MobileNetV2 int8 recognises: its top
 * class lies under the true class's synset (monuments and paintings, with no such synset, are all kept).
 */
async function sources(dir, classifier) {
  const sharp = require('sharp');
  const core = require(path.join(ROOT, 'packages', 'core', 'dist', 'index.js'));
  const rccs = new Map();
  const out = [];
  const thumbs = [];
  for (const [rcc, folder, name, cls] of SOURCES) {
    if (!rccs.has(rcc)) rccs.set(rcc, readRcc(readFileSync(path.join(dir, `${rcc}.rcc`))));
    const files = rccs.get(rcc);
    const bytes = files.get(`${A}/${folder}/${name}.webp`);
    if (!bytes) throw new Error(`${rcc}.rcc has no ${folder}/${name}.webp`);
    const img = sharp(bytes).flatten({ background: '#ffffff' }).resize(512, 512, { fit: 'inside', withoutEnlargement: true });
    const jpeg = await img.clone().jpeg({ quality: 90 }).toBuffer();
    const thumb = await sharp(jpeg).greyscale().resize(16, 16, { fit: 'fill' }).raw().toBuffer();
    // The same photograph in two collections (a farm animal also among the words) is kept once.
    if (thumbs.some((t) => t.reduce((s, v, i) => s + Math.abs(v - thumb[i]), 0) / 256 < 6)) continue;
    thumbs.push(thumb);
    const under = RECOGNISED_UNDER[cls] && core.lookupNoun(RECOGNISED_UNDER[cls])[0];
    if (under) {
      const r = await classifier.classifyBytes(jpeg, `${name}.jpg`, { topK: 1 });
      if (!under.classes.includes(r.predictions[0].index)) continue;
    }
    out.push({
      name,
      cls,
      jpeg,
      source: `${PACKAGE}${RCC}/${rcc}.rcc:${A}/${folder}/${name}.webp`,
      license: licenceOf(files, folder, name),
    });
  }
  return out;
}

async function transform(jpeg, kind) {
  const sharp = require('sharp');
  const meta = await sharp(jpeg).metadata();
  if (kind === 'jpeg_q30') return sharp(jpeg).jpeg({ quality: 30 }).toBuffer();
  if (kind === 'resize_50')
    return sharp(jpeg)
      .resize(Math.round(meta.width / 2))
      .jpeg({ quality: 90 })
      .toBuffer();
  if (kind === 'crop_90') {
    const [w, h] = [Math.round(meta.width * 0.9), Math.round(meta.height * 0.9)];
    return sharp(jpeg)
      .extract({ left: Math.round((meta.width - w) / 2), top: Math.round((meta.height - h) / 2), width: w, height: h })
      .jpeg({ quality: 90 })
      .toBuffer();
  }
  return sharp(jpeg).modulate({ brightness: 1.25 }).jpeg({ quality: 90 }).toBuffer();
}

/** Builds the set into `out` (replacing it); returns the truth. */
export async function buildHardSet(out = HARD_DIR, modelPath = MODEL) {
  if (!existsSync(modelPath)) throw new Error(`${modelPath} not found (the set keeps the photographs this model recognises)`);
  const { dir, deb, sha } = packageFiles(path.join(path.dirname(out), 'debs'));
  const rand = rng(SEED);
  const core = require(path.join(ROOT, 'packages', 'core', 'dist', 'index.js'));
  const classifier = await core.Classifier.create({ modelPath });
  let originals;
  try {
    originals = await sources(dir, classifier);
  } finally {
    await classifier.close();
  }
  const used = new Set();
  const fileName = () => {
    for (;;) {
      const n = `IMG_${String(1000 + Math.floor(rand() * 9000))}.jpg`;
      if (!used.has(n)) return used.add(n) && n;
    }
  };
  const tmp = `${out}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  const files = {};
  const noise = [];
  const write = (folder, jpeg, info) => {
    const rel = `${folder}/${fileName()}`;
    mkdirSync(path.join(tmp, 'dataset', folder), { recursive: true });
    writeFileSync(path.join(tmp, 'dataset', rel), jpeg);
    files[rel] = { ...info, folder_class: folder, sha256: createHash('sha256').update(jpeg).digest('hex'), bytes: jpeg.length };
    return rel;
  };
  const placed = new Map();
  const moveOf = new Map();
  for (const m of MOVES) {
    const o = m[1].map((n) => originals.find((x) => x.name === n && x.cls === m[0] && !moveOf.has(x))).find(Boolean);
    if (o) moveOf.set(o, m);
  }
  for (const o of originals) {
    const move = moveOf.get(o);
    o.moved = Boolean(move);
    // Invertebrates have no folder: only those moved into one (out of vocabulary) are in the set.
    if (!move && !HARD_CLASSES.includes(o.cls)) continue;
    const folder = move ? move[2] : o.cls;
    const rel = write(folder, o.jpeg, {
      true_class: o.cls,
      source_package: PACKAGE,
      source_path: o.source,
      license: o.license,
      origin: 'original',
    });
    placed.set(o, rel);
    if (move) noise.push({ file: rel, true_class: o.cls, folder_class: folder, kind: 'moved_original', choice: move[3] });
  }
  const clean = originals.filter((o) => !o.moved && o.cls !== 'invertebrate');
  const pick = () => clean.splice(Math.floor(rand() * clean.length), 1)[0];
  const near = [];
  for (const kind of ['jpeg_q30', 'resize_50', 'crop_90', 'bright_+25', 'jpeg_q30', 'resize_50']) {
    const o = pick();
    const copy = write(o.cls, await transform(o.jpeg, kind), {
      true_class: o.cls,
      source_package: PACKAGE,
      source_path: o.source,
      license: o.license,
      origin: `near_duplicate:${kind}`,
    });
    near.push({ original: placed.get(o), members: [placed.get(o), copy], transforms: { [copy]: kind } });
  }
  const exact = [];
  for (const [copies, other] of [
    [1, false],
    [2, false],
    [1, true],
  ]) {
    const o = pick();
    const members = [placed.get(o)];
    for (let c = 0; c < copies; c++) {
      const folder = other ? HARD_CLASSES.filter((k) => k !== o.cls)[Math.floor(rand() * (HARD_CLASSES.length - 1))] : o.cls;
      const rel = write(folder, o.jpeg, {
        true_class: o.cls,
        source_package: PACKAGE,
        source_path: o.source,
        license: o.license,
        origin: 'exact_duplicate',
      });
      members.push(rel);
      if (other) noise.push({ file: rel, true_class: o.cls, folder_class: folder, kind: 'exact_duplicate_copy' });
    }
    exact.push({ members, sha256: createHash('sha256').update(o.jpeg).digest('hex') });
  }
  const perFolder = {};
  for (const rel of Object.keys(files)) perFolder[rel.split('/')[0]] = (perFolder[rel.split('/')[0]] ?? 0) + 1;
  const truth = {
    version: 1,
    description: `Harder development set for dataset curation (confusable classes, a class with no ImageNet descendant, out-of-vocabulary files, near and exact duplicates), built by scripts/build-curation-hard.mjs from Debian ${PACKAGE} ${VERSION} (${deb}, sha256 ${sha}). Paths are relative to dataset/.`,
    seed: SEED,
    classes: HARD_CLASSES,
    confusable_pairs: [
      ['bird', 'mammal'],
      ['fish', 'mammal'],
      ['monument', 'painting'],
    ],
    no_imagenet_descendant: ['painting'],
    counts: { files: Object.keys(files).length, originals: originals.length, per_folder: perFolder, label_noise: noise.length },
    label_noise: noise.sort((a, b) => a.file.localeCompare(b.file)),
    out_of_vocabulary: noise.filter((n) => n.kind === 'moved_original' && n.true_class === 'invertebrate').map((n) => n.file),
    near_duplicate_groups: near,
    exact_duplicate_groups: exact,
    files,
  };
  writeFileSync(path.join(tmp, 'truth.json'), `${JSON.stringify(truth, null, 1)}\n`);
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
  return truth;
}

/**
 * The set's root and truth, built when absent; { skip } with the reason when the Debian package or the model
 * (../shared/models) cannot be had.
 */
export async function ensureHardSet(out = HARD_DIR) {
  const truthFile = path.join(out, 'truth.json');
  try {
    if (!existsSync(truthFile)) await buildHardSet(out);
  } catch (e) {
    return {
      skip: `the harder dev set could not be built (${PACKAGE} ${VERSION} via apt-get download, MobileNetV2 int8): ${e.message.split('\n')[0]}`,
    };
  }
  return { root: path.join(out, 'dataset'), truth: JSON.parse(readFileSync(truthFile, 'utf8')) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out');
  const out = at > 0 ? path.resolve(process.argv[at + 1]) : HARD_DIR;
  if (process.argv.includes('--force')) rmSync(path.join(out, 'truth.json'), { force: true });
  const r = await ensureHardSet(out);
  if (r.skip) {
    console.error(`!!! ${r.skip}`);
    process.exit(3);
  }
  console.log(`${r.root}: ${JSON.stringify(r.truth.counts)}`);
}
