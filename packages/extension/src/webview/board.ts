/**
 * The curation board (webview script, bundled to dist/media/board.js): tabs, the class list with its numbers, the
 * grids, the Overview, and the messages with the host. DOM only.
 */
import type { BoardMessage, HostMessage } from '../curation/shared/messages';
import type { BoardActionKind } from '../curation/shared/types';
import { type BoardState, type KeepRule, type TabId, host, loadState } from './api';
import { resetFit } from './fit';
import { handleKey } from './keys';
import { FindBox } from './find-box';
import { BoardModel } from './model';
import { applyInlineStyles, classColour, renderOverview } from './overview';
import { likelyText } from './likely-text';
import { analysedLine } from './overview-counts';
import { GridTab } from './tabview';
import { TABS } from './tabs';
import { Thumbs } from './thumbs';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const $ = <T extends HTMLElement>(sel: string) => document.querySelector<T>(sel)!;

export class Board {
  readonly state: BoardState = loadState();
  readonly model = new BoardModel();
  readonly thumbs = new Thumbs(() => this.view?.grid.paint(true));
  private readonly views = new Map<TabId, GridTab>();
  private view: GridTab | undefined;
  /** The concept search box. */
  private readonly findBox: FindBox;
  /** Figures for the tests: report received → first painted grid (ms). */
  readonly perf: Record<string, number> = {};

  constructor() {
    window.addEventListener('message', (e: MessageEvent<HostMessage>) => this.receive(e.data));
    document.addEventListener('keydown', (e) => {
      if (e.target instanceof HTMLSelectElement || e.target instanceof HTMLInputElement) return;
      if (e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey) {
        this.findBox.focus();
        e.preventDefault();
        return;
      }
      const target = this.view && this.state.tab !== 'overview' ? this.view : undefined;
      if (target && handleKey(e, target)) e.preventDefault();
      else if (!target && (e.ctrlKey || e.metaKey) && /^[zy]$/i.test(e.key)) {
        this.send({ type: /y/i.test(e.key) || e.shiftKey ? 'redo' : 'undo' });
        e.preventDefault();
      }
    });
    $('.undo').addEventListener('click', () => this.send({ type: 'undo' }));
    $('.redo').addEventListener('click', () => this.send({ type: 'redo' }));
    $('.export').addEventListener('click', () => this.send({ type: 'export' }));
    this.model.allLabelIssues = this.state.allLabelIssues === true;
    this.findBox = new FindBox($<HTMLInputElement>('.find'), $('.find-note'), {
      send: (m) => this.send(m),
      view: () => ({ tab: this.state.tab, similar: this.model.similar }),
      restore: (tab, similar) => {
        this.model.restoreSimilar(similar);
        this.renderTabs();
        this.show(tab);
      },
      show: (m) => {
        this.model.setFound(m);
        this.renderTabs();
        this.show('similar');
        const c = this.model.similar.concept;
        return { count: c?.count ?? 0, capped: c?.capped ?? false };
      },
      focusGrid: () => {
        if (!this.view || this.state.tab === 'overview') return false;
        this.view.grid.el.focus();
        return true;
      },
    });
    this.watchFonts();
    this.renderTabs();
    this.show(this.state.tab);
    this.send({ type: 'ready' });
  }

  /** VS Code restyles the page (its CSS variables, the body's theme class) on a theme or font change: the cards' text is fitted again. */
  private watchFonts(): void {
    const fontNow = () => {
      const s = getComputedStyle(document.body);
      return `${s.fontFamily}|${s.fontSize}`;
    };
    let font = fontNow();
    const watcher = new MutationObserver(() => {
      const now = fontNow();
      if (now === font) return;
      font = now;
      resetFit();
      this.view?.grid.paint(true);
    });
    for (const el of [document.documentElement, document.body])
      watcher.observe(el, { attributes: true, attributeFilter: ['style', 'class'] });
  }

  send(m: BoardMessage): void {
    host.postMessage(m);
  }
  act(action: BoardActionKind, files: string[], toLabel?: string): void {
    if (!files.length) {
      this.status('Select one or more cards first (click, Ctrl+click, Shift+click, or the arrows).');
      return;
    }
    this.send({ type: 'action', action, files, toLabel });
  }
  status(message: string, error = false): void {
    const s = $('.status');
    s.textContent = message;
    s.title = message;
    s.classList.toggle('error', error);
  }

