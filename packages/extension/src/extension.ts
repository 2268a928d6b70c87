/**
 * Image Classifier for VS Code: a thin client. It forks the bundled inference server (ONNX Runtime and sharp
 * live there, never in the extension host), sends it workspace images and renders the answers: notifications,
 * Explorer badges and tooltips, hovers on image paths, the "Image Labels" view, the model's status bar item.
 */
import type * as vscode from 'vscode';
import { createApi, type ImageClassifierApi } from './api';
import { ImageClassifierExtension } from './imageClassifier';
import { ActivationTiming } from './timing';

export type { ImageClassifierApi } from './api';

let extension: ImageClassifierExtension | undefined;

export function activate(context: vscode.ExtensionContext): ImageClassifierApi {
  const timing = new ActivationTiming();
  extension = new ImageClassifierExtension(context, () => timing.activationTimeMs);
  extension.init();
  const api = createApi(extension, timing.finish(extension.output));
  extension.startup.mark('activateReturned');
  return api;
}

export function deactivate(): Promise<void> | undefined {
  return extension?.stop();
}
