/**
 * The Overview tab: classes with their counts and open label issues (a bar chart), the splits, the dataset's notes,
 * and the 2-D map of the embeddings (when the report has one) coloured by folder label: a click shows the image,
 * a drag selects a region into the grid.
 */
import type { CurationReport } from '@image-classifier/protocol';
import { type MapPoint, mapPoints } from './map-points';
import type { BoardModel } from './model';
import { classCounts, summaryLine } from './overview-counts';
import type { Thumbs } from './thumbs';
import { unreadableHeading, unreadableRows } from './unreadable';

/**
 * The CSP allows no inline style attributes: widths and colours travel as data attributes and are set through the
 * CSSOM (which the CSP allows).
 */
export function applyInlineStyles(root: HTMLElement): void {
  for (const el of root.querySelectorAll<HTMLElement>('[data-width]')) el.style.width = `${el.dataset.width}%`;
  for (const el of root.querySelectorAll<HTMLElement>('[data-colour]')) el.style.background = el.dataset.colour!;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
export const classColour = (i: number, n: number) => `hsl(${Math.round((360 * i) / Math.max(n, 1))} 70% 55%)`;

/** The class bars: per class, the images analysed (as the summary line counts them), open label issues, unreadable files. */
function barChart(model: BoardModel): string {
  const rows = classCounts(model);
  const max = Math.max(1, ...rows.map((c) => c.analysed));
  const html = rows.map(({ name, analysed: n, labelIssues: k, unreadable: u }, i) => {
    return (
      `<div class="bar-row"><span class="bar-name">${i < 9 ? `<kbd>${i + 1}</kbd> ` : ''}${esc(name)}</span>` +
      `<span class="bar-track"><span class="bar-fill" data-width="${(100 * n) / max}"></span>` +
      `<span class="bar-issues" data-width="${(100 * k) / max}"></span></span>` +
      `<span class="bar-count">${n} · ${k} issue${k === 1 ? '' : 's'}${u ? ` · ${u} unreadable` : ''}</span></div>`
    );
  });
  const legend =
    '<p class="muted"><span class="swatch files"></span> images analysed <span class="swatch issues"></span> open label issues</p>';
  return `<h2>Classes</h2><div class="bars">${html.join('')}</div>${legend}`;
}

function splits(report: CurationReport): string {
  if (!report.layout.splits.length) return '<p class="muted">No train/val/test splits: one folder per class.</p>';
  const per = (s: string) => report.classes.reduce((n, c) => n + (c.perSplit?.[s] ?? 0), 0);
  return `<h2>Splits</h2><p>${report.layout.splits.map((s) => `${esc(s)}: ${per(s)}`).join(' · ')}</p>`;
}

/** Renders the tab into `root`; `onRegion` gets the report paths inside a dragged rectangle. */
export function renderOverview(root: HTMLElement, model: BoardModel, thumbs: Thumbs, onRegion: (keys: string[]) => void): void {
  const r = model.report;
  if (!r) {
    const byLabel = new Map<string, number>();
    for (const p of model.partial) byLabel.set(p.label ?? '(root)', (byLabel.get(p.label ?? '(root)') ?? 0) + 1);
    root.innerHTML = `<div class="overview"><h2>Reading the dataset… ${model.partial.length} images so far</h2><p>${[...byLabel]
      .map(([l, n]) => `${esc(l)}: ${n}`)
      .join(' · ')}</p></div>`;
    return;
  }
  const summary = summaryLine(r.counts);
  const notes = r.warnings.length ? `<h2>Notes</h2><ul>${r.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : '';
  root.innerHTML = `<div class="overview"><p class="summary">${esc(summary)}</p><div class="overview-cols"><div>${barChart(model)}${splits(r)}${notes}</div><div class="map-box"></div></div></div>`;
  applyInlineStyles(root);
  appendUnreadable(root.querySelector<HTMLElement>('.overview-cols > div')!, r);
  const points = mapPoints(r);
  const box = root.querySelector<HTMLElement>('.map-box')!;
  if (!points.length) {
    box.innerHTML = '<p class="muted">No 2-D map in this report.</p>';
    return;
  }
  drawMap(box, model, thumbs, points, onRegion);
}

/** "N files could not be read" and the list (name, code, why), built as text nodes: names can be hostile. */
function appendUnreadable(col: HTMLElement, report: CurationReport): void {
  const rows = unreadableRows(report);
  if (!rows.length) return;
  const section = document.createElement('section');
  section.className = 'unreadable';
  const h = document.createElement('h2');
  h.textContent = unreadableHeading(rows.length);
  const list = document.createElement('ul');
  for (const row of rows) {
    const li = document.createElement('li');
    const name = document.createElement('span');
    name.className = 'unreadable-file';
    name.textContent = row.file;
    const code = document.createElement('code');
    code.textContent = row.code;
    li.append(name, ' ', code, row.message ? ` ${row.message}` : '');
    list.append(li);
  }
  section.append(h, list);
  col.append(section);
}

function drawMap(box: HTMLElement, model: BoardModel, thumbs: Thumbs, points: MapPoint[], onRegion: (keys: string[]) => void): void {
  box.innerHTML =
    '<h2>Map of the embeddings</h2><canvas class="map" width="520" height="400" aria-label="2-D map: click a point to see the image, drag to select a region"></canvas><div class="map-pick"></div>';
  const canvas = box.querySelector('canvas')!;
  const pick = box.querySelector<HTMLElement>('.map-pick')!;
  const ctx = canvas.getContext('2d')!;
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const pad = 12;
  const sx = (x: number) => pad + ((x - x0) / (x1 - x0 || 1)) * (canvas.width - 2 * pad);
  const sy = (y: number) => pad + ((y - y0) / (y1 - y0 || 1)) * (canvas.height - 2 * pad);
  const names = model.classes();
  const alive = points.filter((p) => model.pathOf(p.key) !== null);
  const draw = (rect?: [number, number, number, number]) => {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    for (const p of alive) {
      ctx.fillStyle = classColour(names.indexOf(model.labelOf(p.key) ?? ''), names.length);
      ctx.beginPath();
      ctx.arc(sx(p.x), sy(p.y), 4, 0, 2 * Math.PI);
      ctx.fill();
    }
    if (rect) {
      ctx.strokeStyle = getComputedStyle(document.body).getPropertyValue('--vscode-focusBorder') || '#08f';
      ctx.strokeRect(rect[0], rect[1], rect[2] - rect[0], rect[3] - rect[1]);
    }
  };
  draw();
  const legend = names.map((n, i) => `<span class="legend"><i data-colour="${classColour(i, names.length)}"></i>${esc(n)}</span>`);
  pick.innerHTML = legend.join(' ');
  applyInlineStyles(pick);
  // The canvas's place when the drag began: a report or an action that arrives mid-drag redraws the Overview
  // (a new canvas), and the drag still ends where the user lets go, on the document.
  let rect: DOMRect | undefined;
  const at = (e: MouseEvent, b: DOMRect = canvas.getBoundingClientRect()) =>
    [((e.clientX - b.left) * canvas.width) / b.width, ((e.clientY - b.top) * canvas.height) / b.height] as const;
  let start: readonly [number, number] | undefined;
  canvas.addEventListener('mousedown', (e) => {
    rect = canvas.getBoundingClientRect();
    start = at(e, rect);
    document.addEventListener('mouseup', finish, { once: true });
  });
  canvas.addEventListener('mousemove', (e) => {
    if (start && e.buttons)
      draw([Math.min(start[0], at(e)[0]), Math.min(start[1], at(e)[1]), Math.max(start[0], at(e)[0]), Math.max(start[1], at(e)[1])]);
  });
  const finish = (e: MouseEvent) => {
    if (!start || !rect) return;
    const [ex, ey] = at(e, rect);
    const [ax, ay] = start;
    start = undefined;
    if (Math.hypot(ex - ax, ey - ay) < 5) {
      const near = alive.map((p) => ({ p, d: Math.hypot(sx(p.x) - ex, sy(p.y) - ey) })).sort((a, b) => a.d - b.d)[0];
      if (!near || near.d > 10) return;
      const path = model.pathOf(near.p.key) ?? near.p.key;
      const url = thumbs.url(path);
      pick.innerHTML = `${url ? `<img class="map-image" alt="" src="${esc(url)}">` : ''}<div>${esc(path)}</div>`;
      return;
    }
    const [lx, hx, ly, hy] = [Math.min(ax, ex), Math.max(ax, ex), Math.min(ay, ey), Math.max(ay, ey)];
    draw();
    onRegion(alive.filter((p) => sx(p.x) >= lx && sx(p.x) <= hx && sy(p.y) >= ly && sy(p.y) <= hy).map((p) => p.key));
  };
}
