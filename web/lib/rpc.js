// Calls into a Web Worker as promises. The worker side (`serve`) maps an
// operation name to an async handler; a handler's result may name buffers
// to transfer back instead of copying them.

/** A worker's operations as `call(op, args, transfer)` → promise. */
export class WorkerClient {
  constructor(url) {
    this.worker = new Worker(url, { type: 'module' });
    this.next = 1;
    this.pending = new Map();
    this.worker.onmessage = ({ data }) => {
      const waiting = this.pending.get(data.id);
      if (!waiting) return;
      this.pending.delete(data.id);
      if (data.error) {
        const error = new Error(data.error.message);
        error.code = data.error.code;
        waiting.reject(error);
      } else {
        waiting.resolve(data.result);
      }
    };
    this.worker.onerror = (event) => {
      const error = new Error(`worker failed: ${event.message || 'could not start'}`);
      error.code = 'worker_failed';
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
  }

  /** How many calls are waiting for an answer. */
  get busy() {
    return this.pending.size;
  }

  call(op, args = {}, transfer = []) {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, args }, transfer);
    });
  }

  terminate() {
    this.worker.terminate();
  }
}

/** Worker side: answers `{id, op, args}` with `{id, result}` or `{id, error}`. */
export function serve(handlers) {
  self.onmessage = async ({ data }) => {
    const { id, op, args } = data;
    try {
      const handler = handlers[op];
      if (!handler) throw Object.assign(new Error(`unknown operation ${op}`), { code: 'unknown_op' });
      const answer = await handler(args);
      const { result, transfer = [] } = answer && answer.transfer ? answer : { result: answer };
      self.postMessage({ id, result }, transfer);
    } catch (error) {
      self.postMessage({ id, error: { code: errorCode(error), message: String(error?.message || error) } });
    }
  };
}

/**
 * The stable code of an error: a KluisError's `code`, or the prefix of a
 * WebAssembly error's message (`"wrong_password: …"`).
 */
export function errorCode(error) {
  if (error?.code) return error.code;
  const match = /^([a-z]+(?:_[a-z]+)*): /.exec(String(error?.message || ''));
  return match ? match[1] : 'internal';
}
