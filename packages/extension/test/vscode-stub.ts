/**
 * A stand-in for the `vscode` module, for the tests that load the language-client side (client.ts and
 * vscode-languageclient require `vscode`, which exists only inside the editor). `installVscodeStub()` makes
 * `require('vscode')` return it; what the code shows the user is recorded in `shown`. Any other API is a callable
 * no-op (a property of a property of … of a function), enough for vscode-languageclient to load and build a client.
 */
import Module from 'node:module';

export interface Shown {
  errors: Array<{ message: string; actions: string[] }>;
  statusBar: string[];
  commands: string[];
}

function anything(name: string): unknown {
  const target = function stub() {} as unknown as Record<string | symbol, unknown>;
  return new Proxy(target, {
    get(t, p) {
      if (p === 'then') return undefined;
      if (p === Symbol.toPrimitive) return () => name;
      if (p === 'prototype') return (t as { prototype: unknown }).prototype;
      if (!(p in t)) t[p] = anything(`${name}.${String(p)}`);
      return t[p];
    },
    construct: () => anything(`new ${name}`) as object,
    apply: () => anything(`${name}()`),
  });
}

export function installVscodeStub(): Shown {
  const shown: Shown = { errors: [], statusBar: [], commands: [] };
  const root = anything('vscode') as Record<string, Record<string, unknown>>;
  // vscode-languageclient checks the editor's version against the one it needs.
  (root as Record<string, unknown>).version = '1.100.0';
  const window = root.window!;
  window.showErrorMessage = async (message: string, ...actions: string[]) => {
    shown.errors.push({ message, actions });
    return undefined;
  };
  window.setStatusBarMessage = (text: string) => {
    shown.statusBar.push(text);
    return { dispose: () => undefined };
  };
  root.commands!.executeCommand = async (id: string) => {
    shown.commands.push(id);
    return undefined;
  };
  const m = Module as unknown as { _load: (req: string, ...rest: unknown[]) => unknown };
  const load = m._load;
  m._load = function (req: string, ...rest: unknown[]) {
    if (req === 'vscode') return root;
    return load.call(this, req, ...rest);
  };
  return shown;
}
