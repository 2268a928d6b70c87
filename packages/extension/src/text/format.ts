/**
 * Formatting helpers: percentages, the one-line label summary used by tooltips, the Explorer badge, display names,
 * CSV/JSON export.
 */
import { csvField } from '@image-classifier/protocol/csv';
import type { Prediction } from '@image-classifier/protocol';

export function percent(p: number): string {
  if (!Number.isFinite(p)) return '?';
  if (p > 0 && p < 0.001) return '<0.1%';
  return `${(p * 100).toFixed(1)}%`;
}

/** `tabby, tabby cat 92.2% · tiger cat 4.1% · Egyptian cat 2.0%` */
export function labelLine(predictions: readonly Prediction[], n = 3): string {
  return predictions
    .slice(0, n)
    .map((p) => `${p.label} ${percent(p.probability)}`)
    .join(' · ');
}

/** The label's first synonym: `tabby, tabby cat` → `tabby`. */
export function shortLabel(label: string): string {
  return label.split(',')[0]!.trim() || label;
}

/**
 * A badge of at most two characters for the Explorer: initials of the label's first synonym
 * (`Egyptian cat` → `EC`, `espresso` → `Es`).
 */
export function badgeFor(label: string): string {
  const words = shortLabel(label)
    .split(/[\s\-_]+/)
    .filter((w) => /[\p{L}\p{N}]/u.test(w));
  if (words.length === 0) return '?';
  const chars = (s: string) => Array.from(s.replace(/[^\p{L}\p{N}]/gu, ''));
  if (words.length >= 2) {
    const a = chars(words[0]!)[0] ?? '';
    const b = chars(words[1]!)[0] ?? '';
    return (a.toUpperCase() + b.toUpperCase()).slice(0, 2) || '?';
  }
  const c = chars(words[0]!);
  return (c[0] ?? '').toUpperCase() + (c[1] ?? '').toLowerCase() || '?';
}

/** `resnet50-v1-12` → `ResNet50`, `mobilenetv2-12-int8` → `MobileNetV2`, others as they are. */
export function modelDisplayName(name: string | undefined): string {
  if (!name) return 'model';
  const base = name.replace(/^.*[\\/]/, '').replace(/\.onnx$/i, '');
  const known: Array<[RegExp, string]> = [
    [/resnet-?50/i, 'ResNet50'],
    [/resnet-?18/i, 'ResNet18'],
    [/resnet-?101/i, 'ResNet101'],
    [/mobilenet-?v2/i, 'MobileNetV2'],
    [/mobilenet-?v3/i, 'MobileNetV3'],
    [/efficientnet[-_]?(b\d|lite\d)?/i, 'EfficientNet'],
    [/squeezenet/i, 'SqueezeNet'],
    [/vgg-?16/i, 'VGG16'],
  ];
  for (const [re, display] of known) if (re.test(base)) return display;
  return base;
}

export function providerDisplayName(provider: string | undefined): string {
  if (!provider) return 'CPU';
  const p = provider.toLowerCase().replace(/executionprovider$/, '');
  const map: Record<string, string> = {
    cpu: 'CPU',
    cuda: 'CUDA',
    tensorrt: 'TensorRT',
    dml: 'DirectML',
    coreml: 'CoreML',
    webgpu: 'WebGPU',
  };
  return map[p] ?? provider;
}

export interface ExportRow {
  path: string;
  predictions: readonly Prediction[];
  model?: string;
}

/** One row per image: path, then label/probability/index for each of the top-k. */
export function toCsv(rows: readonly ExportRow[]): string {
  const k = rows.reduce((m, r) => Math.max(m, r.predictions.length), 0);
  const header = ['path', 'model'];
  for (let i = 1; i <= k; i++) header.push(`label${i}`, `probability${i}`, `index${i}`);
  const lines = [header.join(',')];
  for (const r of rows) {
    const f = [csvField(r.path), csvField(r.model ?? '')];
    for (let i = 0; i < k; i++) {
      const p = r.predictions[i];
      f.push(p ? csvField(p.label) : '', p ? p.probability.toFixed(6) : '', p ? String(p.index) : '');
    }
    lines.push(f.join(','));
  }
  return lines.join('\n') + '\n';
}

export function toJson(rows: readonly ExportRow[]): string {
  return (
    JSON.stringify(
      rows.map((r) => ({ path: r.path, model: r.model, predictions: r.predictions })),
      null,
      2,
    ) + '\n'
  );
}
