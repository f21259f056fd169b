import { parentPort, workerData } from 'node:worker_threads';
import { applyVipsThreads } from '../../preprocess/batch.js';
import { type DecodeItem, type DecoderSettings, InThreadDecoder } from './decoders.js';

/**
 * A decode worker of `WorkerPoolDecoder`: runs the in-thread decoder on the chunks it is sent and
 * transfers the rows back (no copy).
 */

const decoder = new InThreadDecoder(workerData as DecoderSettings);
applyVipsThreads({});

parentPort!.on('message', (message: { job: number; items: DecodeItem[] }) => {
  decoder.decode(message.items).then(
    (result) => parentPort!.postMessage({ job: message.job, ...result }, [result.data.buffer as ArrayBuffer]),
    (err: unknown) => {
      // prepareBatch records unreadable images as errors; anything thrown is a bug: let the pool fail
      throw err;
    },
  );
});
