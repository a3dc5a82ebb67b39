import { IMBOT_METHODS } from './bots';
import { IMCONNECTOR_METHODS } from './connectors';
import { CRM_CHAT_METHODS } from './crm-chats';
import { EVENT_METHODS } from './events';
import type { MethodHandler } from './method';
import { OPENLINES_METHODS } from './openlines';

/** Every method of the Bitrix24-compatible surface, by its lower-case name (docs/bitrix24-compat.md). */
const METHODS: Readonly<Record<string, MethodHandler>> = {
  ...IMBOT_METHODS,
  ...CRM_CHAT_METHODS,
  ...IMCONNECTOR_METHODS,
  ...EVENT_METHODS,
  ...OPENLINES_METHODS,
};

export function findMethod(name: string): MethodHandler | undefined {
  return Object.hasOwn(METHODS, name) ? METHODS[name] : undefined;
}

export function methodNames(): string[] {
  return [...Object.keys(METHODS), 'batch'].sort();
}
