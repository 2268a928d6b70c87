/**
 * A virtualized grid: only the rows in view (and two above and below) are in the DOM, each card absolutely placed,
 * reused while it stays in view; scrolling repaints at most once per animation frame. 10,000 cards cost as much as
 * the fifty on screen.
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
  private readonly live = new Map<number, HTMLElement>();
  private count = 0;
  cols = 1;
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
  private get itemWidth(): number {
    return this.opts.fullWidth ? Math.max(200, this.el.clientWidth - 2 * this.opts.gap) : this.opts.itemWidth;
  }

  setCount(n: number): void {
    this.count = n;
    for (const [i, el] of this.live) {
      if (i < n) continue;
      el.remove();
      this.live.delete(i);
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
    if (cols !== this.cols) {
      this.cols = cols;
      for (const el of this.live.values()) el.remove();
      this.live.clear();
    }
    this.spacer.style.height = `${Math.ceil(this.count / this.cols) * this.rowHeight + gap}px`;
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.paint(false);
    });
  }

  /** Places the items in view; `all` re-renders those already placed too (after a selection or data change). */
  paint(all: boolean): void {
    const t0 = performance.now();
    const { gap } = this.opts;
    const rowH = this.rowHeight;
    const top = this.el.scrollTop;
    const h = this.el.clientHeight || 600;
    const firstRow = Math.max(0, Math.floor(top / rowH) - OVERSCAN_ROWS);
    const lastRow = Math.ceil((top + h) / rowH) + OVERSCAN_ROWS;
    const first = firstRow * this.cols;
    const last = Math.min(this.count - 1, (lastRow + 1) * this.cols - 1);
    for (const [i, el] of this.live) {
      if (i < first || i > last) {
        el.remove();
        this.live.delete(i);
      }
    }
    const width = this.itemWidth;
    const fresh = document.createDocumentFragment();
    for (let i = first; i <= last; i++) {
      let el = this.live.get(i);
      if (!el) {
        el = document.createElement('div');
        el.className = 'cell';
        el.dataset.index = String(i);
        el.style.width = `${width}px`;
        el.style.height = `${this.opts.itemHeight}px`;
        el.style.transform = `translate(${gap + (i % this.cols) * (width + gap)}px, ${gap + Math.floor(i / this.cols) * rowH}px)`;
        this.live.set(i, el);
        this.opts.render(el, i);
        fresh.append(el);
      } else if (all) {
        this.opts.render(el, i);
      }
    }
    this.el.append(fresh);
    this.stats.paints++;
    this.stats.paintMs += performance.now() - t0;
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
    return this.live.size;
  }
}
