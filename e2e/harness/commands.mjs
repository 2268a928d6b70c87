// The command palette and notifications: running a command by its title, waiting for a notification's text.
import { exact } from './explorer.mjs';

/**
 * Waits for a notification whose text matches `pattern` (RegExp or substring) in the toasts (or the
 * notification center, if it is open) and returns its text.
 */
export async function waitForNotification(page, pattern, { timeoutMs = 30_000 } = {}) {
  const item = page
    .locator('.notifications-toasts .notification-list-item, .notifications-center .notification-list-item')
    .filter({ hasText: pattern });
  await item.first().waitFor({ state: 'visible', timeout: timeoutMs });
  return (await item.first().innerText()).trim();
}

/** Texts of the notification toasts visible now. */
export async function notificationTexts(page) {
  return page.locator('.notifications-toasts .notification-list-item').allInnerTexts();
}

/** Opens the command palette (F1) and returns the quick-input locator. */
export async function openCommandPalette(page) {
  const widget = page.locator('.quick-input-widget');
  // Focus the workbench, not an input that might swallow F1.
  await page
    .locator('.monaco-workbench')
    .focus()
    .catch(() => {});
  await page.keyboard.press('F1');
  await widget.waitFor({ state: 'visible' });
  await page.locator('.quick-input-widget .quick-input-box input').waitFor({ state: 'visible' });
  return widget;
}

/**
 * Runs a command from the command palette by its full title as the palette shows it
 * ('Category: Title', e.g. 'Smoke: Hello').
 */
export async function runCommand(page, title, { timeoutMs = 30_000 } = {}) {
  const widget = await openCommandPalette(page);
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.fill(`>${title}`);
  const row = page
    .locator('.quick-input-widget .quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: exact(title) }) })
    .first();
  await row.waitFor({ state: 'visible', timeout: timeoutMs });
  await row.click();
  await widget.waitFor({ state: 'hidden', timeout: timeoutMs });
}
