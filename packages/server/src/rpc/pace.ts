/**
 * Time slicing shared by every batch: work that finishes without I/O (cache hits, files that do not exist, refused
 * URIs) gives the event loop a turn after SLICE_MS of it in all, whatever the number of lanes and batches. The
 * lanes wait on one shared turn, so the messages that arrived meanwhile (a hover) are read and answered between
 * two slices rather than after every lane's own slice.
 */
const SLICE_MS = 2;

let sliceStart = performance.now();
let turn: Promise<void> | undefined;

/** A promise to await when this slice is used up, else undefined (go on). */
export function pace(): Promise<void> | undefined {
  if (performance.now() - sliceStart < SLICE_MS) return undefined;
  turn ??= new Promise<void>((resolve) =>
    setImmediate(() => {
      turn = undefined;
      sliceStart = performance.now();
      resolve();
    }),
  );
  return turn;
}
