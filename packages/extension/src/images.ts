/** Which files count as images: the formats the server decodes (sharp/libvips). */
export const IMAGE_EXTENSIONS = ['jpg', 'jpeg', 'png', 'webp', 'gif', 'avif', 'tif', 'tiff', 'svg'] as const;

/** Same set as the `when` clauses in package.json: `resourceExtname =~ /^\.(jpe?g|png|webp|gif|avif|tiff?|svg)$/i`. */
export const IMAGE_PATH_RE = /\.(jpe?g|png|webp|gif|avif|tiff?|svg)$/i;

export function isImagePath(p: string): boolean {
  return IMAGE_PATH_RE.test(p);
}

/** A glob for findFiles / watchers that matches image files whatever the case of their extension. */
export const IMAGE_GLOB = `**/*.{${IMAGE_EXTENSIONS.flatMap((e) => [e, e.toUpperCase()]).join(',')}}`;
