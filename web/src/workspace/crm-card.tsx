import type { CrmDialogCard, CrmPipeline } from '@openlines/contract';
import { CrmApi, OpenlinesError } from '@openlines/sdk';
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { client } from '../lib/api';
import { useT } from '../lib/i18n';
import { linkClick } from '../lib/router';
import { ErrorNotice } from '../ui/error-notice';

export const crmApi = new CrmApi(client.transport);

/** A stage's name, from the pipelines. */
export function stageName(pipelines: CrmPipeline[], stageId: string): string {
  for (const pipeline of pipelines) {
    const stage = pipeline.stages.find((s) => s.id === stageId);
    if (stage) return stage.name;
  }
  return stageId.slice(0, 8);
}

type Pending = { kind: 'contact' | 'lead' | 'deal' } | null;

/**
 * The client card's CRM block (OP-2, OP-3): the dialog client's contact, company and leads/deals
 * with their stage; the operator names the client, adds phones and e-mails, and creates or links
 * records. AG-3: without the client's consent the server asks to confirm, and so does this.
 */
/** The pipelines as a select's options (the deals lists, the new deal forms, the client card). */
export function PipelineOptions({ pipelines }: { pipelines: readonly CrmPipeline[] }) {
  return pipelines.map((p) => (
    <option key={p.id} value={p.id}>
      {p.name}
    </option>
  ));
}

