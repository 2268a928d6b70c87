/** A counting semaphore with FIFO fairness, interactive waiters first. */
export class Semaphore {
  private waiting: Array<{ go: () => void; interactive: boolean }> = [];
  constructor(private free: number) {}
  async acquire(interactive: boolean): Promise<() => void> {
    if (this.free > 0) {
      this.free--;
    } else {
      await new Promise<void>((go) => {
        if (interactive) {
          const i = this.waiting.findIndex((w) => !w.interactive);
          this.waiting.splice(i < 0 ? this.waiting.length : i, 0, { go, interactive });
        } else this.waiting.push({ go, interactive });
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next.go();
      else this.free++;
    };
  }
}
