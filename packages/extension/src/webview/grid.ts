/**
 * A virtualized grid: only the rows in view (and two above and below) are in the DOM, in their order on screen; each
 * row is one absolutely placed element holding its cells in normal flow, kept while it stays in view; scrolling adds
 * or drops whole rows, at most once per animation frame. 10,000 cards cost as much as the fifty on screen.
 *
 * What a frame of scrolling costs the renderer's main thread is what Chromium must repaint and layerize: every cell
 * in the rows kept is repainted when rows come and go (the scroller's cull rect moves with it), and each clip,
 * transform or paint containment in a cell is a paint-property node to walk. So a row has one transform, and cells
 * and their text have none of them (no `overflow: hidden`, no `contain: paint`): text is fitted to the card's width
 * in script instead (see cards.ts). In VS Code the webview's wheel scrolling waits on that main thread.
 */
export interface GridOptions {
  itemWidth: number;
  itemHeight: number;
  gap: number;
  /** One item per row, as wide as the grid (the duplicates' groups). */
  fullWidth?: boolean;
  /** Fills (or refreshes) the element of item `index`. */
  render(el: HTMLElement, index: number): void;
  label: string;
}

const OVERSCAN_ROWS = 2;

export class VirtualGrid {
  readonly el: HTMLElement;
  private readonly spacer: HTMLElement;
  /** Row number → its element (cells in index order). */
  private readonly rows = new Map<number, HTMLElement>();
  private count = 0;
  cols = 1;
  private width = 0;
  private frame = 0;
  /** Paints and the main-thread time they took (the performance check reports them). */
  readonly stats = { paints: 0, paintMs: 0 };

  constructor(private readonly opts: GridOptions) {
    this.el = document.createElement('div');
    this.el.className = 'grid';
    this.el.tabIndex = 0;
    this.el.setAttribute('role', 'grid');
    this.el.setAttribute('aria-label', opts.label);
    this.spacer = document.createElement('div');
    this.spacer.className = 'grid-spacer';
    this.el.append(this.spacer);
    this.el.addEventListener('scroll', () => this.schedule(), { passive: true });
    new ResizeObserver(() => {
      this.layout();
      this.paint(true);
    }).observe(this.el);
  }

  private get rowHeight(): number {
    return this.opts.itemHeight + this.opts.gap;
  }
  /**
   * An item's width: (full-width rows) the grid's; otherwise at least `itemWidth`, widened so that the columns fill
   * the grid (a board beside an editor has no strip of unused width at its right).
   */
  get itemWidth(): number {
    if (this.opts.fullWidth) return Math.max(200, this.el.clientWidth - 2 * this.opts.gap);
    return this.width || this.opts.itemWidth;
  }

  setCount(n: number): void {
    this.count = n;
    const lastRow = Math.ceil(n / this.cols) - 1;
    for (const [r, el] of this.rows) {
      if (r <= lastRow) continue;
      el.remove();
      this.rows.delete(r);
    }
    this.layout();
    this.paint(true);
  }

  get size(): number {
    return this.count;
  }

