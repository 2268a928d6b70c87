/**
 * Tells the board's own file operations apart from changes made outside it, so that only the latter ask the report
 * again: events that arrive while an action runs are held; when it ends, those for the paths it changed (and their
 * folders) are dropped, the others count. Later events for its paths are dropped for a short while too (watchers
 * report late). Paths are URI paths ('/'-separated).
 */
const OWN_EVENTS_MS = 5000;

const parentOf = (p: string) => p.slice(0, Math.max(0, p.lastIndexOf('/')));

export class OwnFileEvents {
  private busy = 0;
  private held: string[] = [];
  /** Path → until when its events are the board's own. */
  private readonly own = new Map<string, number>();

  begin(): void {
    this.busy++;
  }

  /** The action changed `paths`; returns whether an event held meanwhile came from elsewhere. */
  end(paths: string[], now = Date.now()): boolean {
    this.busy = Math.max(0, this.busy - 1);
    for (const p of paths) {
      this.own.set(p, now + OWN_EVENTS_MS);
      this.own.set(parentOf(p), now + OWN_EVENTS_MS);
    }
    if (this.busy) return false;
    const foreign = this.held.some((p) => !this.isOwn(p, now));
    this.held = [];
    return foreign;
  }

  /** Whether an event for `path` means a change made elsewhere (false while an action runs: it is held). */
  isForeign(path: string, now = Date.now()): boolean {
    if (this.busy) {
      this.held.push(path);
      return false;
    }
    return !this.isOwn(path, now);
  }

  private isOwn(path: string, now: number): boolean {
    const until = this.own.get(path);
    return until !== undefined && until >= now;
  }
}
