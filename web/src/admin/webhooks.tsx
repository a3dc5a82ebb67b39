import {
  type Line,
  RESERVED_WEBHOOK_EVENT_TYPES,
  WEBHOOK_EVENT_TYPES,
  type Webhook,
  type WebhookDelivery,
  type WebhookEventType,
  type WebhookWithSecret,
} from '@openlines/contract';
import { type FormEvent, useState } from 'react';
import { client } from '../lib/api';
import type { MessageKey } from '../lib/catalogue';
import { fieldErrorsOf } from '../lib/errors';
import { formatDateTime } from '../lib/format';
import { useT } from '../lib/i18n';
import { ErrorNotice } from '../ui/error-notice';
import { Field } from '../ui/field';
import { Modal } from '../ui/modal';
import { CopyField } from './channels';
import { useLoad } from './use-load';

// Event webhooks (SPEC PL-1; docs/webhooks.md): subscriptions, their signing secret (shown once),
// the delivery log with "send again", pause and resume.

const RESERVED: ReadonlySet<WebhookEventType> = new Set(RESERVED_WEBHOOK_EVENT_TYPES);

export function WebhooksScreen() {
  const t = useT();
  const { data, error, reload } = useLoad(async () => {
    const [webhooks, lines] = await Promise.all([client.webhooks.list(), client.lines.list()]);
    return { webhooks, lines: lines.items };
  });
  const [creating, setCreating] = useState(false);
  const [revealed, setRevealed] = useState<WebhookWithSecret | null>(null);
  const [log, setLog] = useState<Webhook | null>(null);
  return (
    <section aria-labelledby="webhooks-title">
      <div className="screen-head">
        <h1 id="webhooks-title">{t('webhooks.title')}</h1>
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          {t('webhooks.create')}
        </button>
      </div>
      <p className="muted">{t('webhooks.intro')}</p>
      <ErrorNotice error={error} />
      {data ? (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t('webhooks.url')}</th>
              <th scope="col">{t('webhooks.events')}</th>
              <th scope="col">{t('webhooks.state')}</th>
              <th scope="col">
                <span className="visually-hidden">{t('common.actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.webhooks.map((webhook) => (
              <WebhookRow
                key={webhook.id}
                webhook={webhook}
                lines={data.lines}
                onChanged={reload}
                onRevealed={setRevealed}
                onLog={() => setLog(webhook)}
              />
            ))}
            {data.webhooks.length === 0 ? (
              <tr>
                <td colSpan={4} className="muted">
                  {t('webhooks.none')}
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      ) : null}
      {creating && data ? (
        <WebhookForm
          lines={data.lines}
          onClose={() => setCreating(false)}
          onCreated={(result) => {
            setCreating(false);
            setRevealed(result);
            void reload();
          }}
        />
      ) : null}
      {revealed ? <SecretModal result={revealed} onClose={() => setRevealed(null)} /> : null}
      {log ? (
        <DeliveryLog
          webhook={log}
          onClose={() => {
            setLog(null);
            void reload();
          }}
        />
      ) : null}
    </section>
  );
}

