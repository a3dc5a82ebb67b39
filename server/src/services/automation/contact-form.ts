import type { AppContext } from '../../context';
import { AppError, invalidField } from '../../errors';
import type { ChannelRow } from '../../store/schema';
import { crmFromContactForm } from '../crm/intake';
import { touchDialog } from '../dialog-events';
import { runInTransaction } from '../transaction';
import { hasConsent } from './consent';
import { clientDialogOn } from './lookup';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[\d\s().-]{5,30}$/;

/** AA-2: the client's contact details from the form go onto their client card and into the CRM. */
export async function submitContactForm(
  ctx: AppContext,
  input: {
    channel: ChannelRow;
    clientExternalId: string;
    fields: { name?: string; email?: string; phone?: string };
  },
): Promise<void> {
  const name = input.fields.name?.trim();
  const email = input.fields.email?.trim();
  const phone = input.fields.phone?.trim();
  if (!name && !email && !phone) throw invalidField('body.fields', 'fill in at least one field');
  if (name !== undefined && (name.length === 0 || name.length > 200))
    throw invalidField('body.fields.name', 'must be 1–200 characters');
  if (email !== undefined && !EMAIL.test(email))
    throw invalidField('body.fields.email', 'is not an e-mail address');
  if (phone !== undefined && !PHONE.test(phone))
    throw invalidField('body.fields.phone', 'is not a phone number');
  await runInTransaction(ctx, async (uow) => {
    const found = await clientDialogOn(uow.tx, input.channel, input.clientExternalId);
    if (!found) throw new AppError('not_found', 'There is no conversation yet');
    await uow.tx
      .updateTable('clients')
      .set({ ...(name ? { name } : {}), ...(email ? { email } : {}), ...(phone ? { phone } : {}) })
      .where('id', '=', found.dialog.client_id)
      .execute();
    const consentMissing =
      found.line.settings.agreement.required &&
      !(await hasConsent(uow.tx, found.line, found.dialog.client_id, ctx.clock.now()));
    await crmFromContactForm(ctx, uow, {
      line: found.line,
      channel: { id: input.channel.id, kind: input.channel.kind },
      clientId: found.dialog.client_id,
      externalId: input.clientExternalId,
      session: found.session,
      fields: { ...(name ? { name } : {}), ...(email ? { email } : {}), ...(phone ? { phone } : {}) },
      consentMissing,
    });
    touchDialog(ctx, uow, found.dialog.account_id, found.dialog.id);
  });
}
