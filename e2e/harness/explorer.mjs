// The Explorer as a person drives it: finding a row by name or workspace-relative path (expanding its folders), the
// names shown, and running a context-menu item on a row.

/** A RegExp that matches `text` exactly (surrounding white space allowed), for labels. */
export function exact(text) {
  return new RegExp(`^\\s*${String(text).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
}

/**
 * Locator of the Explorer row for `name` — a file/folder name, or a workspace-relative path ('img/cat.png')
 * whose parent folders are expanded on the way. Waits for the row to be visible.
 */
export async function explorerItem(page, name, { timeoutMs = 30_000 } = {}) {
  const parts = String(name).split('/').filter(Boolean);
  let row;
  for (let i = 0; i < parts.length; i++) {
    row = page
      .locator(`.explorer-folders-view .monaco-list-row[aria-level="${i + 1}"]`)
      .filter({ has: page.locator('.label-name', { hasText: exact(parts[i]) }) })
      .first();
    await row.waitFor({ state: 'visible', timeout: timeoutMs });
    if (i < parts.length - 1 && (await row.getAttribute('aria-expanded')) === 'false') {
      await row.click();
      await page
        .locator(`.explorer-folders-view .monaco-list-row[aria-level="${i + 1}"][aria-expanded="true"]`)
        .filter({ has: page.locator('.label-name', { hasText: exact(parts[i]) }) })
        .first()
        .waitFor({ state: 'visible', timeout: timeoutMs });
    }
  }
  return row;
}

/** Names shown in the Explorer (visible rows, top level and expanded folders). */
export async function explorerNames(page) {
  return page.locator('.explorer-folders-view .monaco-list-row .label-name').allInnerTexts();
}

/** Right-clicks the Explorer row (see explorerItem) and waits for the context menu. */
export async function rightClickExplorerItem(page, name) {
  const row = await explorerItem(page, name);
  await row.click({ button: 'right' });
  await page.locator('.monaco-menu .action-item').first().waitFor({ state: 'visible' });
}

/** Clicks a context-menu item by its exact label; an array walks submenus (['Open With...', 'Text Editor']). */
export async function clickContextMenuItem(page, label) {
  const labels = [label].flat();
  for (let i = 0; i < labels.length; i++) {
    const item = page
      .locator('.monaco-menu .action-item')
      .filter({ has: page.locator('.action-label', { hasText: exact(labels[i]) }) })
      .last();
    await item.waitFor({ state: 'visible' });
    if (i < labels.length - 1) await item.hover();
    else await item.click();
  }
  await page
    .locator('.context-view .monaco-menu')
    .waitFor({ state: 'hidden' })
    .catch(() => {});
}

/**
 * Right-clicks an Explorer row (see explorerItem) and runs the context-menu item labelled `label`. A click that lands
 * while the menu is still settling is sometimes ignored (the menu stays open): then it is clicked again (3 times at
 * most); a menu that closed ran the action.
 */
export async function runExplorerContextMenuItem(page, target, label) {
  await rightClickExplorerItem(page, target);
  const menu = page.locator('.context-view .monaco-menu');
  const item = page
    .locator('.monaco-menu .action-item')
    .filter({ has: page.locator('.action-label', { hasText: new RegExp(`^\\s*${label}\\s*$`) }) })
    .last();
  await item.waitFor({ state: 'visible' });
  for (let attempt = 0; ; attempt++) {
    await item.hover();
    await item.click();
    try {
      await menu.waitFor({ state: 'hidden', timeout: 3000 });
      return;
    } catch (_e) {
      if (attempt >= 2) throw new Error(`the context menu stayed open after clicking "${label}" 3 times`);
    }
  }
}
