/**
 * Admission of images into the engine: at most `limit` images are read, decoded or queued for inference at a
 * time (bounded memory whatever the number of requests), interactive ones first, with a few extra slots that
 * only interactive requests may use so a hover never waits for a folder's images to leave the pipeline.
 *
 * Fairness when thousands of single requests wait: interactive waiters are admitted alternately newest and oldest,
 * so the hover the user is looking at now goes within a slot or two while the older ones still progress at half
 * the rate; and while more than FLOOD interactive requests wait, every BULK_SHARE-th admission goes to a waiting
 * folder run, which therefore slows down but never stops. (Cached answers never come here: they are answered
 * before admission.)
 */
import { ClassifierError } from '@image-classifier/core';

/** More interactive waiters than this is a flood (bulk then gets a share). */
const FLOOD = 64;
/** During a flood, one admission in BULK_SHARE goes to bulk work. */
const BULK_SHARE = 4;

interface Waiter {
  go: () => void;
  interactive: boolean;
}

export class Admission {
  private active = 0;
  private activeInteractive = 0;
  private readonly interactiveQ: Waiter[] = [];
  private readonly bulkQ: Waiter[] = [];
  /** Admissions from the queues, for the alternation and the bulk share. */
  private picks = 0;

  constructor(
    private limit: number,
    private readonly interactiveReserve: number,
  ) {}

  setLimit(limit: number): void {
    this.limit = Math.max(1, limit);
    this.pump();
  }

  /** Images waiting for admission. */
  get waiting(): number {
    return this.interactiveQ.length + this.bulkQ.length;
  }

  private canGo(interactive: boolean): boolean {
    if (this.active < this.limit) return true;
    return interactive && this.activeInteractive < this.interactiveReserve;
  }

  async acquire(interactive: boolean, signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw new ClassifierError('CANCELLED', 'The request was cancelled.');
    if (this.canGo(interactive) && (interactive || this.interactiveQ.length === 0)) {
      this.take(interactive);
    } else {
      // pump() takes the slot for us before it calls go().
      await new Promise<void>((resolve, reject) => {
        const w: Waiter = { go: resolve, interactive };
        const q = interactive ? this.interactiveQ : this.bulkQ;
        q.push(w);
        signal?.addEventListener(
          'abort',
          () => {
            const i = q.indexOf(w);
            if (i >= 0) {
              q.splice(i, 1);
              reject(new ClassifierError('CANCELLED', 'The request was cancelled.'));
            }
          },
          { once: true },
        );
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      if (interactive) this.activeInteractive--;
      this.pump();
    };
  }

  private take(interactive: boolean): void {
    this.active++;
    if (interactive) this.activeInteractive++;
  }

  /** The next waiter to admit, if a slot allows. */
  private pick(): Waiter | undefined {
    const iq = this.interactiveQ;
    const bulkOk = this.bulkQ.length > 0 && this.canGo(false);
    if (bulkOk && (iq.length === 0 || (iq.length > FLOOD && this.picks % BULK_SHARE === BULK_SHARE - 1))) {
      this.picks++;
      return this.bulkQ.shift();
    }
    if (!iq.length || !this.canGo(true)) return undefined;
    return this.picks++ % 2 === 0 ? iq.pop() : iq.shift();
  }

  private pump(): void {
    for (;;) {
      const w = this.pick();
      if (!w) return;
      this.take(w.interactive);
      w.go();
    }
  }
}
