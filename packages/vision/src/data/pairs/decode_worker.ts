import { parentPort, workerData } from 'node:worker_threads';
import { applyVipsThreads } from '../../preprocess/batch.js';
import { type DecodeItem, type DecoderSettings, InThreadDecoder } from './decoders.js';

/**
 * A decode worker of `WorkerPoolDecoder`: runs the in-thread decoder on the chunks it is sent and
 * transfers the rows back (no copy).
 */

const decoder = new InThreadDecoder(workerData as DecoderSettings);
applyVipsThreads({});

// Chunks are decoded two at a time, the rest queued: in order, so the first rows of the stream are ready
// first, while the second chunk keeps libuv's pool busy through the first one's tail.
const queue: Array<{ job: number; items: DecodeItem[] }> = [];
let running = 0;

function run(): void {
  while (running < 2 && queue.length > 0) {
    const message = queue.shift()!;
    running++;
    decoder.decode(message.items).then(
      (result) => {
        running--;
        parentPort!.postMessage({ job: message.job, ...result }, [result.data.buffer as ArrayBuffer]);
        run();
      },
      (err: unknown) => {
        // prepareBatch records unreadable images as errors; anything thrown is a bug: let the pool fail
        throw err;
      },
    );
  }
}

parentPort!.on('message', (message: { job: number; items: DecodeItem[] }) => {
  queue.push(message);
  run();
});