function WebhookRow({
  webhook,
  lines,
  onChanged,
  onRevealed,
  onLog,
}: {
  webhook: Webhook;
  lines: Line[];
  onChanged: () => void;
  onRevealed: (result: WebhookWithSecret) => void;
  onLog: () => void;
}) {
  const t = useT();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const run = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      onChanged();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const lineNames = webhook.lineIds.map((id) => lines.find((line) => line.id === id)?.name ?? id);
  return (
    <tr>
      <td>
        <div className="webhook-url">{webhook.url}</div>
        {webhook.description ? <div className="muted">{webhook.description}</div> : null}
        <div className="muted">
          {lineNames.length > 0
            ? t('webhooks.linesOnly', { lines: lineNames.join(', ') })
            : t('webhooks.allLines')}
        </div>
      </td>
      <td>
        <div className="row-meta">
          {webhook.events.map((type) => (
            <span key={type} className="chip">
              {t(`webhooks.event.${type}`)}
            </span>
          ))}
        </div>
      </td>
      <td>
        {webhook.status === 'paused' ? (
          <>
            <span className="chip chip-warn">{t('webhooks.paused')}</span>
            <div className="muted webhook-reason">
              {webhook.pausedReason
                ? t('webhooks.pausedFailures', {
                    count: webhook.consecutiveFailures,
                    error: webhook.pausedReason,
                  })
                : t('webhooks.pausedManually')}
            </div>
          </>
        ) : (
          <span className="chip">{t('webhooks.active')}</span>
        )}
        {webhook.pending > 0 ? (
          <div className="muted">{t('webhooks.pending', { count: webhook.pending })}</div>
        ) : null}
        <ErrorNotice error={error} onDismiss={() => setError(null)} />
      </td>
      <td>
        <div className="row-buttons">
          <button type="button" onClick={onLog} aria-label={t('webhooks.logNamed', { url: webhook.url })}>
            {t('webhooks.log')}
          </button>
          {webhook.status === 'paused' ? (
            <button
              type="button"
              className="primary"
              disabled={busy}
              onClick={() => run(() => client.webhooks.update(webhook.id, { status: 'active' }))}
            >
              {t('webhooks.resume')}
            </button>
          ) : (
            <button
              type="button"
              disabled={busy}
              onClick={() => run(() => client.webhooks.update(webhook.id, { status: 'paused' }))}
            >
              {t('webhooks.pause')}
            </button>
          )}
          <button
            type="button"
            disabled={busy}
            onClick={() => run(async () => onRevealed(await client.webhooks.rotateSecret(webhook.id)))}
          >
            {t('webhooks.rotate')}
          </button>
          {confirming ? (
            <button
              type="button"
              className="danger"
              disabled={busy}
              onClick={() => run(() => client.webhooks.delete(webhook.id))}
            >
              {t('webhooks.confirmDelete')}
            </button>
          ) : (
            <button type="button" className="danger-outline" onClick={() => setConfirming(true)}>
              {t('common.delete')}
            </button>
          )}
        </div>
      </td>
    </tr>
  );
}

