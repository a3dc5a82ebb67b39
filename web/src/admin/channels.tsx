import type { Channel, Line } from '@openlines/contract';
import type { ChannelWithSecrets } from '@openlines/sdk';
import { type FormEvent, useId, useState } from 'react';
import { channelKinds, client } from '../lib/api';
import { fieldErrorsOf } from '../lib/errors';
import { useT } from '../lib/i18n';
import { ConfirmByName } from '../ui/confirm-by-name';
import { ErrorNotice } from '../ui/error-notice';
import { Field } from '../ui/field';
import { Modal } from '../ui/modal';
import { useLoad } from './use-load';

// Channels (LN-3, LN-5, LN-6): connect one to a line, move it, disconnect it. The settings form of a
// kind is described here; a kind the server offers that the app does not know gets a JSON editor.

type SettingField =
  | { key: string; type: 'url' | 'text' | 'secret'; required?: boolean }
  | { key: string; type: 'list'; required?: boolean }
  | { key: string; type: 'select'; options: string[] }
  | { key: string; type: 'color' };

const KIND_FORMS: Record<string, SettingField[]> = {
  api: [{ key: 'webhookUrl', type: 'url', required: true }],
  widget: [
    { key: 'allowedDomains', type: 'list', required: true },
    { key: 'appearance.title', type: 'text' },
    { key: 'appearance.color', type: 'color' },
    { key: 'appearance.position', type: 'select', options: ['right', 'left'] },
    { key: 'language', type: 'select', options: ['auto', 'ru', 'en'] },
  ],
  telegram: [
    { key: 'botToken', type: 'secret', required: true },
    { key: 'updates', type: 'select', options: ['auto', 'webhook', 'polling'] },
  ],
};

/** Settings as the form edits them, flattened by dotted key. */
type Flat = Record<string, string>;

function flatten(settings: Record<string, unknown>, fields: SettingField[]): Flat {
  const flat: Flat = {};
  for (const field of fields) {
    let value: unknown = settings;
    for (const part of field.key.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
    if (field.type === 'secret') flat[field.key] = '';
    else if (Array.isArray(value)) flat[field.key] = value.join('\n');
    else flat[field.key] = value === undefined || value === null ? '' : String(value);
  }
  return flat;
}

/** The settings object the server expects; empty optional fields are left out. */
export function unflatten(flat: Flat, fields: SettingField[]): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const field of fields) {
    const raw = flat[field.key] ?? '';
    if (field.type === 'list') {
      const items = raw
        .split(/[\n,]/)
        .map((item) => item.trim())
        .filter(Boolean);
      if (items.length === 0 && !field.required) continue;
      assign(settings, field.key, items);
    } else if (raw.trim() !== '') {
      assign(settings, field.key, raw.trim());
    }
  }
  return settings;
}

function assign(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let current = target;
  for (const part of parts.slice(0, -1)) {
    current[part] ??= {};
    current = current[part] as Record<string, unknown>;
  }
  current[parts.at(-1)!] = value;
}

export function ChannelsScreen() {
  const t = useT();
  const { data, error, reload } = useLoad(async () => {
    const [channels, lines, kinds] = await Promise.all([
      client.channels.list(),
      client.lines.list(),
      channelKinds(),
    ]);
    return { channels, lines: lines.items, kinds };
  });
  const [connecting, setConnecting] = useState(false);
  const [revealed, setRevealed] = useState<ChannelWithSecrets | null>(null);
  const [editing, setEditing] = useState<Channel | null>(null);

  return (
    <section aria-labelledby="channels-title">
      <div className="screen-head">
        <h1 id="channels-title">{t('channels.title')}</h1>
        <button
          type="button"
          className="primary"
          onClick={() => setConnecting(true)}
          disabled={!data?.lines.length}
        >
          {t('channels.connect')}
        </button>
      </div>
      <ErrorNotice error={error} />
      {data && data.lines.length === 0 ? <p className="muted">{t('channels.needLine')}</p> : null}
      {data ? (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t('common.name')}</th>
              <th scope="col">{t('channels.kind')}</th>
              <th scope="col">{t('channels.line')}</th>
              <th scope="col">{t('channels.state')}</th>
              <th scope="col">
                <span className="visually-hidden">{t('common.actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.channels.map((channel) => (
              <ChannelRow
                key={channel.id}
                channel={channel}
                lines={data.lines}
                onChanged={reload}
                onRevealed={setRevealed}
                onEdit={() => setEditing(channel)}
              />
            ))}
            {data.channels.length === 0 ? (
              <tr>
                <td colSpan={5} className="muted">
                  {t('channels.none')}
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      ) : null}
      {connecting && data ? (
        <ChannelForm
          kinds={data.kinds}
          lines={data.lines}
          onClose={() => setConnecting(false)}
          onSaved={(result) => {
            setConnecting(false);
            if (result) setRevealed(result);
            void reload();
          }}
        />
      ) : null}
      {editing && data ? (
        <ChannelForm
          kinds={data.kinds}
          lines={data.lines}
          channel={editing}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            void reload();
          }}
        />
      ) : null}
      {revealed ? <SecretsModal result={revealed} onClose={() => setRevealed(null)} /> : null}
    </section>
  );
}