  private save(): void {
    host.setState(this.state);
  }

  private receive(m: HostMessage): void {
    switch (m.type) {
      case 'progress':
        this.model.partial.push(...m.partial);
        this.status(m.message);
        if (this.state.tab === 'overview' && !this.model.report) this.show('overview');
        return;
      case 'report': {
        const t0 = performance.now();
        this.model.setReport(m);
        this.state.root = m.rootUri;
        this.save();
        this.setUndo(m);
        this.status(`${analysedLine(m.report.counts)}.`);
        this.refreshAll(true);
        requestAnimationFrame(() => requestAnimationFrame(() => (this.perf.reportToPaintMs = performance.now() - t0)));
        return;
      }
      case 'outcome':
        this.setUndo(m);
        this.status(m.outcome.message, !m.outcome.ok);
        if (m.outcome.ok) this.model.apply(m.outcome);
        this.refreshAll(false);
        return;
      case 'thumbs':
        this.thumbs.receive(m.urls);
        return;
      case 'found':
        this.findBox.receive(m);
        return;
      case 'similar': {
        const name = m.of.slice(m.of.lastIndexOf('/') + 1);
        this.findBox.forget();
        this.model.setSimilar(`Images nearest to ${name}`, m.items);
        this.renderTabs();
        this.show('similar');
        return;
      }
      case 'status':
        this.status(m.message, m.error);
        return;
      case 'tab':
        this.show(m.tab);
        return;
    }
  }

  private setUndo(m: { canUndo: boolean; canRedo: boolean }): void {
    $<HTMLButtonElement>('.undo').disabled = !m.canUndo;
    $<HTMLButtonElement>('.redo').disabled = !m.canRedo;
  }

  /** Region of the 2-D map → the Similar tab's grid. */
  private region(keys: string[]): void {
    this.findBox.forget();
    this.model.setRegion(`${keys.length} image${keys.length === 1 ? '' : 's'} selected on the map`, keys);
    this.renderTabs();
    this.show('similar');
  }

  private refreshAll(fresh: boolean): void {
    this.renderTabs();
    this.renderClasses();
    for (const v of this.views.values()) v.refresh(fresh ? this.state.focus[v.tab] : undefined);
    // A new report rebuilds the tab in view (its toolbar said "reading…"); an action only refreshes it.
    if (this.state.tab === 'overview' || fresh) this.show(this.state.tab);
  }

  private renderTabs(): void {
    const m = this.model;
    const count = (t: TabId) =>
      !m.report || t === 'overview' ? '' : ` (${t === 'duplicates' ? m.groups(this.state.keepRule).length : m.cards(t).length})`;
    const nav = $('.tabs');
    nav.innerHTML = TABS.map(
      (t) => `<button role="tab" data-tab="${t.id}" aria-selected="${t.id === this.state.tab}">${t.title}${count(t.id)}</button>`,
    ).join('');
    nav.querySelectorAll<HTMLButtonElement>('button').forEach((b) => {
      b.addEventListener('click', () => this.show(b.dataset.tab as TabId));
    });
  }

  private renderClasses(): void {
    const names = this.model.classes();
    const el = $('.classes');
    el.innerHTML = names
      .map(
        (n, i) =>
          `<button data-class="${i}" title="Move the selection to ${esc(n)}${i < 9 ? ` (${i + 1})` : ''}"><i data-colour="${classColour(i, names.length)}"></i>${i < 9 ? `<kbd>${i + 1}</kbd>` : ''}${esc(n)}</button>`,
      )
      .join('');
    applyInlineStyles(el);
    for (const b of el.querySelectorAll<HTMLButtonElement>('button')) {
      b.addEventListener('click', () => this.view?.moveToClass(Number(b.dataset.class)));
    }
  }

