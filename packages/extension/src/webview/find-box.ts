/**
 * The board's concept search box (`.find`) and its note (`.find-note`): Enter searches (an empty box does not),
 * Escape or emptying the box by any means puts back the tab and the Similar grid shown before the search, ArrowDown
 * goes to the cards. Only the answer to the latest search is shown: each search has a number, a newer search or a
 * cleared box cancels the one in flight, and an answer with an older number is dropped. The note says what the
 * search found, or why it found nothing with the close matches as links that search them.
 */
import type { BoardMessage, HostMessage } from '../curation/shared/messages';
import type { TabId } from './api';
import { closeMatchParts } from './close-matches';
import type { SimilarView } from './model';

type Found = Extract<HostMessage, { type: 'found' }>;
export type FoundResult = Extract<Found, { concept: unknown }>;

/** What the box needs of the board. */
export interface FindHost {
  send(m: BoardMessage): void;
  /** The tab in view and what the Similar tab shows (kept before a search, put back when it is cleared). */
  view(): { tab: TabId; similar: SimilarView };
  restore(tab: TabId, similar: SimilarView): void;
  /** Shows a search's images in the Similar tab; how many it shows, and whether more lie under the concept. */
  show(m: FoundResult): { count: number; capped: boolean };
  /** Moves the focus to the grid in view; false when there is none. */
  focusGrid(): boolean;
}

export class FindBox {
  private seq = 0;
  private pending = false;
  private before: { tab: TabId; similar: SimilarView } | undefined;

  constructor(
    private readonly box: HTMLInputElement,
    private readonly note: HTMLElement,
    private readonly host: FindHost,
  ) {
    box.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') this.search(box.value);
      else if (e.key === 'Escape' && box.value) {
        box.value = '';
        this.clear();
      } else if (!(e.key === 'ArrowDown' && host.focusGrid())) return;
      e.preventDefault();
      e.stopPropagation();
    });
    box.addEventListener('input', () => {
      if (!box.value.trim()) this.clear();
    });
  }

  focus(): void {
    this.box.focus();
    this.box.select();
  }

  search(text: string): void {
    const noun = text.trim();
    if (!noun) {
      this.clear();
      return;
    }
    this.before ??= this.host.view();
    this.pending = true;
    this.say(`Finding images under '${noun}'…`);
    this.host.send({ type: 'find', noun, seq: ++this.seq });
  }

  /** The box was emptied: the search in flight is cancelled, the board shows what it showed before the search. */
  private clear(): void {
    this.seq++;
    if (this.pending) this.host.send({ type: 'find', noun: '', seq: this.seq });
    this.pending = false;
    this.say('');
    const before = this.before;
    this.before = undefined;
    if (before) this.host.restore(before.tab, before.similar);
  }

  /** Something else took over the Similar tab (nearest images, a map region): the search is over, the box empty. */
  forget(): void {
    this.seq++;
    this.pending = false;
    this.before = undefined;
    this.box.value = '';
    this.say('');
  }

  receive(m: Found): void {
    // The answer to a search that a newer one (or a cleared box) replaced.
    if (m.seq !== this.seq) return;
    this.pending = false;
    if ('error' in m) {
      this.sayError(m.error);
      return;
    }
    const typing = document.activeElement === this.box;
    const { count: n, capped } = this.host.show(m);
    const sense = m.noun.toLowerCase() === m.concept.name ? '' : ` (${m.concept.name})`;
    this.say(`${capped ? 'The first ' : ''}${n} image${n === 1 ? '' : 's'} under '${m.noun}'${sense}.`);
    // Typing goes on in the box (a refined noun, Escape); ArrowDown goes to the cards.
    if (typing) this.box.focus();
  }

  private say(text: string): void {
    this.note.classList.remove('error');
    this.note.textContent = text;
  }

  /** The sentence, each close match a link that searches it. */
  private sayError(message: string): void {
    const { before, matches, after } = closeMatchParts(message);
    this.note.classList.add('error');
    this.note.replaceChildren(before);
    matches.forEach((word, i) => {
      const b = document.createElement('button');
      b.className = 'match';
      b.textContent = word;
      b.title = `Find '${word}'`;
      b.addEventListener('click', () => {
        this.box.value = word;
        this.search(word);
      });
      this.note.append(...(i ? [', ', b] : [b]));
    });
    this.note.append(after);
  }
}