function ChannelRow({
  channel,
  lines,
  onChanged,
  onRevealed,
  onEdit,
}: {
  channel: Channel;
  lines: Line[];
  onChanged: () => void;
  onRevealed: (result: ChannelWithSecrets) => void;
  onEdit: () => void;
}) {
  const t = useT();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [snippet, setSnippet] = useState(false);
  const selectId = useId();
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
  const connected = channel.status === 'connected';
  return (
    <tr data-channel-id={channel.id}>
      <td>{channel.name}</td>
      <td>
        <code>{channel.kind}</code>
      </td>
      <td>
        <label htmlFor={selectId} className="visually-hidden">
          {t('channels.moveTo', { name: channel.name })}
        </label>
        <select
          id={selectId}
          value={channel.lineId ?? ''}
          disabled={busy}
          onChange={(event) => run(() => client.channels.update(channel.id, { lineId: event.target.value }))}
        >
          {channel.lineId === null ? <option value="">—</option> : null}
          {lines.map((line) => (
            <option key={line.id} value={line.id}>
              {line.name}
            </option>
          ))}
        </select>
      </td>
      <td>
        <span className={connected ? 'status status-answered' : 'status status-closed'}>
          {connected ? t('channels.connected') : t('channels.disconnected')}
        </span>
      </td>
      <td className="row-buttons">
        {channel.kind === 'widget' ? (
          <button type="button" onClick={() => setSnippet(true)}>
            {t('channels.snippet')}
          </button>
        ) : null}
        <button type="button" onClick={onEdit} disabled={busy}>
          {t('common.edit')}
        </button>
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            run(() =>
              client.channels.update(channel.id, { status: connected ? 'disconnected' : 'connected' }),
            )
          }
        >
          {connected ? t('channels.disconnect') : t('channels.reconnect')}
        </button>
        <button
          type="button"
          disabled={busy}
          onClick={() => run(async () => onRevealed(await client.channels.rotateSecrets(channel.id)))}
        >
          {t('channels.rotate')}
        </button>
        <button type="button" className="danger-outline" onClick={() => setDeleting(true)}>
          {t('common.delete')}
        </button>
        <ErrorNotice error={error} onDismiss={() => setError(null)} />
        {deleting ? (
          <DeleteChannel channel={channel} onClose={() => setDeleting(false)} onDeleted={onChanged} />
        ) : null}
        {snippet ? <SnippetModal channel={channel} onClose={() => setSnippet(false)} /> : null}
      </td>
    </tr>
  );
}

