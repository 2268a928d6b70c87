/**
 * The board's keyboard: arrows move the selection (Shift extends it), Enter opens the image, `k` keeps the label,
 * `m` moves to the suggested class, `1`–`9` move to a class, Delete trashes, `s` finds similar images, Ctrl+Z /
 * Ctrl+Shift+Z (or Ctrl+Y) undo and redo, Ctrl+A selects all.
 */
export interface KeyTarget {
  move(delta: number | 'home' | 'end', extend: boolean): void;
  /** Columns per row of the grid in view (Up/Down move by this). */
  cols(): number;
  rowsPerPage(): number;
  open(): void;
  keep(): void;
  moveToSuggested(): void;
  moveToClass(index: number): void;
  trash(): void;
  similar(): void;
  undo(): void;
  redo(): void;
  selectAll(): void;
}

/** The parts of a KeyboardEvent the board reads (a DOM KeyboardEvent is one). */
export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

/** Runs the key's action on `t`; false for a key the board does not use (left to VS Code). */
export function handleKey(e: KeyPress, t: KeyTarget): boolean {
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key;
  if (mod && (key === 'z' || key === 'Z')) {
    e.shiftKey ? t.redo() : t.undo();
    return true;
  }
  if (mod && (key === 'y' || key === 'Y')) {
    t.redo();
    return true;
  }
  if (mod && (key === 'a' || key === 'A')) {
    t.selectAll();
    return true;
  }
  if (mod || e.altKey) return false;
  const nav: Record<string, number | 'home' | 'end'> = {
    ArrowLeft: -1,
    ArrowRight: 1,
    ArrowUp: -t.cols(),
    ArrowDown: t.cols(),
    PageUp: -t.cols() * t.rowsPerPage(),
    PageDown: t.cols() * t.rowsPerPage(),
    Home: 'home',
    End: 'end',
  };
  if (key in nav) {
    t.move(nav[key]!, e.shiftKey);
    return true;
  }
  if (key === 'Enter') {
    t.open();
    return true;
  }
  if (key === 'Delete' || key === 'Backspace') {
    t.trash();
    return true;
  }
  if (key === 'k') {
    t.keep();
    return true;
  }
  if (key === 'm') {
    t.moveToSuggested();
    return true;
  }
  if (key === 's') {
    t.similar();
    return true;
  }
  if (/^[1-9]$/.test(key)) {
    t.moveToClass(Number(key) - 1);
    return true;
  }
  return false;
}
