#!/usr/bin/env node
/**
 * Builds the WebAssembly JPEG decoder (packages/core/native/jpeg-wasm: libjpeg-turbo 3.2.0's decompressor with
 * simd128 kernels for the IDCT, upsampling and colour conversion) and writes its bytes, base64, with the SHA-256 of
 * everything it was built from, into packages/core/src/image/jpeg-wasm.generated.ts, so that the product carries the
 * module without a compiler at install or run time.
 *
 *   node scripts/build-jpeg-wasm.mjs --source DIR   rebuild from a libjpeg-turbo 3.2.0 source tree (a checkout of
 *                                                   tag 3.2.0, commit c85e6b9): needs clang (19), wasm-ld and
 *                                                   wasi-libc (Debian: clang-19 lld-19 libclang-rt-19-dev-wasm32
 *                                                   wasi-libc)
 *   node scripts/build-jpeg-wasm.mjs --check        exit 1 when the generated file was not built from the files in
 *                                                   native/jpeg-wasm, the patches, sources and flags here as they
 *                                                   are (run by `npm run lint`; it compares the SHA-256 recorded at
 *                                                   build time: only a rebuild shows the bytes come from them)
 *
 * One change is made to libjpeg-turbo's sources, in a temporary copy: its Huffman decoder's bit buffer is 64 bits
 * wide on wasm32 as on x32 (WebAssembly has native 64-bit integers; the same bits are decoded, in fewer refills).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NATIVE = path.join(ROOT, 'packages/core/native/jpeg-wasm');
const OUT = path.join(ROOT, 'packages/core/src/image/jpeg-wasm.generated.ts');
const LIBJPEG_TURBO_VERSION = '3.2.0';
/** What libjpegSourcesSha256 gives for tag 3.2.0's files: a build from any other tree stops. */
const LIBJPEG_SOURCES_SHA256 = 'd7751424ad896e4e78b99d7685ca74d49f19ca9ad79509171047fb8620c0f83f';

/** libjpeg-turbo's decompressor, as its CMakeLists.txt lists it (the 8-, 12- and 16-bit wrappers included). */
const SOURCES = [
  'jdapimin.c',
  ...['8', '12', '16'].map((b) => `wrapper/jdapistd-${b}.c`),
  'jdatasrc.c',
  ...['8', '12'].map((b) => `wrapper/jdcoefct-${b}.c`),
  ...['8', '12', '16'].map((b) => `wrapper/jdcolor-${b}.c`),
  ...['8', '12'].map((b) => `wrapper/jddctmgr-${b}.c`),
  ...['8', '12', '16'].map((b) => `wrapper/jddiffct-${b}.c`),
  'jdhuff.c',
  'jdicc.c',
  'jdinput.c',
  'jdlhuff.c',
  ...['8', '12', '16'].map((b) => `wrapper/jdlossls-${b}.c`),
  ...['8', '12', '16'].map((b) => `wrapper/jdmainct-${b}.c`),
  'jdmarker.c',
  'jdmaster.c',
  ...['8', '12'].map((b) => `wrapper/jdmerge-${b}.c`),
  'jdphuff.c',
  ...['8', '12', '16'].map((b) => `wrapper/jdpostct-${b}.c`),
  ...['8', '12', '16'].map((b) => `wrapper/jdsample-${b}.c`),
  'jdtrans.c',
  'jerror.c',
  ...['jidctflt', 'jidctfst', 'jidctint', 'jidctred', 'jquant1', 'jquant2'].flatMap((f) => [`wrapper/${f}-8.c`, `wrapper/${f}-12.c`]),
  'jmemmgr.c',
  'jmemnobs.c',
  ...['8', '12', '16'].map((b) => `wrapper/jutils-${b}.c`),
  'jcomapi.c',
  'jaricom.c',
  'jdarith.c',
];

/** The 64-bit bit buffer on wasm32 (see above): [file, from, to]. */
const PATCHES = [
  ['jdhuff.h', '#elif defined(__x86_64__) && defined(__ILP32__)', '#elif (defined(__x86_64__) && defined(__ILP32__)) || defined(__wasm__)'],
  [
    'jdhuff.c',
    '#if SIZEOF_SIZE_T == 8 || defined(_WIN64) || (defined(__x86_64__) && defined(__ILP32__))',
    '#if SIZEOF_SIZE_T == 8 || defined(_WIN64) || (defined(__x86_64__) && defined(__ILP32__)) || defined(__wasm__)',
  ],
];

