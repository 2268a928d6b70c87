/**
 * Curation's reads against a hostile dataset (issue 17 points 2, 4–7; issue 18 point 4), through the built CLI
 * (`image-classifier curate`, a child process) and the real server (a child process over JSON-RPC), with
 * MobileNetV2 int8 from ../shared: FIFOs and devices with image names, symbolic links out of the dataset folder (to
 * files, to folders, to `/etc`), a name that is not valid UTF-8, files the user cannot read, empty and text files
 * with image names, names with terminal escapes and spreadsheet formulas, and one file of every format in
 * ../shared/formats. Run `npm run build` first.
 */
import { strict as assert } from 'node:assert';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type DatasetEntry, extractAll } from '@image-classifier/core';
import { csvField } from '@image-classifier/protocol/csv';
import { ClassifyRequest, CurateRequest, type CurateResult, type CurationReport } from '@image-classifier/protocol';
import { FIXTURE_IMAGES, SKIP_NO_SHARED, sharedDir } from '../../../test-fixtures/fixtures.js';
import { BIN, MOBILENET_INT8, type ServerHandle, startReadyServer, uri } from './server-client.js';

const shared = sharedDir();
const CAT = path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg');
const COFFEE = path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg');
/** A name's bytes that are not valid UTF-8: `café.jpg` in Latin-1. */
const LATIN1_NAME = Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from('.jpg')]);
const CLI_TIMEOUT_MS = 60_000;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Killed at the timeout (a hang). */
  timedOut: boolean;
}

let cacheDir = '';

function cli(args: string[], o: { uid?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        env: { ...process.env, IMAGE_CLASSIFIER_CACHE_DIR: cacheDir },
        maxBuffer: 64 << 20,
        timeout: CLI_TIMEOUT_MS,
        killSignal: 'SIGKILL',
        ...(o.uid !== undefined ? { uid: o.uid, gid: o.uid } : {}),
      },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; killed?: boolean }) | null;
        const code = e ? (typeof e.code === 'number' ? e.code : 1) : 0;
        resolve({ code, stdout, stderr, timedOut: Boolean(e?.killed) });
      },
    );
  });
}

/** `curate <root> --format json`: the report, after checking the run ended by itself. */
async function curateJson(root: string, extra: string[] = [], o: { uid?: number } = {}): Promise<{ r: CliResult; report: CurationReport }> {
  const r = await cli(['curate', root, '--model', MOBILENET_INT8, '--format', 'json', '--no-progress', ...extra], o);
  assert.equal(r.timedOut, false, `curate did not finish within ${CLI_TIMEOUT_MS / 1000} s (a hang)`);
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
  return { r, report: JSON.parse(r.stdout) as CurationReport };
}

/** file → the code of its `unreadable` issue ('' when it was read). */
function codes(report: Pick<CurationReport, 'files'>): Map<string, string> {
  return new Map(
    report.files.map((f) => {
      const u = f.issues.find((i) => i.type === 'unreadable');
      return [f.file, u ? (u.detail ?? '').split(':')[0]! : ''];
    }),
  );
}

function done(r: CurateResult): CurationReport {
  assert.equal(r.cancelled, false);
  return r as CurationReport;
}

/** Two readable photos in class folders, so that every dataset below has something to analyse. */
function photos(root: string): void {
  mkdirSync(path.join(root, 'cat'), { recursive: true });
  mkdirSync(path.join(root, 'coffee'), { recursive: true });
  cpSync(CAT, path.join(root, 'cat', 'a.jpg'));
  cpSync(COFFEE, path.join(root, 'coffee', 'b.jpg'));
}