function WebhookForm({
  lines,
  onClose,
  onCreated,
}: {
  lines: Line[];
  onClose: () => void;
  onCreated: (result: WebhookWithSecret) => void;
}) {
  const t = useT();
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [events, setEvents] = useState<WebhookEventType[]>([
    'message.created',
    'session.started',
    'session.closed',
  ]);
  const [lineIds, setLineIds] = useState<string[]>([]);
  const [error, setError] = useState<unknown>(null);
  const errors = fieldErrorsOf(error);
  const toggle = <T,>(list: T[], value: T, on: boolean) =>
    on ? [...list, value] : list.filter((item) => item !== value);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      onCreated(
        await client.webhooks.create({
          url: url.trim(),
          ...(description.trim() ? { description: description.trim() } : {}),
          events: WEBHOOK_EVENT_TYPES.filter((type) => events.includes(type)),
          ...(lineIds.length > 0 ? { lineIds } : {}),
        }),
      );
    } catch (failure) {
      setError(failure);
    }
  }
  return (
    <Modal title={t('webhooks.create')} onClose={onClose} wide>
      <form className="stack" onSubmit={submit} noValidate>
        <Field label={t('webhooks.url')} hint={t('webhooks.urlHint')} errors={errors.url}>
          {(props) => (
            <input
              {...props}
              type="url"
              placeholder="https://example.com/openlines"
              value={url}
              onChange={(event) => setUrl(event.target.value)}
            />
          )}
        </Field>
        <Field label={t('webhooks.description')} errors={errors.description}>
          {(props) => (
            <input {...props} value={description} onChange={(event) => setDescription(event.target.value)} />
          )}
        </Field>
        <fieldset className="settings-group webhook-events" aria-invalid={Boolean(errors.events)}>
          <legend>{t('webhooks.events')}</legend>
          {WEBHOOK_EVENT_TYPES.map((type) => (
            <label key={type} className="checkbox">
              <input
                type="checkbox"
                checked={events.includes(type)}
                onChange={(event) => setEvents(toggle(events, type, event.target.checked))}
              />
              <span>
                {t(`webhooks.event.${type}`)} <code className="muted">{type}</code>{' '}
                {RESERVED.has(type) ? <span className="chip">{t('webhooks.reserved')}</span> : null}
              </span>
            </label>
          ))}
        </fieldset>
        {lines.length > 0 ? (
          <fieldset className="settings-group">
            <legend>{t('webhooks.lines')}</legend>
            <p className="muted">{t('webhooks.linesHint')}</p>
            {lines.map((line) => (
              <label key={line.id} className="checkbox">
                <input
                  type="checkbox"
                  checked={lineIds.includes(line.id)}
                  onChange={(event) => setLineIds(toggle(lineIds, line.id, event.target.checked))}
                />
                {line.name}
              </label>
            ))}
          </fieldset>
        ) : null}
        <ErrorNotice error={error} inline={['url', 'description']} />
        <div className="modal-buttons">
          <button type="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="primary">
            {t('webhooks.createButton')}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function SecretModal({ result, onClose }: { result: WebhookWithSecret; onClose: () => void }) {
  const t = useT();
  return (
    <Modal title={t('webhooks.secretTitle')} onClose={onClose} wide>
      <p className="notice notice-warn">{t('webhooks.secretOnce')}</p>
      <CopyField label={t('webhooks.secret')} value={result.secret} />
      <p className="muted">{t('webhooks.secretHint')}</p>
      <div className="modal-buttons">
        <button type="button" className="primary" onClick={onClose}>
          {t('webhooks.secretDone')}
        </button>
      </div>
    </Modal>
  );
}

function DeliveryLog({ webhook, onClose }: { webhook: Webhook; onClose: () => void }) {
  const t = useT();
  const { data, error, reload } = useLoad(
    () => client.webhooks.deliveries(webhook.id, { limit: 50 }),
    webhook.id,
  );
  const [actionError, setActionError] = useState<unknown>(null);
  const again = async (delivery: WebhookDelivery) => {
    setActionError(null);
    try {
      await client.webhooks.redeliver(webhook.id, delivery.id);
      await reload();
    } catch (failure) {
      setActionError(failure);
    }
  };
  return (
    <Modal title={t('webhooks.logTitle', { url: webhook.url })} onClose={onClose} wide>
      <ErrorNotice error={error ?? actionError} />
      <div className="row-buttons">
        <button type="button" onClick={() => void reload()}>
          {t('webhooks.refresh')}
        </button>
      </div>
      {data ? (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t('webhooks.logEvent')}</th>
              <th scope="col">{t('webhooks.state')}</th>
              <th scope="col">{t('webhooks.attempts')}</th>
              <th scope="col">{t('webhooks.response')}</th>
              <th scope="col">{t('webhooks.when')}</th>
              <th scope="col">
                <span className="visually-hidden">{t('common.actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.map((delivery) => (
              <tr key={delivery.id}>
                <td>
                  {t.has(`webhooks.event.${delivery.eventType}`)
                    ? t(`webhooks.event.${delivery.eventType}` as MessageKey)
                    : delivery.eventType}
                  <div className="muted">
                    <code>{delivery.eventId}</code>
                  </div>
                </td>
                <td>
                  <span className={delivery.state === 'delivered' ? 'chip' : 'chip chip-warn'}>
                    {t(`webhooks.delivery.${delivery.state}`)}
                  </span>
                </td>
                <td>{delivery.attempts}</td>
                <td>
                  {delivery.lastStatus ?? '—'}
                  {delivery.lastError ? (
                    <div className="muted webhook-reason">{delivery.lastError}</div>
                  ) : null}
                </td>
                <td>
                  {formatDateTime(
                    delivery.deliveredAt ?? delivery.lastAttemptAt ?? delivery.createdAt,
                    t.locale,
                  )}
                  {delivery.state === 'pending' && delivery.nextAttemptAt ? (
                    <div className="muted">
                      {t('webhooks.nextAttempt', { at: formatDateTime(delivery.nextAttemptAt, t.locale) })}
                    </div>
                  ) : null}
                </td>
                <td>
                  <button type="button" onClick={() => void again(delivery)}>
                    {t('webhooks.sendAgain')}
                  </button>
                </td>
              </tr>
            ))}
            {data.length === 0 ? (
              <tr>
                <td colSpan={6} className="muted">
                  {t('webhooks.noDeliveries')}
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      ) : null}
      <div className="modal-buttons">
        <button type="button" className="primary" onClick={onClose}>
          {t('common.close')}
        </button>
      </div>
    </Modal>
  );
}
