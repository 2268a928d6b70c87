/**
 * What a native file is built for, read from its header (never from its name or path):
 *   ELF      e_machine (x86-64 0x3e, AArch64 0xb7, …) and, for `linux` vs `alpine`, the C library it links
 *            (DT_NEEDED libc.so.6 = glibc, libc.musl-*.so.1 = musl);
 *   PE       the COFF header's Machine (AMD64 0x8664, ARM64 0xaa64, ARM64X 0xa64e, i386 0x14c);
 *   Mach-O   cputype (x86_64 0x01000007, arm64 0x0100000c); a universal (fat) file lists every slice.
 * `nativeKind(buf)` answers `{ format, os, archs, libc? }` or null for a file that is none of these.
 * `thinMachO(buf, arch)` cuts one slice out of a universal Mach-O (each slice is a complete Mach-O file).
 */

const ELF_MACHINES = { 62: 'x64', 183: 'arm64', 40: 'arm', 3: 'ia32', 243: 'riscv64', 21: 'ppc64', 22: 's390x' };
const PE_MACHINES = { 34404: 'x64', 43620: 'arm64', 42574: 'arm64x', 42561: 'arm64ec', 332: 'ia32', 452: 'arm' };
const MACHO_CPUS = { 16777223: 'x64', 16777228: 'arm64', 7: 'ia32', 12: 'arm', 33554444: 'arm64_32' };

/** The kind of a native file from its bytes, or null when it is no ELF, PE or Mach-O file. */
export function nativeKind(buf) {
  if (buf.length >= 20 && buf.readUInt32BE(0) === 0x7f454c46) return elfKind(buf);
  if (buf.length >= 64 && buf.readUInt16BE(0) === 0x4d5a) return peKind(buf);
  if (buf.length >= 8) {
    const le = buf.readUInt32LE(0);
    if (le === 0xfeedfacf || le === 0xfeedface) return { format: 'mach-o', os: 'darwin', archs: [machoCpu(buf.readUInt32LE(4))] };
    const be = buf.readUInt32BE(0);
    if (be === 0xcafebabe || be === 0xcafebabf) return fatKind(buf);
  }
  return null;
}

function machoCpu(type) {
  return MACHO_CPUS[type] ?? `cputype 0x${type.toString(16)}`;
}

/** The slices of a universal Mach-O file: [{ arch, offset, size }]. */
export function fatSlices(buf) {
  const wide = buf.readUInt32BE(0) === 0xcafebabf;
  const n = buf.readUInt32BE(4);
  const entry = wide ? 32 : 20;
  const slices = [];
  for (let i = 0; i < n; i++) {
    const at = 8 + i * entry;
    if (at + entry > buf.length) throw new Error('a universal Mach-O header that runs past the end of the file');
    const cpu = buf.readUInt32BE(at);
    const offset = wide ? Number(buf.readBigUInt64BE(at + 8)) : buf.readUInt32BE(at + 8);
    const size = wide ? Number(buf.readBigUInt64BE(at + 16)) : buf.readUInt32BE(at + 12);
    slices.push({ arch: machoCpu(cpu), offset, size });
  }
  return slices;
}

function fatKind(buf) {
  // Java class files share the magic 0xcafebabe; their next word (the class file version, ≥ 45) is no slice count.
  const n = buf.readUInt32BE(4);
  if (n === 0 || n > 16) return null;
  return { format: 'mach-o-universal', os: 'darwin', archs: fatSlices(buf).map((s) => s.arch) };
}

/** One architecture's slice of a universal Mach-O file (a thin Mach-O file), or the file itself when it is thin. */
export function thinMachO(buf, arch) {
  const kind = nativeKind(buf);
  if (kind?.os !== 'darwin') throw new Error('not a Mach-O file');
  if (kind.format === 'mach-o') {
    if (kind.archs[0] !== arch) throw new Error(`a thin Mach-O file for ${kind.archs[0]}, not ${arch}`);
    return buf;
  }
  const slice = fatSlices(buf).find((s) => s.arch === arch);
  if (!slice) throw new Error(`no ${arch} slice in this universal Mach-O file (it has ${kind.archs.join(', ')})`);
  return buf.subarray(slice.offset, slice.offset + slice.size);
}

function peKind(buf) {
  const peAt = buf.readUInt32LE(0x3c);
  if (peAt + 6 > buf.length || buf.readUInt32BE(peAt) !== 0x50450000) return null;
  const machine = buf.readUInt16LE(peAt + 4);
  return { format: 'pe', os: 'win32', archs: [PE_MACHINES[machine] ?? `machine 0x${machine.toString(16)}`] };
}

function elfKind(buf) {
  const is64 = buf[4] === 2;
  const le = buf[5] === 1;
  const u16 = (o) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const machine = u16(18);
  const kind = { format: 'elf', os: 'linux', archs: [ELF_MACHINES[machine] ?? `e_machine 0x${machine.toString(16)}`] };
  try {
    const libc = elfLibc(buf, is64, le);
    if (libc) kind.libc = libc;
  } catch {
    /* a truncated or odd file: the machine is still known */
  }
  return kind;
}

/** 'glibc' or 'musl' from the C library the file links (DT_NEEDED) or its interpreter, or undefined when static. */
function elfLibc(buf, is64, le) {
  const u16 = (o) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const u32 = (o) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const word = (o) => (is64 ? Number(le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o)) : u32(o));
  const phoff = word(is64 ? 32 : 28);
  const phentsize = u16(is64 ? 54 : 42);
  const phnum = u16(is64 ? 56 : 44);
  const segs = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    segs.push({
      type: u32(p),
      offset: word(is64 ? p + 8 : p + 4),
      vaddr: word(is64 ? p + 16 : p + 8),
      filesz: word(is64 ? p + 32 : p + 16),
    });
  }
  const names = [];
  const interp = segs.find((s) => s.type === 3);
  if (interp) names.push(buf.toString('latin1', interp.offset, interp.offset + interp.filesz).replace(/\0.*$/s, ''));
  const dyn = segs.find((s) => s.type === 2);
  if (dyn) {
    const entries = [];
    const size = is64 ? 16 : 8;
    for (let o = dyn.offset; o + size <= dyn.offset + dyn.filesz; o += size) {
      const tag = word(o);
      if (tag === 0) break;
      entries.push([tag, word(o + (is64 ? 8 : 4))]);
    }
    const strtabAddr = entries.find(([t]) => t === 5)?.[1];
    // DT_STRTAB is an address: map it to a file offset through the PT_LOAD segment that holds it.
    const load = segs.find((s) => s.type === 1 && strtabAddr >= s.vaddr && strtabAddr < s.vaddr + s.filesz);
    if (load) {
      const strtab = strtabAddr - load.vaddr + load.offset;
      for (const [t, v] of entries) {
        if (t !== 1) continue;
        const end = buf.indexOf(0, strtab + v);
        names.push(buf.toString('latin1', strtab + v, end));
      }
    }
  }
  if (names.some((n) => /(^|\/)(libc\.musl-[^/]+\.so\.1|ld-musl-[^/]+\.so\.1)$/.test(n))) return 'musl';
  if (names.some((n) => /(^|\/)(libc\.so\.6|ld-linux[^/]*\.so\.\d)$/.test(n))) return 'glibc';
  return undefined;
}
