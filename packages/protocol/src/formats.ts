/**
 * The image-format table: every format the product knows, the file extensions and MIME type that name it, and what
 * decodes it. One table for the engine (which decoder to use, what to refuse and why), the CLI's and server's folder
 * walks, and the editor (context menus, hovers, file watchers). No imports: the extension bundles it.
 */

/** What turns a format's bytes into pixels: libvips through sharp, the engine's own decoder, or nothing here. */
export type FormatDecoder = 'sharp' | 'builtin' | 'none';

export interface ImageFormat {
  /** The format's id, as the engine's `sniffFormat` names it from the bytes and error records report it. */
  id: string;
  /** For people: "JPEG", "HEIC (HEVC)". */
  name: string;
  /** Lower-case, with the dot. */
  extensions: readonly string[];
  mime: string;
  decoder: FormatDecoder;
  /** Why a format with decoder 'none' cannot be read here, and what to do instead. */
  unsupportedReason?: string;
}

export const IMAGE_FORMATS: readonly ImageFormat[] = [
  { id: 'jpeg', name: 'JPEG', extensions: ['.jpg', '.jpeg', '.jpe', '.jfif'], mime: 'image/jpeg', decoder: 'sharp' },
  { id: 'png', name: 'PNG', extensions: ['.png'], mime: 'image/png', decoder: 'sharp' },
  { id: 'webp', name: 'WebP', extensions: ['.webp'], mime: 'image/webp', decoder: 'sharp' },
  { id: 'gif', name: 'GIF', extensions: ['.gif'], mime: 'image/gif', decoder: 'sharp' },
  { id: 'tiff', name: 'TIFF', extensions: ['.tif', '.tiff'], mime: 'image/tiff', decoder: 'sharp' },
  // The HEIF container with AV1 pictures (sniffed as 'heif' from its `ftyp` box).
  { id: 'heif', name: 'AVIF', extensions: ['.avif'], mime: 'image/avif', decoder: 'sharp' },
  { id: 'svg', name: 'SVG', extensions: ['.svg'], mime: 'image/svg+xml', decoder: 'sharp' },
  // Formats Pillow reads and libvips does not: the engine's own decoders (packages/core/src/image/formats).
  { id: 'bmp', name: 'BMP', extensions: ['.bmp', '.dib'], mime: 'image/bmp', decoder: 'builtin' },
  { id: 'ico', name: 'ICO', extensions: ['.ico'], mime: 'image/x-icon', decoder: 'builtin' },
  { id: 'cur', name: 'CUR (cursor)', extensions: ['.cur'], mime: 'image/x-win-bitmap', decoder: 'builtin' },
  {
    id: 'pnm',
    name: 'Netpbm (PBM/PGM/PPM)',
    extensions: ['.pbm', '.pgm', '.ppm', '.pnm'],
    mime: 'image/x-portable-anymap',
    decoder: 'builtin',
  },
  { id: 'tga', name: 'TGA', extensions: ['.tga', '.icb', '.vda', '.vst'], mime: 'image/x-tga', decoder: 'builtin' },
  {
    id: 'heic',
    name: 'HEIC (HEVC)',
    extensions: ['.heic', '.heif'],
    mime: 'image/heic',
    decoder: 'none',
    unsupportedReason:
      'HEIC images are compressed with HEVC, and the bundled image library has no HEVC decoder (a patent-licensed codec). Convert the file to JPEG or AVIF.',
  },
];

const byExtension = new Map<string, ImageFormat>();
for (const f of IMAGE_FORMATS) for (const e of f.extensions) byExtension.set(e, f);

/** The extension of `p` with its dot, lower-cased ('' when none). Works on paths and URIs. */
export function extensionOf(p: string): string {
  const name = p.slice(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\')) + 1);
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? '' : name.slice(dot).toLowerCase();
}

/** The format a file name says it is, if the table knows the extension. */
export function formatForPath(p: string): ImageFormat | undefined {
  return byExtension.get(extensionOf(p));
}

export function formatById(id: string): ImageFormat | undefined {
  return IMAGE_FORMATS.find((f) => f.id === id);
}

/** Formats this product can classify (some decoder reads them). */
export const CLASSIFIABLE_FORMATS: readonly ImageFormat[] = IMAGE_FORMATS.filter((f) => f.decoder !== 'none');

/** The ids of the formats `decoder` reads (the engine dispatches on these). */
export function formatIdsDecodedBy(decoder: FormatDecoder): ReadonlySet<string> {
  return new Set(IMAGE_FORMATS.filter((f) => f.decoder === decoder).map((f) => f.id));
}

/** For messages: "JPEG, PNG, …, TGA" — every format this product classifies. */
export function classifiableFormatNames(): string {
  return CLASSIFIABLE_FORMATS.map((f) => f.name).join(', ');
}

/** Extensions of classifiable formats, with the dot. */
export const CLASSIFIABLE_EXTENSIONS: readonly string[] = CLASSIFIABLE_FORMATS.flatMap((f) => f.extensions);

/** Every extension the table knows: folder walks pick these up, so unreadable ones are reported, not hidden. */
export const KNOWN_IMAGE_EXTENSIONS: readonly string[] = IMAGE_FORMATS.flatMap((f) => f.extensions);

/** True when the file name names a format this product classifies. */
export function isClassifiablePath(p: string): boolean {
  return formatForPath(p)?.decoder !== undefined && formatForPath(p)?.decoder !== 'none';
}

/** True when the file name names any image format in the table (readable or not). */
export function isKnownImagePath(p: string): boolean {
  return formatForPath(p) !== undefined;
}

/**
 * The regular expression source (without slashes, case-insensitive use) matching `resourceExtname` of classifiable
 * files: the extension's `when` clauses are this, and a test keeps package.json in step.
 */
export function classifiableExtnameRegexSource(): string {
  const names = [...CLASSIFIABLE_EXTENSIONS].map((e) => e.slice(1)).sort();
  return `^\\.(${names.join('|')})$`;
}

/** The `when` clause (package.json syntax) that matches classifiable files by `resourceExtname`. */
export function classifiableWhenClause(): string {
  return `resourceExtname =~ /${classifiableExtnameRegexSource()}/i`;
}

/** A glob for file searches and watchers matching classifiable files whatever the case of their extension. */
export function classifiableGlob(): string {
  const names = CLASSIFIABLE_EXTENSIONS.map((e) => e.slice(1));
  return `**/*.{${names.flatMap((e) => [e, e.toUpperCase()]).join(',')}}`;
}
