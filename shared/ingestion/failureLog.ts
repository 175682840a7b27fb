import type { OperationsRepository } from '../db/repositories/operations';
import type { FailedAttempt } from '../http/httpClient';

/** Collects failed API attempts per API during one run, for the api_errors log. */
export class FailureLog {
  readonly byApi = new Map<string, FailedAttempt[]>();

  /** The `onFailedAttempt` callback for one API's client. */
  hook(api: string): (failure: FailedAttempt) => void {
    return (failure) => {
      const list = this.byApi.get(api) ?? [];
      list.push(failure);
      this.byApi.set(api, list);
    };
  }

  /** Appends every collected attempt to api_errors, attributed to the component that made it. */
  async save(operations: OperationsRepository, component: string): Promise<void> {
    for (const [api, list] of this.byApi) await operations.recordApiErrors(api, component, list);
  }

  /**
   * For long-lived logs (a Lambda container's exchange client): saves what was collected and
   * starts over, so each attempt is written once. Returns whether there was anything.
   */
  async flush(operations: OperationsRepository, component: string): Promise<boolean> {
    if (this.count === 0) return false;
    await this.save(operations, component);
    this.byApi.clear();
    return true;
  }

  get count(): number {
    let n = 0;
    for (const list of this.byApi.values()) n += list.length;
    return n;
  }
}
