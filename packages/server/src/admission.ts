/**
 * Admission of images into the engine: at most `limit` images are read, decoded or queued for inference at a
 * time (bounded memory whatever the number of requests), interactive ones first, with a few extra slots that
 * only interactive requests may use so a hover never waits for a folder's images to leave the pipeline.
 */
import { ClassifierError } from '@image-classifier/core';

interface Waiter {
  go: () => void;
  interactive: boolean;
}

export class Admission {
  private active = 0;
  private activeInteractive = 0;
  private readonly interactiveQ: Waiter[] = [];
  private readonly bulkQ: Waiter[] = [];

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

  private pump(): void {
    for (;;) {
      let w: Waiter | undefined;
      if (this.interactiveQ.length && this.canGo(true)) w = this.interactiveQ.shift();
      else if (!this.interactiveQ.length && this.bulkQ.length && this.canGo(false)) w = this.bulkQ.shift();
      if (!w) return;
      this.take(w.interactive);
      w.go();
    }
  }
}
