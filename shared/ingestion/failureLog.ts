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

  get count(): number {
    let n = 0;
    for (const list of this.byApi.values()) n += list.length;
    return n;
  }
}
