/**
 * The WordNet hierarchy above ImageNet's classes (hierarchy.ts, wordnet-table.json) and the semantic opinion
 * (semantic.ts): folder names to synsets, mass under a synset, and the mixture weight learned from the labels.
 */
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import {
  closeNouns,
  fitMixture,
  HIERARCHY_CLASSES,
  hierarchyApplies,
  IMAGENET_LABELS,
  isBelow,
  lookupNoun,
  massUnder,
  semanticOpinion,
  type SemanticView,
} from '../src/index.js';

const ids = (name: string) => lookupNoun(name).map((c) => c.id);
const outputOf = (label: string) => IMAGENET_LABELS.labels.findIndex((l) => l.split(',')[0] === label);

describe('WordNet hierarchy of the ImageNet classes', () => {
  test('the table covers the 1000 classes in the model order', () => {
    assert.equal(HIERARCHY_CLASSES, 1000);
    assert.ok(hierarchyApplies(IMAGENET_LABELS));
    assert.ok(!hierarchyApplies({ source: 'x', labels: ['a', 'b'] }));
  });

  test('folder names: plurals (rules and exceptions), case, _ - and space variants, camelCase, multi-word', () => {
    assert.deepEqual(ids('fruit')[0], 'n13134947');
    assert.deepEqual(ids('Fruits')[0], 'n13134947');
    assert.equal(ids('vegetables')[0], 'n07707451');
    assert.equal(ids('Birds')[0], 'n01503061');
    assert.equal(ids('musical_instruments')[0], 'n03800933');
    assert.equal(ids('Musical-Instruments')[0], 'n03800933');
    assert.equal(ids('musical instrument')[0], 'n03800933');
    assert.equal(ids('MusicalInstruments')[0], 'n03800933');
    assert.ok(ids('cars').includes('n02958343'), 'cars → car (motorcar)');
    assert.ok(ids('geese').length > 0, 'geese → goose (noun.exc)');
    assert.ok(ids('dogs').includes('n02084071'));
    assert.deepEqual(ids('windmill'), [], 'no ImageNet class lies under windmill');
    assert.deepEqual(ids(''), []);
  });

  test('descendants: strawberry is a fruit, bolete is not; a synset holds its classes', () => {
    const fruit = lookupNoun('fruit')[0]!;
    const strawberry = outputOf('strawberry');
    const bolete = outputOf('bolete');
    assert.ok(fruit.classes.includes(strawberry));
    assert.ok(!fruit.classes.includes(bolete));
    assert.ok(lookupNoun('fungus')[0]!.classes.includes(bolete));
    assert.ok(isBelow(lookupNoun('dog')[0]!.node, lookupNoun('mammal')[0]!.node));
    const p = new Float32Array(1000);
    p[strawberry] = 0.7;
    p[bolete] = 0.3;
    assert.ok(Math.abs(massUnder(p, fruit) - 0.7) < 1e-6);
  });

  test('close matches for a noun not in the hierarchy', () => {
    const near = closeNouns('vegtable');
    assert.ok(near.includes('vegetable'), near.join(', '));
  });
});

describe('semantic opinion', () => {
  const view = (mass: number[], agreement: number[]): SemanticView => ({
    folders: agreement.map((a, k) =>
      a >= 0
        ? { concept: lookupNoun(k ? 'vegetable' : 'fruit')[0]!, senses: 1, agreement: a, floor: 0 }
        : { senses: 0, agreement: 0, floor: 0 },
    ),
    mass: Float64Array.from(mass),
    floor: new Float64Array(agreement.length),
    probs: [],
  });

  test('mass under no folder synset goes to the classes whose files lie outside their synset (a class without one)', () => {
    // Two classes: fruit (agreement 0.9) and windmill (no synset). A file with no fruit mass: all to windmill.
    const v = view([0, 0, 0.95, 0], [0.9, -1]);
    const base = Float32Array.from([0.5, 0.5, 0.5, 0.5]);
    const q = semanticOpinion(base, v);
    // fruit keeps its 1 − agreement share of the uncovered mass: 0.1 × 0.5 against windmill's 1 × 0.5.
    assert.ok(Math.abs(q[1]! - 1 / 1.1) < 1e-6, `row 0 → windmill ${q[1]}`);
    assert.ok(q[2]! > 0.9, `row 1 → fruit ${q[2]}`);
  });

  test('the mixture weight follows the labels: 0 when the mass contradicts them, high when it agrees', () => {
    const base = Float32Array.from([0.6, 0.4, 0.4, 0.6, 0.6, 0.4, 0.4, 0.6]);
    const agree = Float32Array.from([0.99, 0.01, 0.01, 0.99, 0.99, 0.01, 0.01, 0.99]);
    const y = Int32Array.from([0, 1, 0, 1]);
    const rows = [0, 1, 2, 3];
    assert.equal(fitMixture(base, Float32Array.from([0.01, 0.99, 0.99, 0.01, 0.01, 0.99, 0.99, 0.01]), y, rows, 2), 0);
    assert.ok(fitMixture(base, agree, Int32Array.from([0, 1, 0, 1]), rows, 2) >= 0.9);
  });
});
