/**
 * Limits of the protocol that both ends must know. No imports: the extension's activation bundle includes it.
 */

/** The most URIs one `imageClassifier/classifyBatch` may hold (INVALID_ARGUMENT beyond); clients split larger folders. */
export const CLASSIFY_BATCH_MAX_URIS = 100_000;
