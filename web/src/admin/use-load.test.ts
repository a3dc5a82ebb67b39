import { describe, expect, it } from 'vitest';
import { Loader } from './use-load';

// The admin screens' loading (useLoad): requests that overlap answer in any order, and what the
// screen shows is always the answer to the request started last.

/** A request the test answers when it wants to. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

describe('Loader', () => {
  it('never lets a slower earlier answer overwrite a newer one', async () => {
    const loader = new Loader<string>();
    const first = deferred<string>();
    const second = deferred<string>();
    // Line A is opened, then line B before A's answer came.
    const a = loader.load(() => first.promise);
    const b = loader.load(() => second.promise);
    second.resolve('line B');
    await b;
    expect(loader.getState()).toEqual({ data: 'line B', error: null, loading: false });
    first.resolve('line A');
    await a;
    expect(loader.getState()).toEqual({ data: 'line B', error: null, loading: false });
  });

  it('keeps loading until the latest request answers, and ignores an earlier one failing', async () => {
    const loader = new Loader<string>();
    const first = deferred<string>();
    const second = deferred<string>();
    const a = loader.load(() => first.promise);
    const b = loader.load(() => second.promise);
    first.reject(new Error('line A is gone'));
    await a;
    expect(loader.getState()).toEqual({ data: null, error: null, loading: true });
    second.resolve('line B');
    await b;
    expect(loader.getState()).toEqual({ data: 'line B', error: null, loading: false });
  });

  it('shows the latest request failing, and keeps what was shown before', async () => {
    const loader = new Loader<string>();
    await loader.load(async () => 'line A');
    await loader.load(async () => {
      throw new Error('offline');
    });
    expect(loader.getState()).toMatchObject({ data: 'line A', loading: false });
    expect(loader.getState().error).toEqual(new Error('offline'));
    await loader.load(async () => 'line A again');
    expect(loader.getState()).toEqual({ data: 'line A again', error: null, loading: false });
  });

  it('keeps data set here (what a save returned) over an answer still on its way', async () => {
    const loader = new Loader<string>();
    const pending = deferred<string>();
    const load = loader.load(() => pending.promise);
    loader.set('saved');
    pending.resolve('read before the save');
    await load;
    expect(loader.getState()).toEqual({ data: 'saved', error: null, loading: false });
  });

  it('tells its subscribers about every change it applies, and only those', async () => {
    const loader = new Loader<string>();
    const seen: (string | null)[] = [];
    loader.subscribe(() => seen.push(loader.getState().data));
    const first = deferred<string>();
    const a = loader.load(() => first.promise);
    await loader.load(async () => 'line B');
    first.resolve('line A');
    await a;
    expect(seen).toEqual([null, null, 'line B']);
  });
});