const sha256 = (data) => createHash('sha256').update(data).digest('hex');

/** The compiler flags (besides the sysroot and include directories). */
const CFLAGS = ['--target=wasm32-wasi', '-O3', '-msimd128', '-DNDEBUG', '-DNO_GETENV', '-DNO_PUTENV'];

/**
 * SHA-256 over what this project decides about the build: its files in native/jpeg-wasm (names and contents), the
 * patches, the libjpeg-turbo files compiled and the flags. `--check` compares it with the generated file's.
 */
export function nativeSourcesSha256() {
  const h = createHash('sha256');
  for (const f of readdirSync(NATIVE).sort())
    h.update(`${f}\0`)
      .update(readFileSync(path.join(NATIVE, f)))
      .update('\0');
  h.update(JSON.stringify({ PATCHES, SOURCES, CFLAGS, LIBJPEG_SOURCES_SHA256 }));
  return h.digest('hex');
}

/** SHA-256 over libjpeg-turbo's src/ (every .c and .h, the wrapped ones too) and simd/ headers, before the patches. */
function libjpegSourcesSha256(srcDir) {
  const h = createHash('sha256');
  const files = readdirSync(srcDir, { recursive: true })
    .map(String)
    .filter((f) => /\.[ch]$/.test(f))
    .sort();
  for (const f of files)
    h.update(`${f}\0`)
      .update(readFileSync(path.join(srcDir, f)))
      .update('\0');
  for (const f of ['jsimd.h', 'jsimddct.h', 'jsimdconst.h'])
    h.update(`simd/${f}\0`).update(readFileSync(path.join(srcDir, '..', 'simd', f)));
  return h.digest('hex');
}

function recorded(text, name) {
  return new RegExp(`export const ${name} = '([0-9a-f]+)'`).exec(text)?.[1];
}

function check() {
  if (!existsSync(OUT)) {
    console.error(
      `build-jpeg-wasm: ${path.relative(ROOT, OUT)} is missing: run node scripts/build-jpeg-wasm.mjs --source <libjpeg-turbo ${LIBJPEG_TURBO_VERSION}>`,
    );
    process.exit(1);
  }
  const text = readFileSync(OUT, 'utf8');
  const want = nativeSourcesSha256();
  const b64 = /export const JPEG_WASM_BASE64 =\s*'([A-Za-z0-9+/=]+)'/.exec(text)?.[1] ?? '';
  const problems = [];
  if (recorded(text, 'JPEG_WASM_NATIVE_SHA256') !== want)
    problems.push('packages/core/native/jpeg-wasm changed since the module was built');
  if (recorded(text, 'JPEG_WASM_SHA256') !== sha256(Buffer.from(b64, 'base64')))
    problems.push('the embedded bytes do not match their SHA-256');
  if (problems.length) {
    console.error(
      `build-jpeg-wasm: ${problems.join('; ')}: rebuild with node scripts/build-jpeg-wasm.mjs --source <libjpeg-turbo ${LIBJPEG_TURBO_VERSION}>`,
    );
    process.exit(1);
  }
  console.log('build-jpeg-wasm: the generated module matches packages/core/native/jpeg-wasm');
}

