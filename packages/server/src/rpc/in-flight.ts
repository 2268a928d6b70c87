/**
 * The requests in flight: single classifications waiting or running (bounded by `maxQueue`) and folder batches
 * running (at most MAX_CONCURRENT_BATCHES). classify.ts and batch.ts take a slot and give it back; stopServer waits
 * until none is left. The counts change only through these methods.
 */
import { ClassifierError } from '@image-classifier/core';

/** Batches running at once; one more is QUEUE_FULL. */
export const MAX_CONCURRENT_BATCHES = 8;

export class InFlight {
  private singles = 0;
  private batches = 0;

  get pendingSingles(): number {
    return this.singles;
  }
  get runningBatches(): number {
    return this.batches;
  }
  /** No request holds a slot. */
  get idle(): boolean {
    return this.singles === 0 && this.batches === 0;
  }

  /** QUEUE_FULL when `max` single requests already wait. */
  checkSingleRoom(max: number): void {
    if (this.singles >= max) {
      throw new ClassifierError('QUEUE_FULL', `The server has ${this.singles} requests waiting (limit ${max}); try again shortly.`);
    }
  }

  /** One single request more; the returned function gives its slot back (once). */
  enterSingle(): () => void {
    this.singles++;
    return once(() => this.singles--);
  }

  /** One batch more, QUEUE_FULL beyond MAX_CONCURRENT_BATCHES; the returned function gives its slot back (once). */
  enterBatch(): () => void {
    if (this.batches >= MAX_CONCURRENT_BATCHES) {
      throw new ClassifierError('QUEUE_FULL', `${this.batches} batches are already running; wait for one to finish.`);
    }
    this.batches++;
    return once(() => this.batches--);
  }
}

function once(f: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    f();
  };
}
