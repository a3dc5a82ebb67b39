import type { AppContext } from '../../context';
import { type ContactDetails, contactFieldErrors } from '../../core/contact-details';
import { AppError, invalidField } from '../../errors';
import type { ChannelRow } from '../../store/schema';
import { botConversationOf, handOverFromBot } from '../bot-sessions';
import { applyContactDetails } from '../contact-details';
import { lockLines } from '../locks';
import { lockSession } from '../sessions';
import { runInTransaction } from '../transaction';
import { clientDialogOn } from './lookup';

/** The widget's contact form (AA-2), validated field by field. */
export async function submitContactForm(
  ctx: AppContext,
  input: {
    channel: ChannelRow;
    clientExternalId: string;
    fields: { name?: string; email?: string; phone?: string };
  },
): Promise<void> {
  const fields: ContactDetails = {};
  for (const key of ['name', 'email', 'phone'] as const) {
    const value = input.fields[key]?.trim();
    if (value !== undefined) fields[key] = value;
  }
  const problem = contactFieldErrors(fields, 'body.fields')[0];
  if (problem) throw invalidField(problem.field, problem.message);
  await runInTransaction(ctx, async (uow) => {
    const found = await clientDialogOn(uow.tx, input.channel, input.clientExternalId);
    if (!found) throw new AppError('not_found', 'There is no conversation yet');
    await applyContactDetails(ctx, uow, {
      line: found.line,
      channel: input.channel,
      dialog: found.dialog,
      session: found.session,
      clientExternalId: input.clientExternalId,
      fields,
    });
    // The built-in bot asked for these details (BOT-3): with the form sent, the operators take over.
    if (found.session?.status === 'bot' && found.session.bot_state?.awaiting === 'contact') {
      await lockLines(uow.tx, [found.session.line_id]);
      const session = await lockSession(uow.tx, found.session.account_id, found.session.id);
      if (session.status === 'bot' && session.bot_state?.awaiting === 'contact' && session.bot_id) {
        await handOverFromBot(
          ctx,
          uow,
          await botConversationOf(uow.tx, session),
          { type: 'queue' },
          { kind: 'bot', id: session.bot_id },
          'bot_handover',
        );
      }
    }
  });
}
