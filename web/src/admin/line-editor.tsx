import type { Line, LineSettings } from '@openlines/contract';
import { LineSettingsSchema } from '@openlines/contract';
import { type FormEvent, type KeyboardEvent, useMemo, useRef, useState } from 'react';
import { channelKinds, client } from '../lib/api';
import { fieldErrorsOf } from '../lib/errors';
import { formatDateTime } from '../lib/format';
import { useT } from '../lib/i18n';
import { linkClick, navigate } from '../lib/router';
import { Badge } from '../ui/badge';
import { ConfirmByName } from '../ui/confirm-by-name';
import { ErrorNotice } from '../ui/error-notice';
import { Field } from '../ui/field';
import { type SettingsContext, SettingsSection } from './settings-form';
import { sectionLabel } from './settings-labels';
import { SECTIONS, type SectionId, sectionOf, settingsPatch } from './settings-schema';
import { useLoad } from './use-load';

/** Every setting of one line, in the SPEC's sections, with the server's messages next to the fields. */
export function LineEditor({ lineId }: { lineId: string }) {
  const t = useT();
  const loaded = useLoad(async () => {
    const [line, users, departments, kinds, bots] = await Promise.all([
      client.lines.get(lineId),
      client.users.list(),
      client.departments.list(),
      channelKinds(),
      client.bots.list(),
    ]);
    return { line, context: { users, departments, channelKinds: kinds, bots } satisfies SettingsContext };
  }, lineId);
  if (loaded.error) return <ErrorNotice error={loaded.error} />;
  if (!loaded.data) return <p>{t('common.loading')}</p>;
  return (
    <LineForm
      line={loaded.data.line}
      context={loaded.data.context}
      onSaved={(line) => loaded.setData({ ...loaded.data!, line })}
    />
  );
}

