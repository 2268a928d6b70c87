/**
 * `image-classifier curate <root> [--checks …] [--format text|json|csv] [--out <file>]`: dataset curation (core's
 * `curateDataset`) with a progress line on stderr. stdout gets the text summary on a terminal and the JSON report
 * when piped; `--out` writes the report to a file (CSV when it ends in .csv, JSON otherwise) and keeps the summary
 * on stdout. Exit codes as classify: 0 every image analysed, 1 some image unreadable, 2 usage or model error.
 */
import { promises as fs } from 'node:fs';
import { curateDataset } from '@image-classifier/core';
import { CURATION_CHECKS, type CurationCheck, type CurationReport } from '@image-classifier/protocol';
import { EXIT_OK, EXIT_SOME_FAILED, type Io, intOption, parseCommand, UsageError } from './common.js';
import { curateCsv, curateText } from './curate-format.js';
import { MODEL_OPTIONS, withEmbeddingModel } from './model-options.js';
import { findCommand } from './find.js';
import { similarCommand } from './similar.js';

export const CURATE_OPTIONS = {
  ...MODEL_OPTIONS,
  checks: { type: 'string' },
  out: { type: 'string', short: 'o' },
  neighbours: { type: 'string' },
  top: { type: 'string' },
} as const;

type Format = 'text' | 'json' | 'csv';

export function parseChecks(v: string | undefined): CurationCheck[] {
  if (!v) return [...CURATION_CHECKS];
  const list = v
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean)
    .map((s) => (s === 'labels' ? 'label' : s === 'duplicate' ? 'duplicates' : s));
  const bad = list.filter((s) => !(CURATION_CHECKS as readonly string[]).includes(s));
  if (bad.length || !list.length)
    throw new UsageError(`--checks takes a comma-separated list of ${CURATION_CHECKS.join(', ')} (got '${v}').`);
  return list as CurationCheck[];
}

function render(report: CurationReport, format: Format, top: number): string {
  if (format === 'json') return `${JSON.stringify(report, null, 1)}\n`;
  if (format === 'csv') return curateCsv(report);
  return curateText(report, top);
}

function formats(values: { format?: string | undefined; out?: string | undefined }, io: Io): { stdout: Format; file?: Format } {
  const f = values.format;
  if (f !== undefined && !['text', 'json', 'csv'].includes(f)) throw new UsageError(`--format must be text, json or csv (got '${f}').`);
  const file: Format | undefined = values.out ? (values.out.toLowerCase().endsWith('.csv') ? 'csv' : 'json') : undefined;
  const stdout = (f ?? (values.out || io.stdout.isTTY ? 'text' : 'json')) as Format;
  return { stdout, ...(file ? { file } : {}) };
}

export async function curateCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(args, CURATE_OPTIONS);
  if (positionals.length !== 1)
    throw new UsageError('curate takes one dataset folder (<root>/<class>/<image>, optionally under train/ val/ test/).');
  const checks = parseChecks(values.checks);
  const fmt = formats(values, io);
  const neighbours = intOption(values.neighbours, '--neighbours', 1);
  const top = intOption(values.top, '--top', 1) ?? 10;
  const report = await withEmbeddingModel(values, io, ({ classifier, line, progress }) =>
    curateDataset(positionals[0]!, classifier, {
      checks,
      ...(neighbours ? { neighbours } : {}),
      onProgress: progress,
      onAnalyse: (n) => line.draw(`Analysing ${n} images (labels, duplicates, outliers, quality)…`),
    }),
  );
  if (typeof report === 'number') return report;
  if (values.out && fmt.file) {
    await fs.writeFile(values.out, render(report, fmt.file, top));
  }
  io.stdout.write(render(report, fmt.stdout, top));
  if (values.out) io.stderr.write(`Report written to ${values.out}\n`);
  return report.counts.unreadable > 0 ? EXIT_SOME_FAILED : EXIT_OK;
}

export const CURATE_USAGE = `Usage:
  image-classifier curate <root> [options]      find label issues, duplicates, leakage, outliers, quality issues
  image-classifier similar <image> --in <root> [-k 10] [--format text|json]
  image-classifier find <noun> --in <root> [--top 20] [--format text|json]
                                                rank images by the model's probability under a WordNet noun
                                                (vehicle, dog, fruit; plurals and multi-word names work)

<root> holds <class>/<image> files, optionally under train/ val/ valid/ validation/ test/; a flat folder gets
duplicates, outliers, quality and the model's own labels. The model must have an embedding (MobileNetV2, ResNet50).

Curate options (and the model options of classify: --model, --threads, --batch, …):
  --checks <list>          any of ${CURATION_CHECKS.join(',')} (default: all)
  --format text|json|csv   stdout: text on a terminal, the JSON report (version 1) when piped
  --out, -o <file>         write the report to <file> (CSV if it ends in .csv, else JSON); the summary stays on stdout
  --neighbours <k>         k of the kNN vote and the outlier score (default 10)
  --top <n>                examples per section in the text summary (default 10)
  --no-progress            no progress bar on stderr

Exit codes: 0 every image analysed, 1 some image unreadable (listed in the report), 2 usage or model error.
`;

/** The curate, similar and find commands for cli.ts's dispatch; undefined for other commands. */
export function curationCommand(command: string | undefined, args: string[], io: Io): Promise<number> | undefined {
  if (command !== 'curate' && command !== 'similar' && command !== 'find') return undefined;
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(CURATE_USAGE);
    return Promise.resolve(EXIT_OK);
  }
  return command === 'curate' ? curateCommand(args, io) : command === 'find' ? findCommand(args, io) : similarCommand(args, io);
}