function build(sourceRoot) {
  const cmake = readFileSync(path.join(sourceRoot, 'CMakeLists.txt'), 'utf8');
  if (!cmake.includes(`set(VERSION ${LIBJPEG_TURBO_VERSION})`))
    throw new Error(`${sourceRoot} is not libjpeg-turbo ${LIBJPEG_TURBO_VERSION}`);
  const cc = process.env.CC ?? 'clang-19';
  const sysroot = process.env.WASI_SYSROOT ?? '/usr';
  const work = mkdtempSync(path.join(tmpdir(), 'jpeg-wasm-'));
  try {
    cpSync(path.join(sourceRoot, 'src'), path.join(work, 'src'), { recursive: true });
    cpSync(path.join(sourceRoot, 'simd'), path.join(work, 'simd'), { recursive: true });
    const libSha = libjpegSourcesSha256(path.join(work, 'src'));
    if (libSha !== LIBJPEG_SOURCES_SHA256)
      throw new Error(`${sourceRoot}'s decompressor sources are not tag ${LIBJPEG_TURBO_VERSION}'s (SHA-256 ${libSha})`);
    for (const [file, from, to] of PATCHES) {
      const p = path.join(work, 'src', file);
      const text = readFileSync(p, 'utf8');
      if (text.split(from).length !== 2) throw new Error(`the patch to ${file} does not apply (expected one "${from}")`);
      writeFileSync(p, text.replace(from, to));
    }
    const flags = [
      ...CFLAGS,
      `--sysroot=${sysroot}`,
      '-isystem',
      path.join(sysroot, 'include/wasm32-wasi'),
      '-I',
      NATIVE,
      '-I',
      path.join(work, 'src'),
    ];
    const objects = [];
    const compile = (file, extra = []) => {
      const o = path.join(work, `${objects.length}.o`);
      execFileSync(cc, [...flags, ...extra, '-c', file, '-o', o], { stdio: 'inherit' });
      objects.push(o);
    };
    // libjpeg-turbo's own sources without warnings (its style draws many from clang); this project's with -Wall.
    for (const f of SOURCES) compile(path.join(work, 'src', f), ['-w']);
    compile(path.join(NATIVE, 'jsimd-wasm.c'), ['-Wall', '-I', path.join(work, 'simd')]);
    compile(path.join(NATIVE, 'decoder.c'), ['-Wall']);
    const wasm = path.join(work, 'jpeg.wasm');
    execFileSync(cc, [...flags, '-mexec-model=reactor', '-Wl,--no-entry', '-Wl,--strip-all', '-Wl,--gc-sections', ...objects, '-o', wasm], {
      stdio: 'inherit',
    });
    const bytes = readFileSync(wasm);
    const compiler = execFileSync(cc, ['--version'], { encoding: 'utf8' }).split('\n')[0];
    writeFileSync(OUT, generated(bytes, libSha, compiler));
    console.log(`build-jpeg-wasm: ${bytes.length} bytes (${compiler}) → ${path.relative(ROOT, OUT)}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function generated(bytes, libSha, compiler) {
  const b64 = bytes.toString('base64');
  return `// Generated by scripts/build-jpeg-wasm.mjs from packages/core/native/jpeg-wasm and libjpeg-turbo ${LIBJPEG_TURBO_VERSION}: do not edit
// (\`npm run lint\` checks that it matches those files). Built with ${compiler}.
/*!
 * The JPEG decoder below is libjpeg-turbo ${LIBJPEG_TURBO_VERSION} (https://libjpeg-turbo.org), compiled to WebAssembly.
 * This software is based in part on the work of the Independent JPEG Group.
 * Copyright (C) 1991-2026, Thomas G. Lane, Guido Vollbeding; Copyright (C) 2009-2026, D. R. Commander; and others:
 * the IJG License, the Modified (3-clause) BSD License and the zlib License apply (packages/core/native/jpeg-wasm/
 * LICENSE-libjpeg-turbo.md, README-ijg.txt).
 */

/** SHA-256 of packages/core/native/jpeg-wasm (and the build's patches) when these bytes were built. */
export const JPEG_WASM_NATIVE_SHA256 = '${nativeSourcesSha256()}';

/** SHA-256 of the libjpeg-turbo source files compiled. */
export const JPEG_WASM_LIBJPEG_SHA256 = '${libSha}';

/** SHA-256 of the module's bytes. */
export const JPEG_WASM_SHA256 = '${sha256(bytes)}';

/** The module (WebAssembly with SIMD), base64. */
export const JPEG_WASM_BASE64 =
  '${b64}';
`;
}

const args = process.argv.slice(2);
if (args.includes('--check')) check();
else {
  const i = args.indexOf('--source');
  if (i < 0 || !args[i + 1]) {
    console.error('usage: node scripts/build-jpeg-wasm.mjs --source <libjpeg-turbo 3.2.0 source tree> | --check');
    process.exit(2);
  }
  build(path.resolve(args[i + 1]));
}
