/** The webview's handle on VS Code: postMessage to the host and the state VS Code keeps while the board is hidden. */
import type { BoardMessage } from '../curation/shared/messages';
import type { TabId } from './tabs';

export type { TabId };
export type KeepRule = 'largest' | 'oldest' | 'train';

/** What survives the webview being hidden and shown again, or a window reload (getState/setState). */
export interface BoardState {
  /** The dataset folder's URI (the host's serializer reopens the board from it after a reload). */
  root?: string;
  tab: TabId;
  /** Report path of the focused card per tab. */
  focus: Partial<Record<TabId, string>>;
  keepRule: KeepRule;
  /** Label issues: every flagged file, not only the likely errors (confident learning's estimate). */
  allLabelIssues?: boolean;
}

interface VsCodeApi {
  postMessage(m: BoardMessage): void;
  getState(): BoardState | undefined;
  setState(s: BoardState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export const host = acquireVsCodeApi();

export function loadState(): BoardState {
  const s = host.getState();
  return {
    tab: s?.tab ?? 'labels',
    focus: s?.focus ?? {},
    keepRule: s?.keepRule ?? 'largest',
    root: s?.root,
    allLabelIssues: s?.allLabelIssues === true,
  };
}
