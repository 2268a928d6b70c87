/** Markdown text helpers. */

/** Text that Markdown must show as written: the characters with a meaning in inline Markdown are escaped. */
export function escapeMarkdownText(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);
}

/**
 * Alt text for `![alt](…)`: alt text is not inline Markdown to escape (a `\.` there is shown as written), only the
 * brackets that would end it are dropped.
 */
export function altText(name: string): string {
  return name.replace(/[[\]\\\n]/g, ' ').trim() || 'image';
}
