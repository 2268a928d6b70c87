/**
 * The native-file check of platform VSIXes (scripts/check-vsix.mjs) on small synthetic VSIXes: zips written here
 * holding a manifest and files with hand-made ELF, PE and Mach-O headers. A well-formed one passes; one foreign
 * native file (by header, whatever its name), a foreign path, a wrong manifest target or a missing runtime fails it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { crc32, deflateRawSync } from 'node:zlib';
// @ts-expect-error: plain ESM scripts without type declarations
import { checkVsix, readZip } from '../scripts/check-vsix.mjs';
// @ts-expect-error: plain ESM scripts without type declarations
import { nativeKind, thinMachO } from '../scripts/native-headers.mjs';

interface Report {
  ok: boolean;
  target?: string;
  problems: string[];
  natives: Array<{ name: string; kind: { format: string; os: string; archs: string[] } }>;
}
const check = checkVsix as (file: string, expect?: { target?: string }) => Report;
const kindOf = nativeKind as (b: Buffer) => { format: string; os: string; archs: string[]; libc?: string } | null;

const dir = mkdtempSync(path.join(tmpdir(), 'ic-check-vsix-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A zip of `files` (deflated), as vsce writes one. */
function zip(files: Record<string, Buffer | string>): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
    const packed = deflateRawSync(data);
    const nameBuf = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc32(data), 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4);
    entry.writeUInt16LE(20, 6);
    entry.writeUInt16LE(8, 10);
    entry.writeUInt32LE(crc32(data), 16);
    entry.writeUInt32LE(packed.length, 20);
    entry.writeUInt32LE(data.length, 24);
    entry.writeUInt16LE(nameBuf.length, 28);
    entry.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, packed);
    central.push(entry, nameBuf);
    offset += 30 + nameBuf.length + packed.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

const ELF_MACHINE = { x64: 0x3e, arm64: 0xb7 } as const;
function elf(cpu: keyof typeof ELF_MACHINE): Buffer {
  const b = Buffer.alloc(64);
  b.write('\x7fELF', 0, 'latin1');
  b[4] = 2; // 64-bit
  b[5] = 1; // little-endian
  b[6] = 1;
  b.writeUInt16LE(3, 16); // ET_DYN
  b.writeUInt16LE(ELF_MACHINE[cpu], 18);
  return b;
}
const PE_MACHINE = { x64: 0x8664, arm64: 0xaa64 } as const;
function pe(cpu: keyof typeof PE_MACHINE): Buffer {
  const b = Buffer.alloc(0x80);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(0x40, 0x3c);
  b.write('PE\0\0', 0x40, 'latin1');
  b.writeUInt16LE(PE_MACHINE[cpu], 0x44);
  return b;
}
const MACHO_CPU = { x64: 0x01000007, arm64: 0x0100000c } as const;
function macho(cpu: keyof typeof MACHO_CPU): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt32LE(0xfeedfacf, 0);
  b.writeUInt32LE(MACHO_CPU[cpu], 4);
  return b;
}
/** A universal Mach-O file holding a thin file per cpu. */
function fat(...cpus: Array<keyof typeof MACHO_CPU>): Buffer {
  const header = Buffer.alloc(8 + 20 * cpus.length);
  header.writeUInt32BE(0xcafebabe, 0);
  header.writeUInt32BE(cpus.length, 4);
  const slices = cpus.map((c) => macho(c));
  let offset = 4096;
  cpus.forEach((c, i) => {
    header.writeUInt32BE(MACHO_CPU[c], 8 + i * 20);
    header.writeUInt32BE(offset, 8 + i * 20 + 8);
    header.writeUInt32BE(slices[i]!.length, 8 + i * 20 + 12);
    offset += 4096;
  });
  const out = Buffer.alloc(offset);
  header.copy(out, 0);
  slices.forEach((s, i) => {
    s.copy(out, 4096 * (i + 1));
  });
  return out;
}

const manifest = (target: string) =>
  `<?xml version="1.0" encoding="utf-8"?><PackageManifest Version="2.0.0"><Metadata><Identity Language="en-US" Id="image-classifier" Version="0.1.0" Publisher="image-classifier" TargetPlatform="${target}"/></Metadata></PackageManifest>`;
const NM = 'extension/dist/server/node_modules';

