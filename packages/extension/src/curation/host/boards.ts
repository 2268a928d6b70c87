/**
 * The open curation boards, one per dataset folder: Curate Dataset opens (or focuses) the folder's board; a board
 * restored after a window reload (its webview state names the folder) is rebuilt by the serializer and asks the
 * report again (embeddings are cached, so this is cheap).
 */
import * as vscode from 'vscode';
import { folderName } from './folder-name';
import { BOARD_VIEW_TYPE, type BoardDeps, CurationPanel, boardOptions } from './panel';

/** workspaceState: the URIs of the datasets curated here, most recent first. */
const CURATED_KEY = 'imageClassifier.curatedDatasets';
const MAX_REMEMBERED = 20;

interface SavedBoardState {
  root?: string;
}

export class CurationBoards implements vscode.Disposable {
  private readonly boards = new Map<string, CurationPanel>();
  private readonly serializer: vscode.Disposable;

  constructor(private readonly deps: BoardDeps) {
    this.serializer = vscode.window.registerWebviewPanelSerializer(BOARD_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state: SavedBoardState | undefined) => {
        if (!state?.root) {
          panel.dispose();
          return;
        }
        const board = this.track(new CurationPanel(this.deps, vscode.Uri.parse(state.root), panel));
        await board.curate({ quietly: true });
        this.remember(board);
      },
    });
  }

  /** The board of `root`, focused; created (and the analysis started) when there is none. */
  open(root: vscode.Uri): CurationPanel {
    const existing = this.boards.get(root.toString());
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const title = `Curate: ${folderName(root)}`;
    const panel = vscode.window.createWebviewPanel(BOARD_VIEW_TYPE, title, vscode.ViewColumn.Active, boardOptions(this.deps.context));
    const board = this.track(new CurationPanel(this.deps, root, panel));
    void board
      .curate()
      .then(() => this.remember(board))
      .catch((e) => {
        const msg = e instanceof Error ? e.message : String(e);
        this.deps.output.error(`Curate Dataset: ${msg}`);
        board.post({ type: 'status', message: msg, error: true });
        void vscode.window.showErrorMessage(`Curate Dataset: ${msg}`);
      });
    return board;
  }

  /** The datasets curated in this workspace (open boards first, then those remembered), as file system paths. */
  curatedRoots(): vscode.Uri[] {
    const saved = this.deps.context.workspaceState.get<string[]>(CURATED_KEY, []);
    const all = [...[...this.boards.values()].map((b) => b.root.toString()), ...saved];
    return [...new Set(all)].map((u) => vscode.Uri.parse(u));
  }

  /** Remembers a dataset whose analysis finished (Find Similar searches it for images outside it). */
  private remember(board: CurationPanel): void {
    if (!board.report) return;
    const key = board.root.toString();
    const saved = this.deps.context.workspaceState.get<string[]>(CURATED_KEY, []).filter((u) => u !== key);
    void this.deps.context.workspaceState.update(CURATED_KEY, [key, ...saved].slice(0, MAX_REMEMBERED));
  }

  /** The open board whose folder holds `file`. */
  boardOf(file: vscode.Uri): CurationPanel | undefined {
    return [...this.boards.values()].find((b) => file.toString().startsWith(`${b.root.toString()}/`));
  }

  private track(board: CurationPanel): CurationPanel {
    const key = board.root.toString();
    this.boards.set(key, board);
    board.onDidDispose(() => {
      if (this.boards.get(key) === board) this.boards.delete(key);
    });
    return board;
  }

  dispose(): void {
    this.serializer.dispose();
    for (const b of [...this.boards.values()]) b.dispose();
  }
}
