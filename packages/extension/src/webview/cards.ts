/** How a card and a duplicate group look: built once per cell and item, then only their classes change. */
import type { Card, GroupView } from './model';
import type { BoardModel } from './model';
import { type FitMode, fitGeneration, fitText } from './fit';
import type { Thumbs } from './thumbs';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);

function img(thumbs: Thumbs, path: string | null, cls = 'thumb'): string {
  const url = path ? thumbs.url(path) : undefined;
  return `<div class="${cls}">${url ? `<img alt="" src="${esc(url)}">` : ''}</div>`;
}

/** A card's padding and border on each side (board.css: border-box cells); a duplicate's member text width (content-box). */
const CARD_INSET = 7;
const MEMBER_TEXT = 160;

/**
 * A line of text (class `cls`) fitted to `width`: cut with an ellipsis where it is longer, the whole text then in
 * `data-text` and (`tooltip`) in its tooltip. A file name needs no tooltip of its own: its card's is the whole path.
 */
function line(
  cls: string,
  text: string,
  width: number,
  host: string,
  o: { mode?: FitMode; prefix?: string; tooltip?: boolean; why?: string } = {},
): string {
  const whole = (o.prefix ?? '') + text;
  const shown = fitText(whole, width, cls, host, o.mode);
  const full = shown !== whole && o.tooltip !== false ? text : '';
  // The hover says the whole text when it is cut, and why the card is here (the report's reasons).
  const tipText = [full, o.why ?? ''].filter(Boolean).join('\n');
  const tip = tipText ? ` title="${esc(tipText)}"` : '';
  return `<div class="${cls}" data-text="${esc(text)}"${tip}>${esc(shown)}</div>`;
}

/** Fills a grid cell (`width` px wide) with a card; `version` changes when its content must be rebuilt (a move, a thumbnail). */
export function renderCard(
  el: HTMLElement,
  card: Card,
  model: BoardModel,
  thumbs: Thumbs,
  focused: boolean,
  selected: boolean,
  width: number,
): void {
  const path = model.pathOf(card.key);
  const url = path ? thumbs.url(path) : undefined;
  const why = card.reasons?.join('; ') ?? '';
  const version = `${card.key}|${path}|${card.detail}|${card.scoreText ?? ''}|${why}|${url ?? ''}|${width}|${fitGeneration()}`;
  if (el.dataset.version !== version) {
    el.dataset.version = version;
    el.dataset.key = card.key;
    el.title = path ?? card.key;
    // What a screen reader says: the whole texts (the card shows them cut to its width).
    const scoreText = card.scoreText ?? card.score.toFixed(3);
    el.setAttribute('aria-label', `${base(path ?? card.key)}, ${card.detail}${scoreText ? `, ${scoreText}` : ''}${why ? `, ${why}` : ''}`);
    const w = width - 2 * CARD_INSET;
    el.innerHTML =
      img(thumbs, path) +
      line('name', base(path ?? card.key), w, 'cell card', { mode: 'middle', tooltip: false }) +
      line('detail', card.detail, w, 'cell card', why ? { why: card.reasons!.join('\n') } : {}) +
      (scoreText ? `<div class="score" title="${esc(card.scoreTitle ?? 'score')}">${esc(scoreText)}</div>` : '');
  }
  el.classList.add('card');
  el.classList.toggle('focused', focused);
  el.classList.toggle('selected', selected);
  el.setAttribute('role', 'gridcell');
  el.setAttribute('aria-selected', String(selected));
}

function sizeText(model: BoardModel, key: string): string {
  const f = model.file(key);
  const px = f?.width && f.height ? `${f.width}×${f.height}` : '';
  const bytes = model.facts[key]?.bytes;
  const kb = bytes === undefined ? '' : bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.round(bytes / 1024)} KB`;
  return [px, kb].filter(Boolean).join(' · ');
}

/** Fills a row with a duplicate group: its members side by side, the copy to keep marked. */
export function renderGroup(el: HTMLElement, g: GroupView, model: BoardModel, thumbs: Thumbs, focused: boolean, selected: boolean): void {
  const members = g.files
    .map((key) => {
      const path = model.pathOf(key) ?? key;
      const keep = key === g.keeper;
      const split = model.file(key)?.split;
      const where = [split, model.labelOf(key)].filter(Boolean).join('/');
      const size = sizeText(model, key);
      const said = [base(path), where, size, keep ? 'keep' : 'trash'].filter(Boolean).join(', ');
      return (
        `<div class="member${keep ? ' keeper' : ' other'}" data-member="${esc(key)}" title="${esc(path)}" aria-label="${esc(said)}">` +
        img(thumbs, path) +
        line('name', base(path), MEMBER_TEXT, 'member', { mode: 'middle', prefix: keep ? '★ ' : '', tooltip: false }) +
        line('detail', where, MEMBER_TEXT, 'member') +
        line('detail', size, MEMBER_TEXT, 'member') +
        `<div class="tag">${keep ? 'keep' : 'trash'}</div></div>`
      );
    })
    .join('');
  const version = `${g.id}|${g.keeper}|${g.files.join(',')}|${g.files.map((f) => thumbs.url(model.pathOf(f) ?? f) ?? '').join(',')}|${fitGeneration()}`;
  if (el.dataset.version !== version) {
    el.dataset.version = version;
    el.dataset.key = `g:${g.id}`;
    el.innerHTML =
      `<div class="group-head"><span>${esc(g.note)}</span>` +
      `<button class="resolve" data-group="${g.id}" title="Trash the other copies (Delete)">Keep ★, trash ${g.files.length - 1}</button></div>` +
      `<div class="members">${members}</div>`;
  }
  el.classList.add('group');
  el.classList.toggle('focused', focused);
  el.classList.toggle('selected', selected);
  el.setAttribute('role', 'gridcell');
  el.setAttribute('aria-selected', String(selected));
}
