/**
 * `image-classifier model export-triton <repository> [--model …] [--name resnet50] [--max-batch 64]`: writes a
 * Triton model repository entry for a model — `<repository>/<name>/1/model.onnx`, the model with its embedding
 * (the classifier layer's input) as a second graph output named `embedding`, and `<repository>/<name>/config.pbtxt`
 * (ONNX Runtime backend, dynamic batching, both outputs). The same file serves Triton with GPUs, KServe's Triton
 * runtime, and deploy/pytriton/serve.py.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Classifier, ClassifierError, inspectOnnx, withEmbeddingOutput } from '@image-classifier/core';
import { EXIT_OK, failWith, type Io, intOption, parseCommand, UsageError } from './common.js';
import { buildClassifierOptions, MODEL_OPTIONS } from './model-options.js';

export const EXPORT_OPTIONS = {
  ...MODEL_OPTIONS,
  name: { type: 'string' },
  'max-batch': { type: 'string' },
  'instance-kind': { type: 'string' },
} as const;

export interface TritonConfig {
  name: string;
  maxBatch: number;
  input: { name: string; dims: number[] };
  outputs: Array<{ name: string; dims: number[] }>;
  /** KIND_GPU on a GPU server, KIND_CPU elsewhere. */
  kind: 'KIND_GPU' | 'KIND_CPU';
}

/** The config.pbtxt text for a model (Triton's protobuf text format). */
export function tritonConfigText(c: TritonConfig): string {
  const tensor = (t: { name: string; dims: number[] }) =>
    `  {\n    name: "${t.name}"\n    data_type: TYPE_FP32\n    dims: [ ${t.dims.join(', ')} ]\n  }`;
  return [
    `name: "${c.name}"`,
    'backend: "onnxruntime"',
    `max_batch_size: ${c.maxBatch}`,
    `input [\n${tensor(c.input)}\n]`,
    `output [\n${c.outputs.map(tensor).join(',\n')}\n]`,
    '# Requests from every client are batched together, waiting at most 2 ms for a fuller batch.',
    `dynamic_batching {\n  max_queue_delay_microseconds: 2000\n}`,
    `instance_group [\n  {\n    count: 1\n    kind: ${c.kind}\n  }\n]`,
    'version_policy: { latest: { num_versions: 1 } }',
    '',
  ].join('\n');
}

export async function modelExportCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(args, EXPORT_OPTIONS);
  if (positionals.length !== 1) throw new UsageError('model export-triton needs one argument: the model repository folder.');
  const name = values.name ?? 'resnet50';
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new UsageError(`--name must be letters, digits, '.', '_' or '-' (got '${name}').`);
  const maxBatch = intOption(values['max-batch'], '--max-batch', 1, 4096) ?? 64;
  const kind = values['instance-kind'] ?? 'gpu';
  if (kind !== 'gpu' && kind !== 'cpu') throw new UsageError(`--instance-kind must be gpu or cpu (got '${kind}').`);
  const repo = path.resolve(positionals[0]!);
  try {
    const opts = await buildClassifierOptions(values, io, Boolean(io.stderr.isTTY) && !values['no-progress']);
    const c = await Classifier.create({ ...opts, worker: false, preprocessWorkers: 0 });
    const info = c.info;
    await c.close();
    if (!info.dynamicBatch)
      throw new ClassifierError(
        'INVALID_ARGUMENT',
        `${info.name} has a fixed batch of ${info.maxBatch}; Triton's dynamic batching needs a dynamic batch dimension.`,
      );
    const bytes = readFileSync(opts.modelPath);
    const emb = inspectOnnx(bytes).embedding;
    const out = emb && info.embedding ? withEmbeddingOutput(bytes, emb, 'embedding') : bytes;
    const dims = info.inputShape.slice(1).map(Number);
    const config = tritonConfigText({
      name,
      maxBatch,
      input: { name: info.inputName, dims },
      outputs: [
        { name: info.outputName, dims: [info.classes] },
        ...(info.embedding ? [{ name: 'embedding', dims: [info.embedding.dims] }] : []),
      ],
      kind: kind === 'gpu' ? 'KIND_GPU' : 'KIND_CPU',
    });
    const dir = path.join(repo, name);
    mkdirSync(path.join(dir, '1'), { recursive: true });
    const file = path.join(dir, '1', 'model.onnx');
    writeFileSync(`${file}.partial`, out);
    renameSync(`${file}.partial`, file);
    writeFileSync(path.join(dir, 'config.pbtxt'), config);
    io.stdout.write(
      `Wrote ${file} (${(out.length / 1e6).toFixed(1)} MB; outputs ${info.outputName} [${info.classes}]${info.embedding ? `, embedding [${info.embedding.dims}]` : ', no embedding'})\nWrote ${path.join(dir, 'config.pbtxt')}\n`,
    );
    return EXIT_OK;
  } catch (e) {
    return failWith(io, e, 'MODEL_LOAD_FAILED');
  }
}
