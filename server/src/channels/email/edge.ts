import type { AppContext } from '../../context';
import { EmailIntakeWorker } from '../../workers/email-intake';
import { defineEdge } from '../edge-types';

/** E-mail beyond its connector: the worker that reads each mailbox over IMAP (workers/email-intake.ts). */
export const emailEdge = defineEdge({
  kind: 'email',
  worker: (ctx: AppContext) => new EmailIntakeWorker(ctx),
});
