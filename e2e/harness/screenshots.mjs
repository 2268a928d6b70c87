// Screenshots of a page, under e2e/.work/screenshots/.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { SCREENSHOT_DIR } from './setup.mjs';

/** Saves a full-page PNG to e2e/.work/screenshots/<name>.png and returns its path. */
export async function screenshot(page, name) {
  await fsp.mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${String(name).replace(/[^\w.-]+/g, '_')}.png`);
  await page.screenshot({ path: file });
  return file;
}