/** A VSIX with the runtime a target needs, plus `extra` files. */
function vsix(name: string, target: string, natives: Record<string, Buffer | string>, extra: Record<string, Buffer | string> = {}): string {
  const file = path.join(dir, `${name}.vsix`);
  writeFileSync(
    file,
    zip({
      'extension.vsixmanifest': manifest(target),
      'extension/package.json': '{"name":"image-classifier"}',
      'extension/dist/server/server.js': '"use strict";',
      ...natives,
      ...extra,
    }),
  );
  return file;
}
const linuxX64 = {
  [`${NM}/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node`]: elf('x64'),
  [`${NM}/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1`]: elf('x64'),
  [`${NM}/@img/sharp-linux-x64/lib/sharp-linux-x64-0.35.5.node`]: elf('x64'),
  [`${NM}/@img/sharp-libvips-linux-x64/lib/libvips-cpp.so.8.18.7`]: elf('x64'),
  [`${NM}/usearch/prebuilds/linux-x64/usearch.node`]: elf('x64'),
};
const win32Arm64 = {
  [`${NM}/onnxruntime-node/bin/napi-v6/win32/arm64/onnxruntime_binding.node`]: pe('arm64'),
  [`${NM}/onnxruntime-node/bin/napi-v6/win32/arm64/onnxruntime.dll`]: pe('arm64'),
  [`${NM}/@img/sharp-win32-arm64/lib/sharp-win32-arm64-0.35.5.node`]: pe('arm64'),
};
const darwinArm64 = (usearch: Buffer) => ({
  [`${NM}/onnxruntime-node/bin/napi-v6/darwin/arm64/onnxruntime_binding.node`]: macho('arm64'),
  [`${NM}/@img/sharp-darwin-arm64/lib/sharp-darwin-arm64-0.35.5.node`]: macho('arm64'),
  [`${NM}/usearch/prebuilds/darwin-arm64+x64/usearch.node`]: usearch,
});

test('the zip reader reads back what was written (names and bytes)', () => {
  const entries = (readZip as (b: Buffer) => Array<{ name: string; data: Buffer }>)(zip({ 'a.txt': 'hello', 'b/c.bin': elf('x64') }));
  assert.deepEqual(
    entries.map((e) => [e.name, e.data.length]),
    [
      ['a.txt', 5],
      ['b/c.bin', 64],
    ],
  );
  assert.equal(entries[0]!.data.toString(), 'hello');
});

test('headers say the platform: ELF e_machine, PE Machine, Mach-O cputype (thin and universal)', () => {
  assert.deepEqual(kindOf(elf('arm64')), { format: 'elf', os: 'linux', archs: ['arm64'] });
  assert.deepEqual(kindOf(pe('x64')), { format: 'pe', os: 'win32', archs: ['x64'] });
  assert.deepEqual(kindOf(macho('arm64')), { format: 'mach-o', os: 'darwin', archs: ['arm64'] });
  assert.deepEqual(kindOf(fat('x64', 'arm64')), { format: 'mach-o-universal', os: 'darwin', archs: ['x64', 'arm64'] });
  assert.equal(kindOf(Buffer.from('{"name":"x"}')), null);
  // A Java class file shares the universal magic; its version word is no slice count.
  const cls = Buffer.alloc(16);
  cls.writeUInt32BE(0xcafebabe, 0);
  cls.writeUInt32BE(0x00000041, 4);
  assert.equal(kindOf(cls), null);
  const thin = (thinMachO as (b: Buffer, a: string) => Buffer)(fat('x64', 'arm64'), 'arm64');
  assert.deepEqual(kindOf(thin), { format: 'mach-o', os: 'darwin', archs: ['arm64'] });
});

test("the C library from a real ELF file's dynamic section: this machine's node links glibc", {
  skip: process.platform !== 'linux',
}, () => {
  const kind = kindOf(readFileSync(process.execPath));
  assert.equal(kind?.format, 'elf');
  assert.equal(kind?.archs[0], process.arch === 'arm64' ? 'arm64' : 'x64');
  const isMusl = !(process.report?.getReport() as { header?: { glibcVersionRuntime?: string } })?.header?.glibcVersionRuntime;
  assert.equal(kind?.libc, isMusl ? 'musl' : 'glibc');
});

