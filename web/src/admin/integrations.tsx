import type { CreatedBitrixApp, CreatedBitrixWebhook, User } from '@openlines/contract';
import { type FormEvent, useState } from 'react';
import { client } from '../lib/api';
import { fieldErrorsOf } from '../lib/errors';
import { useT } from '../lib/i18n';
import { ErrorNotice } from '../ui/error-notice';
import { Field } from '../ui/field';
import { Modal } from '../ui/modal';
import { CopyField } from './channels';
import { useLoad } from './use-load';

type Kind = 'app' | 'webhook';
type Created = { kind: 'app'; value: CreatedBitrixApp } | { kind: 'webhook'; value: CreatedBitrixWebhook };

/**
 * Credentials of the Bitrix24-compatible REST surface (PL-4, docs/bitrix24-compat.md): local
 * applications and incoming webhooks, each acting as a user. Needs manageIntegrations.
 */
export function IntegrationsScreen() {
  const t = useT();
  const { data, error, reload } = useLoad(async () => {
    const [apps, webhooks, users] = await Promise.all([
      client.bitrix24.listApps(),
      client.bitrix24.listWebhooks(),
      client.users.list(),
    ]);
    return { apps, webhooks, users };
  }, 'integrations');
  const [created, setCreated] = useState<Created | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const userName = (id: string) => data?.users.find((user) => user.id === id)?.name ?? '—';
  const revoke = (run: () => Promise<void>) => {
    setActionError(null);
    run().then(reload, setActionError);
  };
  return (
    <section aria-labelledby="integrations-title">
      <h1 id="integrations-title">{t('integrations.title')}</h1>
      <p className="muted">{t('integrations.intro')}</p>
      <ErrorNotice error={error ?? actionError} />

      <h2>{t('integrations.apps')}</h2>
      <table className="table">
        <thead>
          <tr>
            <th>{t('common.name')}</th>
            <th>{t('integrations.actsAs')}</th>
            <th>{t('common.actions')}</th>
          </tr>
        </thead>
        <tbody>
          {data?.apps.map((app) => (
            <tr key={app.id}>
              <td>{app.name}</td>
              <td>{userName(app.userId)}</td>
              <td>
                <button
                  type="button"
                  className="danger-outline"
                  aria-label={t('integrations.revokeNamed', { name: app.name })}
                  onClick={() => revoke(() => client.bitrix24.revokeApp(app.id))}
                >
                  {t('integrations.revoke')}
                </button>
              </td>
            </tr>
          ))}
          {data?.apps.length === 0 ? (
            <tr>
              <td colSpan={3} className="muted">
                {t('integrations.noApps')}
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
      <CredentialForm
        kind="app"
        users={data?.users ?? []}
        onCreated={(value) => {
          setCreated(value);
          void reload();
        }}
      />

      <h2>{t('integrations.webhooks')}</h2>
      <table className="table">
        <thead>
          <tr>
            <th>{t('common.name')}</th>
            <th>{t('integrations.actsAs')}</th>
            <th>{t('integrations.path')}</th>
            <th>{t('common.actions')}</th>
          </tr>
        </thead>
        <tbody>
          {data?.webhooks.map((webhook) => (
            <tr key={webhook.id}>
              <td>{webhook.name}</td>
              <td>{userName(webhook.userId)}</td>
              <td>
                <code>{`/rest/${webhook.numericUserId}/…/`}</code>
              </td>
              <td>
                <button
                  type="button"
                  className="danger-outline"
                  aria-label={t('integrations.revokeNamed', { name: webhook.name })}
                  onClick={() => revoke(() => client.bitrix24.revokeWebhook(webhook.id))}
                >
                  {t('integrations.revoke')}
                </button>
              </td>
            </tr>
          ))}
          {data?.webhooks.length === 0 ? (
            <tr>
              <td colSpan={4} className="muted">
                {t('integrations.noWebhooks')}
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
      <CredentialForm
        kind="webhook"
        users={data?.users ?? []}
        onCreated={(value) => {
          setCreated(value);
          void reload();
        }}
      />

      {created ? <Secrets created={created} onClose={() => setCreated(null)} /> : null}
    </section>
  );
}

function CredentialForm({
  kind,
  users,
  onCreated,
}: {
  kind: Kind;
  users: User[];
  onCreated: (created: Created) => void;
}) {
  const t = useT();
  const [name, setName] = useState('');
  const [userId, setUserId] = useState('');
  const [error, setError] = useState<unknown>(null);
  const errors = fieldErrorsOf(error);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    const body = { name, ...(userId ? { userId } : {}) };
    try {
      if (kind === 'app') onCreated({ kind, value: await client.bitrix24.createApp(body) });
      else onCreated({ kind, value: await client.bitrix24.createWebhook(body) });
      setName('');
      setUserId('');
    } catch (failure) {
      setError(failure);
    }
  }
  return (
    <form
      className="stack qa-form"
      onSubmit={submit}
      noValidate
      aria-label={t(`integrations.create.${kind}`)}
    >
      <Field label={t('common.name')} errors={errors.name}>
        {(props) => <input {...props} value={name} onChange={(event) => setName(event.target.value)} />}
      </Field>
      <Field label={t('integrations.actsAs')} errors={errors.userId}>
        {(props) => (
          <select {...props} value={userId} onChange={(event) => setUserId(event.target.value)}>
            <option value="">{t('integrations.actsAsMe')}</option>
            {users
              .filter((user) => user.active)
              .map((user) => (
                <option key={user.id} value={user.id}>
                  {user.name}
                </option>
              ))}
          </select>
        )}
      </Field>
      <ErrorNotice error={error} inline={['name', 'userId']} />
      <div className="row-buttons">
        <button type="submit" className="primary">
          {t(`integrations.create.${kind}`)}
        </button>
      </div>
    </form>
  );
}

function Secrets({ created, onClose }: { created: Created; onClose: () => void }) {
  const t = useT();
  const origin = window.location.origin;
  return (
    <Modal title={t('integrations.createdTitle')} onClose={onClose} wide>
      <p className="notice notice-warn">{t('integrations.shownOnce')}</p>
      {created.kind === 'app' ? (
        <>
          <CopyField label={t('integrations.endpoint')} value={`${origin}/rest/`} />
          <CopyField label={t('integrations.accessToken')} value={created.value.accessToken} />
          <CopyField label={t('integrations.applicationToken')} value={created.value.applicationToken} />
        </>
      ) : (
        <CopyField label={t('integrations.webhookUrl')} value={`${origin}${created.value.path}`} />
      )}
      <div className="modal-buttons">
        <button type="button" className="primary" onClick={onClose}>
          {t('channels.secretsDone')}
        </button>
      </div>
    </Modal>
  );
}