  private layout(): void {
    const { gap } = this.opts;
    const w = this.el.clientWidth || 800;
    const cols = this.opts.fullWidth ? 1 : Math.max(1, Math.floor((w - gap) / (this.opts.itemWidth + gap)));
    const width = this.opts.fullWidth ? Math.max(200, w - 2 * gap) : Math.max(this.opts.itemWidth, Math.floor((w - gap) / cols) - gap);
    if (cols !== this.cols || width !== this.width) {
      // Rows are rebuilt for another column count (or, full width, another item width).
      this.cols = cols;
      this.width = width;
      for (const el of this.rows.values()) el.remove();
      this.rows.clear();
    }
    this.spacer.style.height = `${Math.ceil(this.count / this.cols) * this.rowHeight + gap}px`;
    // The whole grid's size for assistive technology (only the rows in view are in the DOM).
    this.el.setAttribute('aria-rowcount', String(Math.ceil(this.count / this.cols)));
    this.el.setAttribute('aria-colcount', String(this.cols));
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.paint(false);
    });
  }

  /** Places the rows in view; `all` re-renders the items already placed too (after a selection or data change). */
  paint(all: boolean): void {
    const t0 = performance.now();
    const rowH = this.rowHeight;
    const top = this.el.scrollTop;
    const h = this.el.clientHeight || 600;
    const lastRowOfItems = Math.ceil(this.count / this.cols) - 1;
    const firstRow = Math.max(0, Math.floor(top / rowH) - OVERSCAN_ROWS);
    const lastRow = Math.min(lastRowOfItems, Math.ceil((top + h) / rowH) + OVERSCAN_ROWS);
    for (const [r, el] of this.rows) {
      if (r < firstRow || r > lastRow) {
        el.remove();
        this.rows.delete(r);
      }
    }
    // New rows go before the rows kept (scrolling up) or after them, so that the DOM (what a screen reader walks)
    // is in the order on screen.
    const kept = this.rows.size ? Math.min(...this.rows.keys()) : Number.POSITIVE_INFINITY;
    const keptFirst = this.rows.get(kept) ?? null;
    const above = document.createDocumentFragment();
    const below = document.createDocumentFragment();
    for (let r = firstRow; r <= lastRow; r++) {
      let row = this.rows.get(r);
      if (!row) {
        row = this.newRow(r);
        this.rows.set(r, row);
        this.fill(row, r);
        (r < kept ? above : below).append(row);
      } else if (all) {
        this.fill(row, r);
      }
    }
    if (keptFirst && above.childElementCount) this.el.insertBefore(above, keptFirst);
    else this.el.append(above);
    this.el.append(below);
    this.stats.paints++;
    this.stats.paintMs += performance.now() - t0;
  }

  private newRow(r: number): HTMLElement {
    const { gap, itemHeight } = this.opts;
    const row = document.createElement('div');
    row.className = 'grid-row';
    row.setAttribute('role', 'row');
    row.setAttribute('aria-rowindex', String(r + 1));
    row.style.height = `${itemHeight}px`;
    row.style.gap = `${gap}px`;
    row.style.transform = `translate(${gap}px, ${gap + r * this.rowHeight}px)`;
    return row;
  }

  /** Gives row `r` its cells (as many as it has items) and renders them. */
  private fill(row: HTMLElement, r: number): void {
    const first = r * this.cols;
    const n = Math.max(0, Math.min(this.cols, this.count - first));
    const width = this.width;
    while (row.childElementCount > n) row.lastElementChild!.remove();
    while (row.childElementCount < n) {
      const el = document.createElement('div');
      el.className = 'cell';
      el.style.width = `${width}px`;
      el.style.height = `${this.opts.itemHeight}px`;
      row.append(el);
    }
    let i = first;
    for (const el of row.children as HTMLCollectionOf<HTMLElement>) {
      if (el.dataset.index !== String(i)) {
        el.dataset.index = String(i);
        el.setAttribute('aria-colindex', String((i % this.cols) + 1));
      }
      this.opts.render(el, i++);
    }
  }

  /** Scrolls so that item `i` is in view. */
  reveal(i: number): void {
    const rowH = this.rowHeight;
    const y = Math.floor(i / this.cols) * rowH;
    if (y < this.el.scrollTop) this.el.scrollTop = y;
    else if (y + rowH > this.el.scrollTop + this.el.clientHeight) this.el.scrollTop = y + rowH - this.el.clientHeight + this.opts.gap;
    this.paint(true);
  }

  /** The item index of a clicked element, or -1. */
  indexOf(target: EventTarget | null): number {
    const cell = target instanceof Element ? target.closest<HTMLElement>('.cell') : null;
    return cell ? Number(cell.dataset.index) : -1;
  }

  /** The items now in the DOM (tests check the virtualization with it). */
  get domCount(): number {
    let n = 0;
    for (const row of this.rows.values()) n += row.childElementCount;
    return n;
  }
}
