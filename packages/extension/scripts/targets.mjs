/**
 * The VS Code platform targets the extension is packaged for, and where each one's native files come from:
 *   onnxruntime-node  one package with every platform's binaries: bin/napi-v6/<os>/<cpu>/ is kept, the rest left out;
 *   sharp             @img/sharp-<os>-<cpu> (+ @img/sharp-libvips-<os>-<cpu> outside Windows), one package per
 *                     platform: installed by npm for this machine, fetched into the natives cache for the others
 *                     (natives.mjs);
 *   usearch           prebuilds/<os>-<cpu>/ where its package has one (none for win32-arm64: curation searches
 *                     exactly there); darwin's is universal (arm64 + x64): its arm64 slice alone is shipped.
 *
 * Not packaged:
 *   darwin-x64   onnxruntime-node stopped shipping Intel macOS binaries in 1.24 (bin/napi-v6/darwin/ has arm64 alone).
 *   alpine-x64   sharp has linuxmusl builds, but onnxruntime-node's and usearch's Linux binaries link glibc
 *                (DT_NEEDED libc.so.6, GLIBC_2.x symbol versions): on musl they do not load.
 */

/** @typedef {{ os: 'win32' | 'darwin' | 'linux', cpu: 'x64' | 'arm64', libc?: 'glibc', ort: string, sharp: string, libvips: boolean, usearch: string | null, usearchSlice?: string }} Target */

/** @type {Record<string, Target>} */
export const TARGETS = {
  'win32-x64': { os: 'win32', cpu: 'x64', ort: 'win32/x64', sharp: 'win32-x64', libvips: false, usearch: 'win32-x64' },
  'win32-arm64': { os: 'win32', cpu: 'arm64', ort: 'win32/arm64', sharp: 'win32-arm64', libvips: false, usearch: null },
  'darwin-arm64': {
    os: 'darwin',
    cpu: 'arm64',
    ort: 'darwin/arm64',
    sharp: 'darwin-arm64',
    libvips: true,
    usearch: 'darwin-arm64+x64',
    usearchSlice: 'arm64',
  },
  'linux-x64': { os: 'linux', cpu: 'x64', libc: 'glibc', ort: 'linux/x64', sharp: 'linux-x64', libvips: true, usearch: 'linux-x64' },
  'linux-arm64': {
    os: 'linux',
    cpu: 'arm64',
    libc: 'glibc',
    ort: 'linux/arm64',
    sharp: 'linux-arm64',
    libvips: true,
    usearch: 'linux-arm64',
  },
};

/** Targets left out, with the reason (README's install section says the same). */
export const NOT_PACKAGED = {
  'darwin-x64': 'onnxruntime-node ships no Intel macOS binaries since 1.24',
  'alpine-x64': "onnxruntime-node's and usearch's Linux binaries link glibc; Alpine's C library is musl",
  'alpine-arm64': "onnxruntime-node's and usearch's Linux binaries link glibc; Alpine's C library is musl",
};

/** The target of this machine (`win32-x64`, `linux-arm64`, …). */
export function hostTarget() {
  return `${process.platform}-${process.arch}`;
}

/** The target's record, or an Error that lists the targets there are. */
export function targetOf(name) {
  const t = TARGETS[name];
  if (t) return t;
  const why = NOT_PACKAGED[name] ? ` (${name} is not packaged: ${NOT_PACKAGED[name]})` : '';
  throw new Error(`unknown target ${name}${why}; the targets are ${Object.keys(TARGETS).join(', ')}`);
}

/** The npm packages of sharp's native part for a target. */
export function sharpPackages(t) {
  return [`@img/sharp-${t.sharp}`, ...(t.libvips ? [`@img/sharp-libvips-${t.sharp}`] : [])];
}

/**
 * Path fragments (`/`-separated, as in a VSIX) that belong to a target other than `name`: another platform's
 * onnxruntime folder, sharp package or usearch prebuild.
 */
export function foreignPathMarkers(name) {
  const own = targetOf(name);
  const markers = [];
  const all = { ...TARGETS, 'darwin-x64': { ort: 'darwin/x64', sharp: 'darwin-x64', usearch: null } };
  for (const [other, t] of Object.entries(all)) {
    if (other === name) continue;
    if (t.ort !== own.ort) markers.push(`/bin/napi-v6/${t.ort}/`);
    if (t.sharp !== own.sharp) markers.push(`/@img/sharp-${t.sharp}/`, `/@img/sharp-libvips-${t.sharp}/`);
    if (t.usearch && t.usearch !== own.usearch) markers.push(`/prebuilds/${t.usearch}/`);
  }
  for (const musl of ['linuxmusl-x64', 'linuxmusl-arm64', 'wasm32']) markers.push(`/@img/sharp-${musl}/`, `/@img/sharp-libvips-${musl}/`);
  return [...new Set(markers)];
}