function ChannelForm({
  kinds,
  lines,
  channel,
  onClose,
  onSaved,
}: {
  kinds: string[];
  lines: Line[];
  channel?: Channel;
  onClose: () => void;
  onSaved: (result: ChannelWithSecrets | null) => void;
}) {
  const t = useT();
  const [kind, setKind] = useState(channel?.kind ?? kinds[0] ?? 'api');
  const [name, setName] = useState(channel?.name ?? '');
  const [lineId, setLineId] = useState(channel?.lineId ?? lines[0]?.id ?? '');
  const fields = KIND_FORMS[kind];
  const [flat, setFlat] = useState<Flat>(() => (fields ? flatten(channel?.settings ?? {}, fields) : {}));
  const [json, setJson] = useState(() => JSON.stringify(channel?.settings ?? {}, null, 2));
  const [error, setError] = useState<unknown>(null);
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const errors = fieldErrorsOf(error);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setJsonError(null);
    let settings: Record<string, unknown>;
    if (fields) settings = unflatten(flat, fields);
    else {
      try {
        settings = JSON.parse(json) as Record<string, unknown>;
      } catch {
        setJsonError(t('channels.badJson'));
        return;
      }
    }
    setBusy(true);
    try {
      if (channel) {
        await client.channels.update(channel.id, { name, settings });
        onSaved(null);
      } else {
        onSaved(await client.channels.create({ kind, name, lineId, settings }));
      }
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      title={channel ? t('channels.editTitle', { name: channel.name }) : t('channels.connect')}
      onClose={onClose}
      wide
    >
      <form onSubmit={submit} noValidate className="stack">
        {!channel ? (
          <Field label={t('channels.kind')} errors={errors.kind}>
            {(props) => (
              <select
                {...props}
                value={kind}
                onChange={(event) => {
                  const next = event.target.value;
                  setKind(next);
                  const nextFields = KIND_FORMS[next];
                  setFlat(nextFields ? flatten({}, nextFields) : {});
                }}
              >
                {kinds.map((k) => {
                  const label = `channels.kind.${k}`;
                  return (
                    <option key={k} value={k}>
                      {t.has(label) ? t(label) : k}
                    </option>
                  );
                })}
              </select>
            )}
          </Field>
        ) : null}
        <Field label={t('common.name')} errors={errors.name}>
          {(props) => <input {...props} value={name} onChange={(event) => setName(event.target.value)} />}
        </Field>
        {!channel ? (
          <Field label={t('channels.line')} errors={errors.lineId}>
            {(props) => (
              <select {...props} value={lineId} onChange={(event) => setLineId(event.target.value)}>
                {lines.map((line) => (
                  <option key={line.id} value={line.id}>
                    {line.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        ) : null}
        {fields ? (
          fields.map((field) => (
            <SettingInput
              key={field.key}
              field={field}
              kind={kind}
              value={flat[field.key] ?? ''}
              onChange={(value) => setFlat({ ...flat, [field.key]: value })}
              errors={errors[`settings.${field.key}`]}
              editing={Boolean(channel)}
            />
          ))
        ) : (
          <Field
            label={t('channels.settingsJson')}
            errors={[...(jsonError ? [jsonError] : []), ...(errors.settings ?? [])]}
          >
            {(props) => (
              <textarea {...props} rows={6} value={json} onChange={(event) => setJson(event.target.value)} />
            )}
          </Field>
        )}
        <ErrorNotice error={error} />
        <div className="modal-buttons">
          <button type="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {channel ? t('common.save') : t('channels.connectButton')}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function SettingInput({
  field,
  kind,
  value,
  onChange,
  errors,
  editing,
}: {
  field: SettingField;
  kind: string;
  value: string;
  onChange: (value: string) => void;
  errors: string[] | undefined;
  editing: boolean;
}) {
  const t = useT();
  const labelKey = `channels.field.${kind}.${field.key}`;
  const label = t.has(labelKey) ? t(labelKey) : field.key;
  const hintKey = `${labelKey}.hint`;
  const hint = t.has(hintKey) ? t(hintKey) : undefined;
  return (
    <Field
      label={label}
      hint={field.type === 'secret' && editing ? t('channels.secretKeep') : hint}
      errors={errors}
    >
      {(props) => {
        switch (field.type) {
          case 'list':
            return (
              <textarea
                {...props}
                rows={3}
                value={value}
                onChange={(event) => onChange(event.target.value)}
              />
            );
          case 'select':
            return (
              <select
                {...props}
                value={value || field.options[0]}
                onChange={(event) => onChange(event.target.value)}
              >
                {field.options.map((option) => (
                  <option key={option} value={option}>
                    {option}
                  </option>
                ))}
              </select>
            );
          case 'color':
            return (
              <input
                {...props}
                type="color"
                value={value || '#2563eb'}
                onChange={(event) => onChange(event.target.value)}
              />
            );
          case 'secret':
            return (
              <input
                {...props}
                type="password"
                autoComplete="off"
                value={value}
                onChange={(event) => onChange(event.target.value)}
              />
            );
          default:
            return (
              <input
                {...props}
                type={field.type === 'url' ? 'url' : 'text'}
                value={value}
                onChange={(event) => onChange(event.target.value)}
              />
            );
        }
      }}
    </Field>
  );
}

function CopyField({
  label,
  value,
  multiline = false,
}: {
  label: string;
  value: string;
  multiline?: boolean;
}) {
  const t = useT();
  const [copied, setCopied] = useState(false);
  const id = useId();
  return (
    <div className="copy-field">
      <label htmlFor={id}>{label}</label>
      <div className="copy-row">
        {multiline ? (
          <textarea
            id={id}
            readOnly
            rows={4}
            value={value}
            onFocus={(event) => event.currentTarget.select()}
          />
        ) : (
          <input id={id} readOnly value={value} onFocus={(event) => event.currentTarget.select()} />
        )}
        <button
          type="button"
          onClick={() =>
            navigator.clipboard?.writeText(value).then(
              () => setCopied(true),
              () => setCopied(false),
            )
          }
        >
          {copied ? t('common.copied') : t('common.copy')}
        </button>
      </div>
    </div>
  );
}

function SecretsModal({ result, onClose }: { result: ChannelWithSecrets; onClose: () => void }) {
  const t = useT();
  const { channel, secrets } = result;
  const entries = Object.entries(secrets);
  return (
    <Modal title={t('channels.secretsTitle', { name: channel.name })} onClose={onClose} wide>
      {entries.length > 0 ? <p className="notice notice-warn">{t('channels.secretsOnce')}</p> : null}
      {channel.kind === 'api' ? (
        <CopyField
          label={t('channels.inboundUrl')}
          value={`${window.location.origin}/api/v1/channel-api/messages`}
        />
      ) : null}
      {entries.map(([key, value]) => {
        const label = `channels.secret.${key}`;
        return <CopyField key={key} label={t.has(label) ? t(label) : key} value={value} />;
      })}
      {channel.kind === 'widget' ? <Snippet channel={channel} /> : null}
      <div className="modal-buttons">
        <button type="button" className="primary" onClick={onClose}>
          {t('channels.secretsDone')}
        </button>
      </div>
    </Modal>
  );
}

function Snippet({ channel }: { channel: Channel }) {
  const t = useT();
  const { data, error } = useLoad(() => client.channels.widgetSnippet(channel.id), channel.id);
  const domains = Array.isArray(channel.settings.allowedDomains)
    ? (channel.settings.allowedDomains as string[])
    : [];
  return (
    <div>
      <ErrorNotice error={error} />
      {data ? <CopyField label={t('channels.snippetLabel')} value={data.snippet} multiline /> : null}
      <p className="muted">{t('channels.allowedDomains', { domains: domains.join(', ') || '—' })}</p>
    </div>
  );
}

function SnippetModal({ channel, onClose }: { channel: Channel; onClose: () => void }) {
  const t = useT();
  return (
    <Modal title={t('channels.snippet')} onClose={onClose} wide>
      <Snippet channel={channel} />
    </Modal>
  );
}

/** A channel with dialogs is deleted with them only when its name is typed; disconnecting keeps them. */
function DeleteChannel({
  channel,
  onClose,
  onDeleted,
}: {
  channel: Channel;
  onClose: () => void;
  onDeleted: () => void;
}) {
  const t = useT();
  return (
    <ConfirmByName
      title={t('channels.deleteTitle', { name: channel.name })}
      warning={t('channels.deleteWarning')}
      name={channel.name}
      confirmLabel={t('common.delete')}
      onConfirm={async (typed) => {
        await client.channels.delete(channel.id, typed);
        onClose();
        onDeleted();
      }}
      onClose={onClose}
    />
  );
}
