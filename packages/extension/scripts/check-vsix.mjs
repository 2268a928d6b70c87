#!/usr/bin/env node
/**
 * The native-file check of a platform VSIX. Opens the VSIX (a zip) and fails it when:
 *   - extension.vsixmanifest names no TargetPlatform, or another than the expected target;
 *   - a native file (any entry whose bytes are ELF, PE or Mach-O, whatever its name, and every .node/.so/.dylib/
 *     .dll/.exe entry) is not of the manifest's target: PE Machine for win32, Mach-O cputype for darwin (a universal
 *     file must hold the target's slice alone), ELF e_machine for linux (and glibc, not musl);
 *   - a path belongs to another target (another platform's onnxruntime folder, sharp package or usearch prebuild);
 *   - the target's own runtime is missing (onnxruntime's binding, sharp's binding, usearch where it has a build);
 *   - the file is over 70 MB.
 *   node scripts/check-vsix.mjs <file.vsix | folder> … [--target=<t>]   (exit 1 when one fails)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import { nativeKind } from './native-headers.mjs';
import { foreignPathMarkers, TARGETS } from './targets.mjs';

export const MAX_VSIX_BYTES = 70 * 1000 * 1000;
const NATIVE_NAME = /\.(node|so(\.\d+)*|dylib|dll|exe)$/i;

/** The entries of a zip file: [{ name, data }] (stored and deflated entries; zip64 and encryption are refused). */
export function readZip(buf) {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip file (no end-of-central-directory record)');
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || at === 0xffffffff) throw new Error('a zip64 archive: not expected for a VSIX');
  const entries = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(at) !== 0x02014b50) throw new Error(`a broken central directory at entry ${i}`);
    const flags = buf.readUInt16LE(at + 8);
    const method = buf.readUInt16LE(at + 10);
    const csize = buf.readUInt32LE(at + 20);
    const usize = buf.readUInt32LE(at + 24);
    const nameLen = buf.readUInt16LE(at + 28);
    const extraLen = buf.readUInt16LE(at + 30);
    const commentLen = buf.readUInt16LE(at + 32);
    const local = buf.readUInt32LE(at + 42);
    const name = buf.toString('utf8', at + 46, at + 46 + nameLen);
    at += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith('/')) continue;
    if (flags & 1) throw new Error(`${name} is encrypted`);
    if (buf.readUInt32LE(local) !== 0x04034b50) throw new Error(`${name}: no local header where the directory says`);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(start, start + csize);
    let data;
    if (method === 0) data = raw;
    else if (method === 8) data = inflateRawSync(raw);
    else throw new Error(`${name}: compression method ${method} is not stored or deflate`);
    if (data.length !== usize) throw new Error(`${name}: ${data.length} bytes inflated, the directory says ${usize}`);
    entries.push({ name, data });
  }
  return entries;
}

/** The TargetPlatform attribute of extension.vsixmanifest, or undefined. */
function manifestTarget(entries) {
  const m = entries.find((e) => e.name === 'extension.vsixmanifest');
  if (!m) return undefined;
  return /\bTargetPlatform="([^"]+)"/.exec(m.data.toString('utf8'))?.[1];
}

/** What the target's own runtime must include (path patterns inside the VSIX). */
function requiredFiles(t) {
  const req = [
    [`onnxruntime's binding`, new RegExp(`/onnxruntime-node/bin/napi-v6/${t.ort}/onnxruntime_binding\\.node$`)],
    [`sharp's binding`, new RegExp(`/@img/sharp-${t.sharp}/lib/sharp-${t.sharp}-[\\d.]+\\.node$`)],
  ];
  if (t.usearch) req.push([`usearch's prebuild`, new RegExp(`/usearch/prebuilds/${t.usearch.replace('+', '\\+')}/usearch\\.node$`)]);
  return req;
}

/**
 * Checks one VSIX: { file, target, bytes, natives: [{ name, kind }], problems: string[], ok }.
 * `expect.target` is the target it must be for (default: the manifest's).
 */
export function checkVsix(file, expect = {}) {
  const problems = [];
  const buf = readFileSync(file);
  const report = { file, target: undefined, bytes: buf.length, natives: [], problems, ok: false };
  if (buf.length > MAX_VSIX_BYTES) problems.push(`${(buf.length / 1e6).toFixed(1)} MB: over the ${MAX_VSIX_BYTES / 1e6} MB limit`);
  let entries;
  try {
    entries = readZip(buf);
  } catch (e) {
    problems.push(`cannot be read as a VSIX: ${e.message}`);
    return report;
  }
  const declared = manifestTarget(entries);
  report.target = expect.target ?? declared;
  if (!declared) problems.push('extension.vsixmanifest names no TargetPlatform (not a platform VSIX)');
  else if (expect.target && declared !== expect.target) problems.push(`the manifest's TargetPlatform is ${declared}, not ${expect.target}`);
  const t = TARGETS[report.target];
  if (!t) {
    problems.push(`${report.target ?? 'no target'} is not one of the packaged targets (${Object.keys(TARGETS).join(', ')})`);
    return report;
  }
  const markers = foreignPathMarkers(report.target);
  for (const { name, data } of entries) {
    const marker = markers.find((m) => `/${name}`.includes(m));
    if (marker) problems.push(`${name}: belongs to another target (${marker.slice(1, -1)})`);
    const kind = nativeKind(data);
    if (!kind) {
      if (NATIVE_NAME.test(name)) problems.push(`${name}: named like a native file but is no ELF, PE or Mach-O file`);
      continue;
    }
    report.natives.push({ name, kind });
    const what = `${kind.format} ${kind.os}-${kind.archs.join('+')}${kind.libc ? ` (${kind.libc})` : ''}`;
    if (kind.os !== t.os || kind.archs.length !== 1 || kind.archs[0] !== t.cpu) {
      problems.push(`${name}: ${what}, not ${report.target}`);
    } else if (t.libc && kind.libc && kind.libc !== t.libc) {
      problems.push(`${name}: links ${kind.libc}, not ${t.libc}`);
    }
  }
  for (const [what, re] of requiredFiles(t)) {
    if (!entries.some((e) => re.test(`/${e.name}`))) problems.push(`${what} for ${report.target} is missing`);
  }
  report.ok = problems.length === 0;
  return report;
}

/** A few lines for a person: the verdict, size, native files, and every problem. */
export function formatCheck(r, cwd = process.cwd()) {
  const head = `check-vsix: ${path.relative(cwd, r.file)} [${r.target ?? '?'}] ${(r.bytes / 1e6).toFixed(1)} MB, ${r.natives.length} native files: ${r.ok ? 'OK' : 'FAILED'}`;
  return [head, ...r.problems.map((p) => `  ✗ ${p}`)].join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const target = args.find((a) => a.startsWith('--target='))?.slice('--target='.length);
  const files = args
    .filter((a) => !a.startsWith('--'))
    .flatMap((a) =>
      statSync(a).isDirectory()
        ? readdirSync(a)
            .filter((f) => f.endsWith('.vsix'))
            .map((f) => path.join(a, f))
        : [a],
    );
  if (!files.length) {
    console.error('check-vsix: name one or more .vsix files or folders holding them');
    process.exit(2);
  }
  let bad = 0;
  for (const f of files) {
    const r = checkVsix(f, target ? { target } : {});
    console.log(formatCheck(r));
    if (!r.ok) bad++;
  }
  process.exit(bad ? 1 : 0);
}
