/**
 * One grid tab (Label issues, Duplicates, Outliers, Quality, Similar): a virtual grid of its items, the focused
 * item and the multi-selection (click, Ctrl+click, Shift+click, arrows with Shift), and the keyboard's actions on
 * the selection.
 */
import type { TabId } from './api';
import { renderCard, renderGroup } from './cards';
import { VirtualGrid } from './grid';
import type { KeyTarget } from './keys';
import type { Card, GroupView } from './model';
import type { Board } from './board';

type Item = Card | GroupView;
const isGroup = (x: Item): x is GroupView => 'keeper' in x;

export class GridTab implements KeyTarget {
  readonly grid: VirtualGrid;
  focus = 0;
  private anchor = 0;
  readonly selected = new Set<string>();

  constructor(
    private readonly board: Board,
    readonly tab: TabId,
  ) {
    const dup = tab === 'duplicates';
    this.grid = new VirtualGrid({
      itemWidth: 168,
      itemHeight: dup ? 236 : 212,
      gap: 10,
      fullWidth: dup,
      label: tab,
      render: (el, i) => this.render(el, i),
    });
    this.grid.el.addEventListener('click', (e) => this.click(e));
    this.grid.el.addEventListener('dblclick', (e) => {
      if (this.grid.indexOf(e.target) >= 0) this.open();
    });
  }

  items(): Item[] {
    const m = this.board.model;
    return this.tab === 'duplicates' ? m.groups(this.board.state.keepRule) : m.cards(this.tab);
  }
  keyOf(i: number): string | undefined {
    const it = this.items()[i];
    return it ? (isGroup(it) ? `g:${it.id}` : it.key) : undefined;
  }

  private render(el: HTMLElement, i: number): void {
    const it = this.items()[i];
    if (!it) return;
    const key = this.keyOf(i)!;
    const { model, thumbs } = this.board;
    if (isGroup(it)) renderGroup(el, it, model, thumbs, i === this.focus, this.selected.has(key));
    else renderCard(el, it, model, thumbs, i === this.focus, this.selected.has(key), this.grid.itemWidth);
  }

  /** After the data changed: keeps the focus on the same item (or the same place), drops vanished selections. */
  refresh(focusKey?: string): void {
    const items = this.items();
    const keys = new Set(items.map((_, i) => this.keyOf(i)!));
    if (focusKey) {
      const i = items.findIndex((_, j) => this.keyOf(j) === focusKey);
      if (i >= 0) this.focus = i;
    }
    this.focus = Math.max(0, Math.min(this.focus, items.length - 1));
    for (const k of [...this.selected]) if (!keys.has(k)) this.selected.delete(k);
    if (!this.selected.size && items.length) this.selected.add(this.keyOf(this.focus)!);
    this.grid.setCount(items.length);
  }

  private click(e: MouseEvent): void {
    const target = e.target as HTMLElement;
    const i = this.grid.indexOf(target);
    if (i < 0) return;
    const it = this.items()[i]!;
    const member = target.closest<HTMLElement>('[data-member]')?.dataset.member;
    if (isGroup(it) && target.closest('.resolve')) {
      this.focus = i;
      this.selected.clear();
      this.selected.add(this.keyOf(i)!);
      this.trash();
      return;
    }
    if (isGroup(it) && member) {
      this.board.model.keepPick.set(it.id, member);
      this.board.model.invalidate();
    }
    const key = this.keyOf(i)!;
    if (e.shiftKey) this.selectRange(this.anchor, i);
    else if (e.ctrlKey || e.metaKey) this.selected.has(key) ? this.selected.delete(key) : this.selected.add(key);
    else {
      this.selected.clear();
      this.selected.add(key);
      this.anchor = i;
    }
    this.focus = i;
    this.changed();
  }

  private selectRange(a: number, b: number): void {
    this.selected.clear();
    for (let j = Math.min(a, b); j <= Math.max(a, b); j++) this.selected.add(this.keyOf(j)!);
  }

  private changed(): void {
    this.grid.paint(true);
    this.board.selectionChanged(this);
  }

  // ---- KeyTarget ----
  cols(): number {
    return this.grid.cols;
  }
  rowsPerPage(): number {
    return Math.max(1, Math.floor(this.grid.el.clientHeight / 222));
  }
  move(delta: number | 'home' | 'end', extend: boolean): void {
    const n = this.items().length;
    if (!n) return;
    const to = delta === 'home' ? 0 : delta === 'end' ? n - 1 : Math.max(0, Math.min(n - 1, this.focus + delta));
    this.focus = to;
    if (extend) this.selectRange(this.anchor, to);
    else {
      this.anchor = to;
      this.selected.clear();
      this.selected.add(this.keyOf(to)!);
    }
    this.grid.reveal(to);
    this.changed();
  }
  selectAll(): void {
    for (let i = 0; i < this.items().length; i++) this.selected.add(this.keyOf(i)!);
    this.changed();
  }

  /** The current paths of the selected cards (for a group: the copies not kept). */
  private targets(others = false): string[] {
    const m = this.board.model;
    const out: string[] = [];
    for (const [i, it] of this.items().entries()) {
      if (!this.selected.has(this.keyOf(i)!)) continue;
      const keys = isGroup(it) ? (others ? it.files.filter((f) => f !== it.keeper) : [it.keeper]) : [it.key];
      for (const k of keys) {
        const p = m.pathOf(k);
        if (p) out.push(p);
      }
    }
    return out;
  }
  private focused(): Item | undefined {
    return this.items()[this.focus];
  }

  open(): void {
    const it = this.focused();
    const key = it && (isGroup(it) ? it.keeper : it.key);
    const p = key && this.board.model.pathOf(key);
    if (p) this.board.send({ type: 'open', file: p });
  }
  keep(): void {
    if (this.tab !== 'labels') {
      this.board.status('Keep label is for the Label issues tab.');
      return;
    }
    this.board.act('keep', this.targets());
  }
  moveToSuggested(): void {
    if (this.tab !== 'labels') {
      this.board.status('Only label issues have a suggested class: press 1–9 to pick one.');
      return;
    }
    const byLabel = new Map<string, string[]>();
    for (const [i, it] of this.items().entries()) {
      if (isGroup(it) || !it.suggested || !this.selected.has(this.keyOf(i)!)) continue;
      const p = this.board.model.pathOf(it.key);
      if (p) byLabel.set(it.suggested, [...(byLabel.get(it.suggested) ?? []), p]);
    }
    for (const [label, files] of byLabel) this.board.act('move', files, label);
  }
  moveToClass(index: number): void {
    const label = this.board.model.classes()[index];
    if (!label) {
      this.board.status(`There is no class ${index + 1}.`);
      return;
    }
    this.board.act('move', this.targets(), label);
  }
  trash(): void {
    this.board.act('trash', this.targets(this.tab === 'duplicates'));
  }
  similar(): void {
    const it = this.focused();
    const key = it && (isGroup(it) ? it.keeper : it.key);
    const p = key && this.board.model.pathOf(key);
    if (p) this.board.send({ type: 'similar', file: p });
  }
  undo(): void {
    this.board.send({ type: 'undo' });
  }
  redo(): void {
    this.board.send({ type: 'redo' });
  }
}
