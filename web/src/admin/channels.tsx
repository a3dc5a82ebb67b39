import type { Channel, ChannelKind, Line } from '@openlines/contract';
import type { ChannelWithSecrets } from '@openlines/sdk';
import { type FormEvent, useId, useMemo, useState } from 'react';
import { client } from '../lib/api';
import { fieldErrorsOf } from '../lib/errors';
import { type Translate, useT } from '../lib/i18n';
import { ConfirmByName } from '../ui/confirm-by-name';
import { ErrorNotice } from '../ui/error-notice';
import { Field } from '../ui/field';
import { Modal } from '../ui/modal';
import { type FormText, SchemaField } from './settings-form';
import { collectSettings, describeFields, type FieldSpec, type Schema, setAt } from './settings-schema';
import { useLoad } from './use-load';

// Channels (LN-3, LN-5, LN-6): connect one to a line, move it, disconnect it. A kind's settings form
// is generated from the settings schema its connector declares (GET /channel-kinds), by the same
// engine as the line settings; a kind the app does not know gets a JSON editor.

/**
 * The form of a kind: the settings its connector lists in `formFields`, in that order, drawn from
 * its schema (labels and hints are channels.field.<kind>.<path>); null for the JSON editor (a kind
 * that lists none, or a schema the engine cannot draw).
 */
function kindForm(kind: ChannelKind | undefined): FieldSpec[] | null {
  const paths = kind?.formFields;
  if (!kind || !paths || paths.length === 0) return null;
  try {
    return describeFields(kind.settingsSchema as Schema, paths);
  } catch {
    return null;
  }
}

/** Stored settings as the form starts from: a secret is never shown, only replaced. */
function draftOf(settings: Record<string, unknown>, fields: FieldSpec[] | null): Record<string, unknown> {
  let draft = settings;
  for (const field of fields ?? []) {
    if (field.kind === 'text' && field.input === 'password') draft = setAt(draft, field.path, '');
  }
  return draft;
}

function channelText(t: Translate, kind: string, editing: boolean): FormText {
  const key = (spec: FieldSpec) => `channels.field.${kind}.${spec.path}`;
  return {
    label: (spec) => {
      const label = key(spec);
      return t.has(label) ? t(label) : spec.path;
    },
    hint: (spec) => {
      if (editing && spec.kind === 'text' && spec.input === 'password') return t('channels.secretKeep');
      const hint = `${key(spec)}.hint`;
      return t.has(hint) ? t(hint) : undefined;
    },
    option: (_spec, option) => option,
    counters: false,
  };
}

export function ChannelsScreen() {
  const t = useT();
  const { data, error, reload } = useLoad(async () => {
    const [channels, lines, kinds] = await Promise.all([
      client.channels.list(),
      client.lines.list(),
      client.channels.kinds(),
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
                kind={data.kinds.find((k) => k.kind === channel.kind)}
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
      {revealed && data ? (
        <SecretsModal
          result={revealed}
          kind={data.kinds.find((k) => k.kind === revealed.channel.kind)}
          onClose={() => setRevealed(null)}
        />
      ) : null}
    </section>
  );
}

function ChannelRow({
  channel,
  kind,
  lines,
  onChanged,
  onRevealed,
  onEdit,
}: {
  channel: Channel;
  kind: ChannelKind | undefined;
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
      <td>{kindLabel(t, channel.kind)}</td>
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
        {channel.failure ? (
          <p className="notice notice-warn" role="alert">
            {t('channels.failing', { reason: channel.failure })}
          </p>
        ) : null}
      </td>
      <td className="row-buttons">
        {kind?.installSnippet ? (
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
  kinds: ChannelKind[];
  lines: Line[];
  channel?: Channel;
  onClose: () => void;
  onSaved: (result: ChannelWithSecrets | null) => void;
}) {
  const t = useT();
  const [kind, setKind] = useState(channel?.kind ?? kinds.find((k) => !k.createdByIntegration)?.kind ?? '');
  const [name, setName] = useState(channel?.name ?? '');
  const [lineId, setLineId] = useState(channel?.lineId ?? lines[0]?.id ?? '');
  const fields = useMemo(() => kindForm(kinds.find((k) => k.kind === kind)), [kinds, kind]);
  const [draft, setDraft] = useState(() => draftOf(channel?.settings ?? {}, fields));
  const [json, setJson] = useState(() => JSON.stringify(channel?.settings ?? {}, null, 2));
  const [error, setError] = useState<unknown>(null);
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const errors = fieldErrorsOf(error);
  const settingsErrors = useMemo(() => fieldErrorsOf(error, 'body.settings.'), [error]);
  const text = useMemo(() => channelText(t, kind, Boolean(channel)), [t, kind, channel]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setJsonError(null);
    let settings: Record<string, unknown>;
    if (fields) settings = collectSettings(fields, draft);
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
                  setKind(event.target.value);
                  setDraft({});
                }}
              >
                {kinds
                  .filter((k) => !k.createdByIntegration)
                  .map(({ kind: k }) => (
                    <option key={k} value={k}>
                      {kindLabel(t, k)}
                    </option>
                  ))}
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
            <SchemaField
              key={field.path}
              spec={field}
              value={draft}
              onChange={setDraft}
              errors={settingsErrors}
              text={text}
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
        <ErrorNotice error={error} inline={['kind', 'name', 'lineId', 'settings', 'settings.']} />
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

export function CopyField({
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

function SecretsModal({
  result,
  kind,
  onClose,
}: {
  result: ChannelWithSecrets;
  kind: ChannelKind | undefined;
  onClose: () => void;
}) {
  const t = useT();
  const { channel, secrets } = result;
  const entries = Object.entries(secrets);
  const ownUrlLabel = `channels.inboundUrl.${channel.kind}`;
  return (
    <Modal title={t('channels.secretsTitle', { name: channel.name })} onClose={onClose} wide>
      {entries.length > 0 ? <p className="notice notice-warn">{t('channels.secretsOnce')}</p> : null}
      {kind?.inboundPath ? (
        // A per-channel path (`{channelId}`) is a platform's webhook, pasted into the platform.
        <CopyField
          label={
            t.has(ownUrlLabel)
              ? t(ownUrlLabel)
              : t(kind.inboundPath.includes('{channelId}') ? 'channels.webhookUrl' : 'channels.inboundUrl')
          }
          value={`${window.location.origin}${kind.inboundPath.replace('{channelId}', channel.id)}`}
        />
      ) : null}
      {entries.map(([key, value]) => {
        const label = `channels.secret.${key}`;
        return <CopyField key={key} label={t.has(label) ? t(label) : key} value={value} />;
      })}
      {kind?.installSnippet ? <Snippet channel={channel} /> : null}
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

/** A channel kind as people call it; a kind this build has no text for shows its code. */
function kindLabel(t: Translate, kind: string): string {
  const key = `channels.kind.${kind}`;
  return t.has(key) ? t(key) : kind;
}