export function CrmCardBlock({ dialogId, clientName }: { dialogId: string; clientName: string }) {
  const t = useT();
  const [card, setCard] = useState<CrmDialogCard | null>(null);
  const [pipelines, setPipelines] = useState<CrmPipeline[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState<Pending>(null);
  const [name, setName] = useState('');
  const [phone, setPhone] = useState('');
  const [email, setEmail] = useState('');
  // The pipeline of a deal created here; '' is the default one.
  const [dealPipelineId, setDealPipelineId] = useState('');

  const load = useCallback(async () => {
    try {
      const [next, list] = await Promise.all([crmApi.dialogCard(dialogId), crmApi.pipelines()]);
      setCard(next);
      setPipelines(list);
    } catch (failure) {
      setError(failure);
    }
  }, [dialogId]);
  useEffect(() => {
    setCard(null);
    setEditing(false);
    setConfirming(null);
    void load();
  }, [load]);

  async function run(work: () => Promise<unknown>) {
    setError(null);
    try {
      await work();
      await load();
      return true;
    } catch (failure) {
      setError(failure);
      return false;
    }
  }

  async function create(kind: 'contact' | 'lead' | 'deal', confirmed = false) {
    setError(null);
    const link = { dialogId, ...(confirmed ? { confirmed: true } : {}) };
    try {
      if (kind === 'contact') await crmApi.contacts.create({ name: clientName, ...link });
      if (kind === 'lead') await crmApi.leads.create({ title: clientName, ...link });
      if (kind === 'deal')
        await crmApi.deals.create({
          title: clientName,
          ...(dealPipelineId ? { pipelineId: dealPipelineId } : {}),
          ...link,
        });
      setConfirming(null);
      await load();
    } catch (failure) {
      if (failure instanceof OpenlinesError && failure.code === 'consent_required') setConfirming({ kind });
      else setError(failure);
    }
  }

  if (!card) {
    return (
      <>
        <h3>{t('card.crm')}</h3>
        {error ? (
          <ErrorNotice error={error} onDismiss={() => setError(null)} />
        ) : (
          <p className="muted">{t('common.loading')}</p>
        )}
      </>
    );
  }
  const contact = card.contact;

  function startEdit() {
    setName(contact?.name ?? clientName);
    setPhone(contact?.phones.join(', ') ?? '');
    setEmail(contact?.emails.join(', ') ?? '');
    setEditing(true);
  }
  async function saveContact(event: FormEvent) {
    event.preventDefault();
    const split = (value: string) =>
      value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean);
    const ok = await run(() =>
      crmApi.contacts.update(contact!.id, { name: name.trim(), phones: split(phone), emails: split(email) }),
    );
    if (ok) setEditing(false);
  }

  return (
    <section className="crm-card" aria-labelledby="crm-card-title">
      <h3 id="crm-card-title">{t('card.crm')}</h3>
      {card.consentMissing ? <p className="chip chip-warn">{t('crm.consentMissing')}</p> : null}
      {contact ? (
        editing ? (
          <form className="stack" onSubmit={saveContact} aria-label={t('crm.editContact')}>
            <label htmlFor="crm-contact-name">{t('card.name')}</label>
            <input
              id="crm-contact-name"
              value={name}
              onChange={(e) => setName(e.target.value)}
              required
              maxLength={200}
            />
            <label htmlFor="crm-contact-phones">{t('crm.phones')}</label>
            <input
              id="crm-contact-phones"
              value={phone}
              onChange={(e) => setPhone(e.target.value)}
              placeholder="+7 916 123-45-67"
            />
            <label htmlFor="crm-contact-emails">{t('crm.emails')}</label>
            <input id="crm-contact-emails" value={email} onChange={(e) => setEmail(e.target.value)} />
            <div className="row-buttons">
              <button type="submit" className="primary">
                {t('common.save')}
              </button>
              <button type="button" onClick={() => setEditing(false)}>
                {t('common.cancel')}
              </button>
            </div>
          </form>
        ) : (
          <dl className="facts">
            <dt>{t('crm.contact')}</dt>
            <dd>
              <a href={`/crm/contacts/${contact.id}`} onClick={linkClick(`/crm/contacts/${contact.id}`)}>
                {contact.name}
              </a>{' '}
              <button type="button" className="link-button" onClick={startEdit}>
                {t('common.edit')}
              </button>{' '}
              <a
                href={`/crm/contacts/${contact.id}/merge`}
                onClick={linkClick(`/crm/contacts/${contact.id}/merge`)}
              >
                {t('crm.mergeWith')}
              </a>
            </dd>
            <dt>{t('crm.phones')}</dt>
            <dd>{contact.phones.join(', ') || '—'}</dd>
            <dt>{t('crm.emails')}</dt>
            <dd>{contact.emails.join(', ') || '—'}</dd>
            {card.company ? (
              <>
                <dt>{t('crm.company')}</dt>
                <dd>{card.company.name}</dd>
              </>
            ) : null}
          </dl>
        )
      ) : (
        <p className="muted">{t('crm.noContact')}</p>
      )}
      {card.leads.length > 0 ? (
        <>
          <h4>{t('crm.leads')}</h4>
          <ul className="plain crm-links">
            {card.leads.map((lead) => (
              <li key={lead.id}>
                <a href={`/crm/leads/${lead.id}`} onClick={linkClick(`/crm/leads/${lead.id}`)}>
                  {lead.title}
                </a>{' '}
                <span className="chip">{t(`crm.status.${lead.status}`)}</span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {card.deals.length > 0 ? (
        <>
          <h4>{t('crm.deals')}</h4>
          <ul className="plain crm-links">
            {card.deals.map((deal) => (
              <li key={deal.id}>
                <a href={`/crm/deals/${deal.id}`} onClick={linkClick(`/crm/deals/${deal.id}`)}>
                  {deal.title}
                </a>{' '}
                <span className="chip">{stageName(pipelines, deal.stageId)}</span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {confirming ? (
        <div className="notice notice-warn" role="alertdialog" aria-labelledby="crm-consent-warning">
          <p id="crm-consent-warning">{t('crm.consentWarning')}</p>
          <div className="row-buttons">
            <button type="button" className="danger" onClick={() => create(confirming.kind, true)}>
              {t('crm.saveAnyway')}
            </button>
            <button type="button" onClick={() => setConfirming(null)}>
              {t('common.cancel')}
            </button>
          </div>
        </div>
      ) : null}
      <div className="row-buttons">
        {!contact ? (
          <button type="button" onClick={() => create('contact')}>
            {t('crm.createContact')}
          </button>
        ) : null}
        <button type="button" onClick={() => create('lead')}>
          {t('crm.createLead')}
        </button>
        <button type="button" onClick={() => create('deal')}>
          {t('crm.createDeal')}
        </button>
        {pipelines.length > 1 ? (
          <label>
            {t('crm.pipeline')}{' '}
            <select
              aria-label={t('crm.dealPipeline')}
              value={dealPipelineId || (pipelines.find((p) => p.isDefault)?.id ?? '')}
              onChange={(e) => setDealPipelineId(e.target.value)}
            >
              <PipelineOptions pipelines={pipelines} />
            </select>
          </label>
        ) : null}
      </div>
      {!contact ? <LinkContact dialogId={dialogId} onLinked={load} onError={setError} /> : null}
      <ErrorNotice error={error} onDismiss={() => setError(null)} />
    </section>
  );
}

/** OP-3: link the dialog to a contact that already exists, found by name, phone or e-mail. */
function LinkContact({
  dialogId,
  onLinked,
  onError,
}: {
  dialogId: string;
  onLinked: () => Promise<void>;
  onError: (error: unknown) => void;
}) {
  const t = useT();
  const [search, setSearch] = useState('');
  const [found, setFound] = useState<{ id: string; name: string }[]>([]);
  async function find(event: FormEvent) {
    event.preventDefault();
    try {
      setFound((await crmApi.contacts.list({ search, limit: 5 })).items);
    } catch (failure) {
      onError(failure);
    }
  }
  async function link(id: string) {
    try {
      await crmApi.contacts.linkDialog(id, dialogId);
      setFound([]);
      await onLinked();
    } catch (failure) {
      onError(failure);
    }
  }
  return (
    <form className="stack" onSubmit={find} aria-label={t('crm.linkContact')}>
      <label htmlFor={`crm-link-${dialogId}`}>{t('crm.linkContact')}</label>
      <div className="row-buttons">
        <input
          id={`crm-link-${dialogId}`}
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          maxLength={200}
        />
        <button type="submit">{t('crm.find')}</button>
      </div>
      <ul className="plain">
        {found.map((contact) => (
          <li key={contact.id}>
            {contact.name}{' '}
            <button type="button" className="link-button" onClick={() => link(contact.id)}>
              {t('crm.link')}
            </button>
          </li>
        ))}
      </ul>
    </form>
  );
}
