import type { AppContext } from '../context';
import type { BitrixCaller } from './apps';
import { wrongAuthType } from './errors';
import type { Params } from './params';

/** One REST call as a method handler sees it: who calls (already authenticated) and with what. */
export interface MethodCall {
  ctx: AppContext;
  caller: BitrixCaller;
  params: Params;
}

/** `result`, and for list methods `total` and `next` (the `start` of the next page), as Bitrix24 answers. */
export interface MethodResult {
  result: unknown;
  total?: number;
  next?: number;
}

export type MethodHandler = (call: MethodCall) => Promise<MethodResult>;

/** Bitrix24 pages lists by 50. */
export const PAGE_SIZE = 50;

/** A page of `items` from `start`, with `total` and `next` as Bitrix24 reports them. */
export function page<T>(items: T[], start: number, total: number): MethodResult {
  const result: MethodResult = { result: items, total };
  if (start + items.length < total) result.next = start + items.length;
  return result;
}

/** imconnector.* and event.* need an application (Bitrix24: "Application context required"). */
export function appOf(call: MethodCall): { id: number; applicationToken: string } {
  if (!call.caller.app) throw wrongAuthType();
  return call.caller.app;
}
