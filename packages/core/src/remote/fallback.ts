/**
 * The remote model with the local one behind it, for users who turn the fallback on: a batch the server cannot
 * answer (unreachable, timing out, failing, refusing the credentials) is run by the local model, which is loaded on
 * the first such batch and must take the same input and give the same number of classes. After a failure the local
 * model answers for `retryAfterMs`, then the server is tried again. Each output says who answered, so a result from
 * the local model is never stored under the remote model's cache key; `onSwitch` reports each change of hands.
 */
import { ClassifierError, isClassifierError } from '../errors.js';
import type { InferenceBackend } from '../engine/inference-backend.js';
import type { BatchOutput, ModelInfo } from '../model/session.js';
import type { RemoteBackend } from './remote-backend.js';

export type Answerer = NonNullable<BatchOutput['answeredBy']>;

export class FallbackBackend implements InferenceBackend {
  private local: Promise<InferenceBackend> | undefined;
  private remoteDownUntil = 0;
  private last: Answerer = 'remote';
  private released = false;

  constructor(
    private readonly remote: RemoteBackend,
    private readonly loadLocal: () => Promise<InferenceBackend>,
    private readonly onSwitch: (who: Answerer, why: string) => void = () => undefined,
    private readonly retryAfterMs = 30_000,
  ) {}

  get info(): ModelInfo {
    return this.remote.info;
  }

  get maxInflight(): number {
    return this.remote.maxInflight;
  }

  private switchTo(who: Answerer, why: string): void {
    if (this.last === who) return;
    this.last = who;
    this.onSwitch(who, why);
  }

  /** The local model, loaded once and checked against the remote one's input and classes. */
  private localBackend(): Promise<InferenceBackend> {
    this.local ??= this.loadLocal().then(async (b) => {
      const r = this.remote.info;
      const l = b.info;
      if (l.inputSize[0] !== r.inputSize[0] || l.inputSize[1] !== r.inputSize[1] || l.layout !== r.layout || l.classes !== r.classes) {
        await b.release();
        throw new ClassifierError(
          'REMOTE_MODEL_MISMATCH',
          `The local fallback model ${l.name} (input ${l.inputSize.join('×')} ${l.layout}, ${l.classes} classes) cannot stand in for the remote model ${r.name} (input ${r.inputSize.join('×')} ${r.layout}, ${r.classes} classes): their results would differ. Choose a local model like the remote one in imageClassifier.model (--model).`,
        );
      }
      return b;
    });
    return this.local;
  }

  async run(
    input: Float32Array,
    batch: number,
    giveBack?: (input: Float32Array) => void,
    embeddings = false,
    signal?: AbortSignal,
  ): Promise<BatchOutput> {
    if (this.released) throw new ClassifierError('MODEL_NOT_READY', 'The model was unloaded.');
    let handed = false;
    const give = giveBack
      ? (b: Float32Array) => {
          handed = true;
          giveBack(b);
        }
      : undefined;
    if (Date.now() >= this.remoteDownUntil) {
      try {
        // The remote backend reads `input` and leaves it intact, so the local model can still run it.
        const out: BatchOutput = await this.remote.run(input, batch, undefined, embeddings, signal);
        this.remoteDownUntil = 0;
        this.switchTo('remote', 'the server answers again');
        give?.(input);
        out.answeredBy = 'remote';
        return out;
      } catch (e) {
        if (signal?.aborted || !isClassifierError(e) || !e.code.startsWith('REMOTE_')) {
          if (!handed) give?.(input);
          throw e;
        }
        this.remoteDownUntil = Date.now() + this.retryAfterMs;
        this.switchTo('local', e.message);
      }
    }
    let local: InferenceBackend;
    try {
      local = await this.localBackend();
    } catch (e) {
      give?.(input);
      throw e;
    }
    const out: BatchOutput = await local.run(input, batch, give, embeddings);
    out.answeredBy = 'local';
    return out;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.remote.release();
    const local = await this.local?.catch(() => undefined);
    await local?.release();
  }
}
