/**
 * Image URLs for the cards: asked of the host only for cards being painted (the visible ones), batched per
 * animation frame, each file once; the grid repaints when they arrive.
 */
import { host } from './api';

const BATCH = 96;

export class Thumbs {
  private readonly urls = new Map<string, string>();
  private readonly asked = new Set<string>();
  private pending: string[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly onArrive: () => void) {}

  /** The URL of `file`'s image (current path), or undefined while it is being asked for. */
  url(file: string): string | undefined {
    const u = this.urls.get(file);
    if (u === undefined && !this.asked.has(file)) {
      this.asked.add(file);
      this.pending.push(file);
      this.timer ??= setTimeout(() => this.flush(), 16);
    }
    return u;
  }

  private flush(): void {
    this.timer = undefined;
    while (this.pending.length) host.postMessage({ type: 'thumbs', files: this.pending.splice(0, BATCH) });
  }

  receive(urls: Record<string, string>): void {
    for (const [f, u] of Object.entries(urls)) this.urls.set(f, u);
    this.onArrive();
  }
}