  /** Shows a tab: the Overview, or a grid (created on first use). */
  show(tab: TabId): void {
    this.state.tab = tab;
    this.save();
    document.querySelectorAll<HTMLElement>('.tabs button').forEach((b) => {
      b.setAttribute('aria-selected', String(b.dataset.tab === tab));
    });
    const content = $('.content');
    if (tab === 'overview') {
      this.view = undefined;
      content.replaceChildren();
      renderOverview(content, this.model, this.thumbs, (keys) => this.region(keys));
      return;
    }
    let v = this.views.get(tab);
    if (!v) {
      v = new GridTab(this, tab);
      this.views.set(tab, v);
    }
    this.view = v;
    content.replaceChildren(...this.toolbar(tab), v.grid.el);
    v.refresh(this.state.focus[tab]);
    // Re-attached, the grid starts at the top: the focused card is brought back into view.
    if (v.grid.size) v.grid.reveal(v.focus);
    v.grid.el.focus();
  }

  private toolbar(tab: TabId): HTMLElement[] {
    const bar = document.createElement('div');
    bar.className = 'toolbar';
    const hints: Partial<Record<TabId, string>> = {
      labels: '<kbd>m</kbd> move to the suggested class · <kbd>k</kbd> keep the label · <kbd>1</kbd>–<kbd>9</kbd> pick a class',
      duplicates: 'Click a copy to keep it · <kbd>Delete</kbd> trashes the other copies',
      similar: esc(this.model.similar.title) || 'Press <kbd>s</kbd> on a card to see its nearest images',
    };
    // The keys every grid shares (the Duplicates hint says what Delete does there).
    const common = [tab === 'duplicates' ? '' : '<kbd>Delete</kbd> trash', '<kbd>Enter</kbd> open', '<kbd>Ctrl+Z</kbd> undo'];
    const hint = [hints[tab] ?? '', ...common].filter(Boolean).join(' · ');
    bar.innerHTML = this.model.report
      ? `<span class="hint">${hint}</span>`
      : '<span class="hint">Reading the dataset… the cards appear when the analysis ends (the Overview shows the images read so far).</span>';
    const estimate = tab === 'labels' ? this.model.report?.counts.estimatedLabelErrors : undefined;
    if (estimate !== undefined && this.model.report) bar.prepend(this.likelyToggle(estimate, this.model.report.labelIssues.length));
    if (tab === 'duplicates') {
      const sel = document.createElement('select');
      sel.className = 'keep-rule';
      sel.setAttribute('aria-label', 'Copy to keep');
      const rules: [KeepRule, string][] = [
        ['largest', 'Keep the largest'],
        ['oldest', 'Keep the oldest'],
        ['train', 'Keep the one in the training split'],
      ];
      sel.innerHTML = rules.map(([v, t]) => `<option value="${v}"${v === this.state.keepRule ? ' selected' : ''}>${t}</option>`).join('');
      sel.addEventListener('change', () => {
        this.state.keepRule = sel.value as KeepRule;
        this.model.keepPick.clear();
        this.save();
        this.views.get('duplicates')?.refresh();
      });
      bar.prepend(sel);
    }
    return [bar];
  }

  /** likelyText's sentence ("Likely about 18 real label errors … among the 51 files flagged") · Show all 51 / Show the likely 18. */
  private likelyToggle(estimate: number, flagged: number): HTMLElement {
    const box = document.createElement('span');
    box.className = 'likely';
    const all = this.model.allLabelIssues;
    const said = likelyText(estimate, flagged);
    box.innerHTML =
      `<span class="estimate" title="Confident learning's estimate of how many labels are wrong; the flagged files are ranked, the likely errors first">` +
      `${said}</span> `;
    if (estimate >= flagged) return box;
    const l = { estimate, flagged };
    const button = document.createElement('button');
    button.className = 'show-all-labels';
    button.textContent = all ? `Show the likely ${l.estimate}` : `Show all ${l.flagged}`;
    button.addEventListener('click', () => {
      this.state.allLabelIssues = !all;
      this.model.setAllLabelIssues(!all);
      this.save();
      this.renderTabs();
      this.show('labels');
    });
    box.append(button);
    return box;
  }

  selectionChanged(v: GridTab): void {
    const key = v.keyOf(v.focus);
    if (key) this.state.focus[v.tab] = key;
    this.save();
    if (v.tab === 'duplicates') v.refresh();
  }
}

(window as unknown as { __board: Board }).__board = new Board();