function LineForm({
  line,
  context,
  onSaved,
}: {
  line: Line;
  context: SettingsContext;
  onSaved: (line: Line) => void;
}) {
  const t = useT();
  const [name, setName] = useState(line.name);
  const [draft, setDraft] = useState<LineSettings>(line.settings);
  const [section, setSection] = useState<SectionId>('queue');
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const tabs = useRef<(HTMLButtonElement | null)[]>([]);

  const errors = useMemo(() => fieldErrorsOf(error, 'body.settings.'), [error]);
  const otherErrors = fieldErrorsOf(error);
  const patch = settingsPatch(LineSettingsSchema, line.settings, draft);
  const dirty = patch !== undefined || name !== line.name;
  const errorCount = (id: SectionId) =>
    Object.entries(errors)
      .filter(([field]) => sectionOf(field) === id)
      .reduce((n, [, list]) => n + list.length, 0);

  async function save(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const updated = await client.lines.update(line.id, {
        ...(name !== line.name ? { name } : {}),
        ...(patch !== undefined ? { settings: patch as LineSettings } : {}),
      });
      onSaved(updated);
      setDraft(updated.settings);
      setSaved(true);
    } catch (failure) {
      setError(failure);
      // Show the first section with a problem.
      const first = Object.keys(fieldErrorsOf(failure, 'body.settings.')).map(sectionOf).find(Boolean);
      if (first) setSection(first);
    } finally {
      setBusy(false);
    }
  }

  async function toggleActive() {
    setBusy(true);
    setError(null);
    try {
      onSaved(await client.lines.update(line.id, { active: !line.active }));
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  function onTabKey(event: KeyboardEvent, index: number) {
    const delta =
      event.key === 'ArrowRight' || event.key === 'ArrowDown'
        ? 1
        : event.key === 'ArrowLeft' || event.key === 'ArrowUp'
          ? -1
          : 0;
    if (!delta) return;
    event.preventDefault();
    const next = (index + delta + SECTIONS.length) % SECTIONS.length;
    setSection(SECTIONS[next]!);
    tabs.current[next]?.focus();
  }

  return (
    <section aria-labelledby="line-title" className="line-editor">
      <p>
        <a href="/admin/lines" onClick={linkClick('/admin/lines')}>
          ← {t('lines.title')}
        </a>
      </p>
      <div className="line-head">
        <h1 id="line-title">{line.name}</h1>
        <span className={line.active ? 'status status-answered' : 'status status-closed'}>
          {line.active ? t('lines.active') : t('lines.inactive')}
        </span>
        <button type="button" disabled={busy} onClick={toggleActive}>
          {line.active ? t('lines.deactivate') : t('lines.activate')}
        </button>
        <button type="button" className="danger-outline" onClick={() => setDeleting(true)}>
          {t('lines.delete')}
        </button>
      </div>
      <form onSubmit={save} noValidate className="line-form">
        <Field label={t('common.name')} errors={otherErrors.name}>
          {(props) => (
            <input
              {...props}
              value={name}
              maxLength={200}
              onChange={(event) => setName(event.target.value)}
            />
          )}
        </Field>
        <div className="section-tabs" role="tablist" aria-label={t('lines.sections')}>
          {SECTIONS.map((id, index) => {
            const count = errorCount(id);
            return (
              <button
                key={id}
                ref={(element) => {
                  tabs.current[index] = element;
                }}
                type="button"
                role="tab"
                id={`section-${id}`}
                aria-selected={section === id}
                aria-controls="section-panel"
                tabIndex={section === id ? 0 : -1}
                onClick={() => setSection(id)}
                onKeyDown={(event) => onTabKey(event, index)}
                className={count ? 'has-errors' : undefined}
              >
                {sectionLabel(id, t.locale)}
                {count ? (
                  <Badge
                    className="badge badge-error"
                    count={count}
                    label={t('lines.errorsInSection', { count })}
                  />
                ) : null}
              </button>
            );
          })}
        </div>
        <div
          id="section-panel"
          role="tabpanel"
          aria-labelledby={`section-${section}`}
          className="section-panel"
        >
          {section === 'workingHours' ? <ScheduleStatus lineId={line.id} version={line.updatedAt} /> : null}
          <SettingsSection
            section={section}
            value={draft}
            onChange={setDraft}
            errors={errors}
            context={context}
          />
        </div>
        <div className="save-bar">
          <ErrorNotice error={error} onDismiss={() => setError(null)} inline={['name', 'settings.']} />
          {saved && !dirty ? (
            <span role="status" className="saved">
              {t('common.saved')}
            </span>
          ) : null}
          <button
            type="button"
            disabled={!dirty || busy}
            onClick={() => {
              setDraft(line.settings);
              setName(line.name);
              setError(null);
            }}
          >
            {t('common.reset')}
          </button>
          <button type="submit" className="primary" disabled={!dirty || busy}>
            {t('common.save')}
          </button>
        </div>
      </form>
      {deleting ? <DeleteLine line={line} onClose={() => setDeleting(false)} /> : null}
    </section>
  );
}

/** LN-2: deleting removes the line's dialogs and history, so the name must be typed to confirm. */
function DeleteLine({ line, onClose }: { line: Line; onClose: () => void }) {
  const t = useT();
  return (
    <ConfirmByName
      title={t('lines.deleteTitle', { name: line.name })}
      warning={t('lines.deleteWarning')}
      name={line.name}
      confirmLabel={t('lines.deleteConfirm')}
      onConfirm={async (typed) => {
        await client.lines.delete(line.id, typed);
        navigate('/admin/lines');
      }}
      onClose={onClose}
    />
  );
}

interface ScheduleState {
  open: boolean;
  nextOpenAt: string | null;
  closesAt: string | null;
  timeZone: string;
}

/** Whether the line and its widget are open now, by the saved settings (WH-1..WH-3). */
function ScheduleStatus({ lineId, version }: { lineId: string; version: string }) {
  const t = useT();
  const { data } = useLoad(() => client.lines.schedule(lineId), `${lineId}:${version}`);
  if (!data) return null;
  const describe = (state: ScheduleState) =>
    state.open
      ? state.closesAt
        ? t('lines.openUntil', { time: formatDateTime(state.closesAt, t.locale) })
        : t('lines.openNow')
      : state.nextOpenAt
        ? t('lines.closedUntil', { time: formatDateTime(state.nextOpenAt, t.locale) })
        : t('lines.closedNow');
  return (
    <p className="notice notice-warn" role="status">
      {t('lines.scheduleLine')}: {describe(data.line)} · {t('lines.scheduleWidget')}: {describe(data.widget)}{' '}
      ({data.line.timeZone})
    </p>
  );
}
