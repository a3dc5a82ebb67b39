import type { AppContext } from '../context';
import type { ContactDetails } from '../core/contact-details';
import type { ChannelRow, DialogRow, LineRow, SessionRow } from '../store/schema';
import { hasConsent } from './automation/consent';
import { crmFromContactForm } from './crm/intake';
import { touchDialog } from './dialog-events';
import type { UnitOfWork } from './transaction';

/**
 * AA-2: the client's contact details go onto their client card and into the CRM (the contact,
 * its identities, a lead per the line's CRM settings), in the caller's transaction. One path for
 * the widget's form and for the built-in bot's "leave your contact details" step (BOT-3).
 */
export async function applyContactDetails(
  ctx: AppContext,
  uow: UnitOfWork,
  input: {
    line: LineRow;
    channel: Pick<ChannelRow, 'id' | 'kind'>;
    dialog: DialogRow;
    session: SessionRow | null;
    clientExternalId: string;
    fields: ContactDetails;
  },
): Promise<void> {
  const { name, email, phone } = input.fields;
  const fields = { ...(name ? { name } : {}), ...(email ? { email } : {}), ...(phone ? { phone } : {}) };
  await uow.tx.updateTable('clients').set(fields).where('id', '=', input.dialog.client_id).execute();
  const consentMissing =
    input.line.settings.agreement.required &&
    !(await hasConsent(uow.tx, input.line, input.dialog.client_id, ctx.clock.now()));
  await crmFromContactForm(ctx, uow, {
    line: input.line,
    channel: { id: input.channel.id, kind: input.channel.kind },
    clientId: input.dialog.client_id,
    externalId: input.clientExternalId,
    session: input.session,
    fields,
    consentMissing,
  });
  touchDialog(ctx, uow, input.dialog.account_id, input.dialog.id);
}