describe('curation faults: reads (CLI and server)', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  let work: string;
  let ws: string;
  let outside: string;
  const ds: Record<string, string> = {};
  let srv: ServerHandle | undefined;
  /** The codes the CLI gave the 17.6 dataset, for the server's test to compare. */
  let cliCodes: Map<string, string> | undefined;

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'ic-curation-faults-'));
    chmodSync(work, 0o755);
    cacheDir = path.join(work, 'cli-cache');
    mkdirSync(cacheDir, { mode: 0o777 });
    chmodSync(cacheDir, 0o777);
    ws = path.join(work, 'ws');
    // Outside every dataset (inside the server's workspace): a photo and a folder of photos that must not be read.
    outside = path.join(ws, 'outside');
    mkdirSync(path.join(outside, 'more'), { recursive: true });
    cpSync(CAT, path.join(outside, 'secret.jpg'));
    cpSync(COFFEE, path.join(outside, 'more', 'private-photo.jpg'));

    // 17.2: special files and links to files outside the root.
    ds.special = path.join(ws, 'special');
    photos(ds.special);
    execFileSync('mkfifo', [path.join(ds.special, 'cat', 'fifo.jpg')]);
    symlinkSync('/dev/zero', path.join(ds.special, 'cat', 'zero.jpg'));
    symlinkSync(path.join(outside, 'secret.jpg'), path.join(ds.special, 'coffee', 'exfil.jpg'));
    symlinkSync('/etc/passwd', path.join(ds.special, 'coffee', 'passwd.png'));
    // A link that stays inside the root is a file of the dataset.
    symlinkSync('../cat/a.jpg', path.join(ds.special, 'coffee', 'inside-link.jpg'));

    // 17.4: symlinked folders that leave the root.
    ds.folders = path.join(ws, 'folders');
    photos(ds.folders);
    symlinkSync('/etc', path.join(ds.folders, 'etc'));
    symlinkSync(path.join(outside, 'more'), path.join(ds.folders, 'cat', 'more'));

    // 17.5: a valid photo whose name is not valid UTF-8.
    ds.latin1 = path.join(ws, 'latin1');
    photos(ds.latin1);
    writeFileSync(Buffer.concat([Buffer.from(path.join(ds.latin1, 'coffee')), Buffer.from(path.sep), LATIN1_NAME]), readFileSync(COFFEE));

    // 17.6: unreadable for each reason.
    ds.codes = path.join(ws, 'codes');
    photos(ds.codes);
    writeFileSync(path.join(ds.codes, 'cat', 'denied.jpg'), readFileSync(CAT));
    chmodSync(path.join(ds.codes, 'cat', 'denied.jpg'), 0o000);
    writeFileSync(path.join(ds.codes, 'cat', 'empty.jpg'), '');
    writeFileSync(path.join(ds.codes, 'cat', 'notes.jpg'), 'not an image, a text file with an image name\n');

    // 17.7: names with terminal escapes and spreadsheet formulas.
    ds.names = path.join(ws, 'names');
    photos(ds.names);
    cpSync(CAT, path.join(ds.names, 'cat', 'x\u001b]0;pwned\u0007\u001b[2J\nFAKE LINE.jpg'));
    cpSync(COFFEE, path.join(ds.names, '=1+2.jpg'));
    mkdirSync(path.join(ds.names, '@cmd'));
    cpSync(COFFEE, path.join(ds.names, '@cmd', '-2+3.jpg'));

    // 18.4: one file of every format in ../shared/formats.
    ds.formats = path.join(ws, 'formats');
    mkdirSync(path.join(ds.formats, 'all'), { recursive: true });
    for (const f of readdirSync(path.join(shared!, 'formats', 'images')))
      cpSync(path.join(shared!, 'formats', 'images', f), path.join(ds.formats, 'all', f));

    for (const d of [work, ws, ...Object.values(ds)]) chmodSync(d, 0o755);
    execFileSync('chmod', ['-R', 'a+rX', ws]);
    chmodSync(path.join(ds.codes, 'cat', 'denied.jpg'), 0o000);
  });

  after(async () => {
    await srv?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  async function server(): Promise<ServerHandle> {
    srv ??= await startReadyServer({ cacheDir: path.join(work, 'server-cache'), roots: [ws] });
    return srv;
  }

  // ---- 17.2 ----------------------------------------------------------------------------------------------------

  test('17.2 CLI: a FIFO named x.jpg and a link to /dev/zero are NOT_A_FILE (no hang), links to files outside are skipped, unread', async () => {
    const { r, report } = await curateJson(ds.special);
    assert.equal(r.code, 1, 'some files unreadable');
    const c = codes(report);
    assert.equal(c.get('cat/fifo.jpg'), 'NOT_A_FILE');
    assert.equal(c.get('cat/zero.jpg'), 'NOT_A_FILE');
    assert.equal(c.get('cat/a.jpg'), '');
    assert.equal(c.get('coffee/inside-link.jpg'), '', 'a link that stays inside the root is read');
    for (const f of ['coffee/exfil.jpg', 'coffee/passwd.png']) {
      assert.ok(!c.has(f), `${f} is not analysed`);
      const s = report.skipped.find((x) => x.file === f);
      assert.ok(
        s && /outside the dataset folder/.test(s.reason),
        `${f} is listed as skipped with the reason: ${JSON.stringify(report.skipped)}`,
      );
    }
    assert.doesNotMatch(r.stdout, /secret|root:x:0/);
  });

  test('17.2 server: the same dataset, the same answers', async () => {
    const s = await server();
    const report = done(await s.conn.sendRequest(CurateRequest.type, { root: uri(ds.special) }));
    const c = codes(report);
    assert.equal(c.get('cat/fifo.jpg'), 'NOT_A_FILE');
    assert.equal(c.get('cat/zero.jpg'), 'NOT_A_FILE');
    assert.equal(c.get('coffee/inside-link.jpg'), '');
    // Inside the server's workspace, but outside the dataset: not read all the same.
    assert.ok(!c.has('coffee/exfil.jpg'), 'a link to a file outside the dataset folder is not analysed');
    assert.ok(report.skipped.some((x) => x.file === 'coffee/exfil.jpg' && /outside the dataset folder/.test(x.reason)));
  });

  // ---- 17.4 ----------------------------------------------------------------------------------------------------

  test('17.4 CLI: symlinked folders that leave the root (/etc, a folder beside the dataset) are skipped with the reason, never walked', async () => {
    const { r, report } = await curateJson(ds.folders);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      report.files.map((f) => f.file),
      ['cat/a.jpg', 'coffee/b.jpg'],
    );
    assert.deepEqual(
      report.skipped.map((s) => s.file),
      ['cat/more', 'etc'],
    );
    for (const s of report.skipped) assert.match(s.reason, /symbolic link to a folder outside the dataset folder: not walked/);
    assert.doesNotMatch(r.stdout, /private-photo|passwd|hostname/);
  });

  test('17.4 server: the same folders are skipped, no outside name in the report', async () => {
    const s = await server();
    const report = done(await s.conn.sendRequest(CurateRequest.type, { root: uri(ds.folders) }));
    assert.deepEqual(
      report.files.map((f) => f.file),
      ['cat/a.jpg', 'coffee/b.jpg'],
    );
    assert.deepEqual(
      report.skipped.map((x) => x.file),
      ['cat/more', 'etc'],
    );
    assert.doesNotMatch(JSON.stringify(report), /private-photo|passwd/);
  });

  // ---- 17.5 ----------------------------------------------------------------------------------------------------

  test('17.5 CLI: a photo whose name is not valid UTF-8 is read by its bytes and shown escaped', async () => {
    const { r, report } = await curateJson(ds.latin1);
    assert.equal(r.code, 0, r.stderr);
    const c = codes(report);
    assert.equal(c.get('coffee/caf\\xE9.jpg'), '', `read and analysed: ${JSON.stringify([...c])}`);
    assert.equal(report.counts.analysed, 3);
    assert.ok(!JSON.stringify(report).includes('\ufffd'), 'no U+FFFD in the report');
  });

  test('17.5 server: the same photo is curated', async () => {
    const s = await server();
    const report = done(await s.conn.sendRequest(CurateRequest.type, { root: uri(ds.latin1) }));
    assert.equal(codes(report).get('coffee/caf\\xE9.jpg'), '');
    assert.equal(report.counts.analysed, 3);
  });

  // ---- 17.6 ----------------------------------------------------------------------------------------------------

  test('17.6 CLI: permission denied, empty and text files get READ_FAILED, EMPTY_FILE, UNSUPPORTED_FORMAT (not DECODE_FAILED)', async () => {
    // As root a mode of 000 does not stop a read: the CLI then runs as `nobody`.
    const asNobody = process.getuid?.() === 0 ? { uid: 65534 } : {};
    const { r, report } = await curateJson(ds.codes, [], asNobody);
    assert.equal(r.code, 1);
    const c = codes(report);
    cliCodes = c;
    assert.equal(c.get('cat/denied.jpg'), 'READ_FAILED');
    assert.equal(c.get('cat/empty.jpg'), 'EMPTY_FILE');
    assert.equal(c.get('cat/notes.jpg'), 'UNSUPPORTED_FORMAT');
    assert.equal(c.get('cat/a.jpg'), '');
    const denied = report.files.find((f) => f.file === 'cat/denied.jpg')!.issues.find((i) => i.type === 'unreadable')!;
    assert.match(denied.detail ?? '', /permission denied/);
  });

  test('17.6 server: the same codes as the CLI, from the same mapping', async () => {
    const s = await server();
    const report = done(await s.conn.sendRequest(CurateRequest.type, { root: uri(ds.codes) }));
    const c = codes(report);
    assert.equal(c.get('cat/empty.jpg'), 'EMPTY_FILE');
    assert.equal(c.get('cat/notes.jpg'), 'UNSUPPORTED_FORMAT');
    assert.ok(cliCodes, 'the CLI test ran first');
    for (const f of ['cat/a.jpg', 'cat/empty.jpg', 'cat/notes.jpg', 'coffee/b.jpg'])
      assert.equal(c.get(f), cliCodes.get(f), `${f}: the server and the CLI agree`);
    // The server runs as root here when the tests do: then the file is readable to it.
    if (process.getuid?.() !== 0) assert.equal(c.get('cat/denied.jpg'), 'READ_FAILED');
  });

  test('17.6 core (the CLI extraction): a file gone between the scan and the read is FILE_NOT_FOUND, not DECODE_FAILED', async () => {
    const gone: DatasetEntry = { path: path.join(work, 'no-such-dir', 'gone.jpg'), file: 'cat/gone.jpg', label: 'cat' };
    const engine = { maxBatch: 1 } as unknown as Parameters<typeof extractAll>[0];
    const [x] = await extractAll(engine, [gone]);
    assert.equal(x?.error?.code, 'FILE_NOT_FOUND', JSON.stringify(x?.error));
  });

  // ---- 17.7 ----------------------------------------------------------------------------------------------------

  test('17.7 CLI: --format text escapes ESC, BEL and line breaks in names; the CSV report guards formulas', async () => {
    const out = path.join(work, 'names-report.csv');
    const r = await cli(['curate', ds.names, '--model', MOBILENET_INT8, '--format', 'text', '--out', out, '--no-progress', '--top', '50']);
    assert.equal(r.timedOut, false);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /[\u001b\u0007]/, 'no raw ESC or BEL on the terminal');
    assert.ok(!r.stdout.split('\n').some((l) => l.startsWith('FAKE LINE')), 'a name cannot forge a line');
    const csv = readFileSync(out, 'utf8');
    const lines = csv.trim().split('\n');
    assert.equal(lines[0], 'file,label,split,label_quality,suggested_label,predicted,issue,score,detail');
    assert.ok(
      lines.some((l) => l.startsWith(`"'=1+2.jpg",`)),
      `=1+2.jpg guarded:\n${csv}`,
    );
    assert.ok(
      lines.some((l) => l.startsWith(`"'@cmd/-2+3.jpg","'@cmd",`)),
      `@cmd guarded:\n${csv}`,
    );
    assert.ok(!lines.some((l) => /(^|,)[=+\-@]/.test(l)), `no cell starts with a formula character:\n${csv}`);
  });

  test('17.7 every CSV writer shares one field rule: formula starts guarded, numbers and plain text untouched', () => {
    assert.equal(csvField('=1+2.jpg'), `"'=1+2.jpg"`);
    assert.equal(csvField('+1'), `"'+1"`);
    assert.equal(csvField('-x'), `"'-x"`);
    assert.equal(csvField('@SUM(A1)'), `"'@SUM(A1)"`);
    assert.equal(csvField('\tx'), `"'\tx"`);
    assert.equal(csvField('\rx'), `"'\rx"`);
    assert.equal(csvField('=HYPERLINK("http://x","y")'), `"'=HYPERLINK(""http://x"",""y"")"`);
    assert.equal(csvField(-0.5), '-0.5');
    assert.equal(csvField('cat/a.jpg'), 'cat/a.jpg');
  });

  // ---- 18.4 ----------------------------------------------------------------------------------------------------

  test('18.4 CLI: curate reads every format classify reads (../shared/formats), and refuses the others with classify’s code', async () => {
    const cls = await cli(['classify', path.join(ds.formats, 'all'), '--model', MOBILENET_INT8, '--format', 'jsonl', '--no-progress']);
    const classify = new Map(
      cls.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { file: string; error?: { code: string } })
        .map((x) => [`all/${path.basename(x.file)}`, x.error?.code ?? ''] as const),
    );
    assert.equal(classify.size, 10, cls.stderr);
    assert.equal(classify.get('all/derived_coffee_8bit.bmp'), '', 'classify reads the BMP');
    const { report } = await curateJson(ds.formats);
    assert.deepEqual(new Map([...codes(report)].sort()), new Map([...classify].sort()));
    assert.equal(report.counts.unreadable, [...classify.values()].filter(Boolean).length);
  });

  test('18.4 server: curate reads every format its classify reads; the report lists the unreadable ones with codes', async () => {
    const s = await server();
    const files = readdirSync(path.join(ds.formats, 'all')).sort();
    const classify = new Map<string, string>();
    for (const f of files) {
      try {
        await s.conn.sendRequest(ClassifyRequest.type, { uri: uri(path.join(ds.formats, 'all', f)) });
        classify.set(`all/${f}`, '');
      } catch (e) {
        classify.set(`all/${f}`, (e as { data?: { code?: string } }).data?.code ?? 'ERROR');
      }
    }
    assert.equal(classify.get('all/derived_coffee_32bit.bmp'), '');
    const report = done(await s.conn.sendRequest(CurateRequest.type, { root: uri(ds.formats) }));
    assert.deepEqual(new Map([...codes(report)].sort()), classify);
    const unreadable = report.files.filter((f) => f.issues.some((i) => i.type === 'unreadable'));
    assert.equal(report.counts.unreadable, unreadable.length);
    assert.ok(unreadable.length >= 1, 'the HEIC at least');
    for (const f of unreadable) {
      const issue = f.issues.find((i) => i.type === 'unreadable')!;
      assert.match(issue.code ?? '', /^[A-Z_]+$/, 'the issue carries its code');
      assert.ok(issue.detail?.startsWith(`${issue.code}: `), issue.detail);
    }
  });
});