test('a well-formed VSIX of each kind passes', () => {
  for (const [name, target, natives] of [
    ['ok-linux', 'linux-x64', linuxX64],
    ['ok-win', 'win32-arm64', win32Arm64],
    ['ok-mac', 'darwin-arm64', darwinArm64(macho('arm64'))],
  ] as const) {
    const r = check(vsix(name, target, natives), { target });
    assert.deepEqual(r.problems, [], name);
    assert.equal(r.ok, true);
    assert.equal(r.natives.length, Object.keys(natives).length);
  }
});

test('a VSIX with a foreign native file fails, named by header not by path', () => {
  const hidden = `${NM}/sharp/dist/helper.bin`;
  const r = check(vsix('foreign-elf', 'linux-x64', { ...linuxX64, [hidden]: elf('arm64') }), { target: 'linux-x64' });
  assert.equal(r.ok, false);
  assert.deepEqual(r.problems, [`${hidden}: elf linux-arm64, not linux-x64`]);

  const dll = `${NM}/onnxruntime-node/bin/napi-v6/linux/x64/DirectML.dll`;
  const r2 = check(vsix('foreign-pe', 'linux-x64', { ...linuxX64, [dll]: pe('x64') }));
  assert.equal(r2.ok, false);
  assert.match(r2.problems.join('\n'), /DirectML\.dll: pe win32-x64, not linux-x64/);

  // x64 vs arm64 of the same OS, inside the target's own folder.
  const wrongCpu = { ...win32Arm64, [`${NM}/onnxruntime-node/bin/napi-v6/win32/arm64/onnxruntime.dll`]: pe('x64') };
  assert.match(check(vsix('foreign-cpu', 'win32-arm64', wrongCpu)).problems.join('\n'), /onnxruntime\.dll: pe win32-x64, not win32-arm64/);
});

test("a universal Mach-O file with another CPU's slice fails the darwin-arm64 check", () => {
  const r = check(vsix('fat-mac', 'darwin-arm64', darwinArm64(fat('x64', 'arm64'))));
  assert.equal(r.ok, false);
  assert.match(r.problems.join('\n'), /usearch\.node: mach-o-universal darwin-x64\+arm64, not darwin-arm64/);
});

test("another target's paths, a file named .node that is no binary, a wrong manifest, a missing runtime: each fails", () => {
  const foreignPath = check(vsix('foreign-path', 'linux-x64', { ...linuxX64, [`${NM}/@img/sharp-darwin-arm64/package.json`]: '{}' }));
  assert.deepEqual(foreignPath.problems, [
    `${NM}/@img/sharp-darwin-arm64/package.json: belongs to another target (@img/sharp-darwin-arm64)`,
  ]);

  const fake = check(vsix('fake-node', 'linux-x64', { ...linuxX64, [`${NM}/x/addon.node`]: 'not a binary' }));
  assert.deepEqual(fake.problems, [`${NM}/x/addon.node: named like a native file but is no ELF, PE or Mach-O file`]);

  const wrongManifest = check(vsix('wrong-manifest', 'linux-arm64', linuxX64), { target: 'linux-x64' });
  assert.equal(wrongManifest.ok, false);
  assert.match(wrongManifest.problems.join('\n'), /the manifest's TargetPlatform is linux-arm64, not linux-x64/);

  const { [`${NM}/usearch/prebuilds/linux-x64/usearch.node`]: _usearch, ...withoutUsearch } = linuxX64;
  const missing = check(vsix('missing', 'linux-x64', withoutUsearch));
  assert.deepEqual(missing.problems, ["usearch's prebuild for linux-x64 is missing"]);
  // win32-arm64 has no usearch build: its VSIX passes without one (curation searches exactly there).
  assert.equal(check(vsix('win-no-usearch', 'win32-arm64', win32Arm64)).ok, true);
});

test('a zip that is no VSIX, and a VSIX without a target, fail with a sentence', () => {
  const notZip = path.join(dir, 'not.vsix');
  writeFileSync(notZip, 'hello');
  assert.match(check(notZip).problems.join('\n'), /cannot be read as a VSIX: not a zip file/);
  const untargeted = path.join(dir, 'untargeted.vsix');
  writeFileSync(untargeted, zip({ 'extension.vsixmanifest': '<PackageManifest/>', 'extension/package.json': '{}' }));
  assert.match(check(untargeted).problems.join('\n'), /names no TargetPlatform/);
});
