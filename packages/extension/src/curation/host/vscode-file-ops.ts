/**
 * The curation actions' file operations in VS Code: renames are `WorkspaceEdit.renameFile(…, {overwrite: false})`
 * applied with `workspace.applyEdit` (so SCM, other extensions and VS Code's own undo see them), the trash is
 * `workspace.fs.delete(…, {useTrash: true})`, everything else `workspace.fs`. In a remote window
 * (`vscode.env.remoteName` set), or where the file system provider refuses the trash (e.g. code-server), there is none
 * to use: the board then moves files into the `trash/` of its state folder beside the dataset (model/state.ts).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { FileOps, FileStat } from '../model/file-ops';

export class VscodeFileOps implements FileOps {
  /** Set to false after the first refusal, so the rest of a batch goes straight to the state folder's `trash/`. */
  osTrash = !vscode.env.remoteName;

  async stat(abs: string): Promise<FileStat | undefined> {
    try {
      const st = await vscode.workspace.fs.stat(vscode.Uri.file(abs));
      return { size: st.size, mtimeMs: Math.trunc(st.mtime), isFile: (st.type & vscode.FileType.File) !== 0 };
    } catch {
      return undefined;
    }
  }

  async readFile(abs: string): Promise<Uint8Array> {
    return vscode.workspace.fs.readFile(vscode.Uri.file(abs));
  }

  async createFile(abs: string, data: Uint8Array): Promise<void> {
    if (await this.stat(abs)) throw new Error(`${abs} already exists`);
    await vscode.workspace.fs.createDirectory(vscode.Uri.file(path.dirname(abs)));
    await vscode.workspace.fs.writeFile(vscode.Uri.file(abs), data);
  }

  async rename(from: string, to: string): Promise<void> {
    if (await this.stat(to)) throw new Error(`${to} already exists`);
    await vscode.workspace.fs.createDirectory(vscode.Uri.file(path.dirname(to)));
    const edit = new vscode.WorkspaceEdit();
    edit.renameFile(vscode.Uri.file(from), vscode.Uri.file(to), { overwrite: false });
    if (!(await vscode.workspace.applyEdit(edit))) throw new Error(`VS Code did not rename ${from} to ${to}`);
    if (!(await this.stat(to)) || (await this.stat(from))) throw new Error(`the rename of ${from} to ${to} did not happen`);
  }

  async removeEmptyDir(abs: string): Promise<boolean> {
    const uri = vscode.Uri.file(abs);
    try {
      if ((await vscode.workspace.fs.readDirectory(uri)).length) return false;
      await vscode.workspace.fs.delete(uri, { recursive: false, useTrash: false });
      return true;
    } catch {
      return false;
    }
  }

  async trash(abs: string): Promise<boolean> {
    if (!this.osTrash) return false;
    try {
      await vscode.workspace.fs.delete(vscode.Uri.file(abs), { recursive: false, useTrash: true });
      return true;
    } catch (e) {
      // A provider without a trash refuses and leaves the file: say so (the caller uses the state folder's trash/).
      if (await this.stat(abs)) {
        this.osTrash = false;
        return false;
      }
      throw e;
    }
  }
}
