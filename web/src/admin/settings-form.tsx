import type {
  Bot,
  Department,
  FieldError,
  LineSettings,
  QueueMember,
  User,
  WeeklySchedule,
} from '@openlines/contract';
import { WEEKDAYS } from '@openlines/contract';
import { type ReactNode, useId, useMemo, useState } from 'react';
import type { Locale } from '../lib/catalogue';
import { readableFieldErrors } from '../lib/errors';
import { describeSeconds } from '../lib/format';
import { useT } from '../lib/i18n';
import { Field } from '../ui/field';
import { fieldLabel, hintFor, optionLabel } from './settings-labels';
import { describeSection, errorsFor, type FieldSpec, getAt, type SectionId, setAt } from './settings-schema';

export interface SettingsContext {
  users: User[];
  departments: Department[];
  channelKinds: string[];
  /** The account's chatbots, for the line's bot pickers (BOT-1, AA-3). */
  bots?: Bot[];
}

const NO_CONTEXT: SettingsContext = { users: [], departments: [], channelKinds: [] };

/** An `<input type="color">` cannot be empty: an unset colour shows as the widget's default. */
const COLOR_FALLBACK = '#2563eb';

/** What a form's controls say; each form that uses the engine has its own labels and hints. */
export interface FormText {
  label(spec: FieldSpec): string;
  hint(spec: FieldSpec): string | undefined;
  option(spec: FieldSpec, option: string): string;
  /** Whether a text field with a maximum length counts its characters in its hint. */
  counters: boolean;
}

/** The line settings form's texts (settings-labels.ts). */
export function lineSettingsText(locale: Locale): FormText {
  return {
    label: (spec) => fieldLabel(spec.path, locale),
    hint: (spec) => hintFor(spec.path, locale),
    option: (spec, option) => optionLabel(spec.path, option, locale),
    counters: true,
  };
}

/** One section of the line settings, generated from the schema. */
export function SettingsSection({
  section,
  value,
  onChange,
  errors,
  context,
}: {
  section: SectionId;
  value: LineSettings;
  onChange: (next: LineSettings) => void;
  errors: Readonly<Record<string, readonly (FieldError | string)[]>>;
  context: SettingsContext;
}) {
  const t = useT();
  const spec = useMemo(() => describeSection(section), [section]);
  const text = useMemo(() => lineSettingsText(t.locale), [t.locale]);
  if (spec.kind !== 'group') return null;
  return (
    <div className="settings-section">
      {spec.children.map((child) => (
        <SchemaField
          key={child.path}
          spec={child}
          value={value}
          onChange={onChange}
          errors={errors}
          text={text}
          context={context}
        />
      ))}
    </div>
  );
}

/**
 * The control of one field, chosen by its spec. `value` is the whole settings object and
 * `onChange` gets the whole object back with the field set; `errors` are the server's, by path.
 */
export function SchemaField<T>({
  spec,
  value,
  onChange,
  errors,
  text,
  context = NO_CONTEXT,
}: {
  spec: FieldSpec;
  value: T;
  onChange: (next: T) => void;
  errors: Readonly<Record<string, readonly (FieldError | string)[]>>;
  text: FormText;
  context?: SettingsContext;
}) {
  const t = useT();
  const label = text.label(spec);
  const hint = text.hint(spec);
  const current = getAt(value, spec.path);
  const set = (next: unknown) => onChange(setAt(value, spec.path, next));
  const own = errorsFor(
    readableFieldErrors(errors, t),
    spec.path,
    spec.kind === 'custom' || spec.kind === 'multiEnum',
  );
  const dataField = { 'data-field': spec.path };

  switch (spec.kind) {
    case 'group':
      return (
        <fieldset className="settings-group">
          <legend>{label}</legend>
          {spec.children.map((child) => (
            <SchemaField
              key={child.path}
              spec={child}
              value={value}
              onChange={onChange}
              errors={errors}
              text={text}
              context={context}
            />
          ))}
        </fieldset>
      );
    case 'boolean':
      return (
        <Field label={label} hint={hint} errors={own} inline>
          {(props) => (
            <input
              {...props}
              {...dataField}
              type="checkbox"
              checked={current === true}
              onChange={(event) => set(event.target.checked)}
            />
          )}
        </Field>
      );
    case 'integer': {
      const number = typeof current === 'number' ? current : Number(current);
      const extra =
        spec.seconds && Number.isFinite(number) && number > 0 ? describeSeconds(number, t.locale) : null;
      const range =
        spec.min !== undefined && spec.max !== undefined
          ? t('settings.range', { min: spec.min, max: spec.max })
          : null;
      return (
        <Field
          label={label}
          hint={[hint, range, extra].filter(Boolean).join(' · ') || undefined}
          errors={own}
        >
          {(props) => (
            <input
              {...props}
              {...dataField}
              type="number"
              inputMode="numeric"
              step={1}
              min={spec.min}
              max={spec.max}
              value={typeof current === 'number' || typeof current === 'string' ? String(current) : ''}
              onChange={(event) => {
                const raw = event.target.value;
                // A value that is not a whole number goes to the server as typed: it says what is wrong.
                set(raw !== '' && /^-?\d+$/.test(raw) ? Number(raw) : raw);
              }}
            />
          )}
        </Field>
      );
    }
    case 'enum':
      return (
        <Field label={label} hint={hint} errors={own}>
          {(props) => (
            <select
              {...props}
              {...dataField}
              // Unset (an optional channel setting): shown as the first option, sent only once picked.
              value={typeof current === 'string' && current !== '' ? current : (spec.options[0] ?? '')}
              onChange={(event) => set(event.target.value)}
            >
              {spec.options.map((option) => (
                <option key={option} value={option}>
                  {text.option(spec, option)}
                </option>
              ))}
            </select>
          )}
        </Field>
      );
    case 'text': {
      const typed = typeof current === 'string' ? current : '';
      const counter = text.counters && spec.maxLength ? `${typed.length} / ${spec.maxLength}` : null;
      const onText = (next: string) => set(spec.nullable && next === '' ? null : next);
      return (
        <Field label={label} hint={[hint, counter].filter(Boolean).join(' · ') || undefined} errors={own}>
          {(props) =>
            spec.multiline ? (
              <textarea
                {...props}
                {...dataField}
                rows={3}
                value={typed}
                onChange={(event) => onText(event.target.value)}
              />
            ) : spec.input === 'password' ? (
              <input
                {...props}
                {...dataField}
                type="password"
                autoComplete="off"
                value={typed}
                onChange={(event) => onText(event.target.value)}
              />
            ) : (
              <input
                {...props}
                {...dataField}
                type={spec.input}
                value={spec.input === 'color' ? typed || COLOR_FALLBACK : typed}
                onChange={(event) => onText(event.target.value)}
              />
            )
          }
        </Field>
      );
    }
    case 'list': {
      // Kept as typed while editing (a new line, a trailing comma); split into items when sent.
      const typed = Array.isArray(current) ? current.join('\n') : typeof current === 'string' ? current : '';
      return (
        <Field label={label} hint={hint} errors={own}>
          {(props) => (
            <textarea
              {...props}
              {...dataField}
              rows={3}
              value={typed}
              onChange={(event) => set(event.target.value)}
            />
          )}
        </Field>
      );
    }
    case 'multiEnum': {
      const selected = Array.isArray(current) ? (current as string[]) : [];
      return (
        <fieldset className="settings-group settings-inline" data-field={spec.path}>
          <legend>{label}</legend>
          {spec.options.map((option) => (
            <label key={option} className="checkbox">
              <input
                type="checkbox"
                checked={selected.includes(option)}
                onChange={(event) =>
                  set(
                    event.target.checked
                      ? spec.options.filter((o) => o === option || selected.includes(o))
                      : selected.filter((o) => o !== option),
                  )
                }
              />
              {text.option(spec, option)}
            </label>
          ))}
          <FieldErrors errors={own} />
        </fieldset>
      );
    }
    case 'custom':
      return (
        <fieldset className="settings-group" data-field={spec.path}>
          <legend>{label}</legend>
          {hint ? <p className="field-hint">{hint}</p> : null}
          <CustomEditor spec={spec} label={label} value={current} onChange={set} context={context} />
          <FieldErrors errors={own} />
        </fieldset>
      );
  }
}

function FieldErrors({ errors }: { errors: string[] }) {
  if (errors.length === 0) return null;
  return (
    <ul className="field-errors" role="alert">
      {errors.map((message) => (
        <li key={message}>{message}</li>
      ))}
    </ul>
  );
}

function CustomEditor({
  spec,
  label,
  value,
  onChange,
  context,
}: {
  spec: Extract<FieldSpec, { kind: 'custom' }>;
  label: string;
  value: unknown;
  onChange: (next: unknown) => void;
  context: SettingsContext;
}): ReactNode {
  const t = useT();
  switch (spec.custom) {
    case 'queueMembers':
      return (
        <QueueMembersEditor value={(value as QueueMember[]) ?? []} onChange={onChange} context={context} />
      );
    case 'schedule':
      return <ScheduleEditor value={value as WeeklySchedule} onChange={onChange} />;
    case 'stringList':
      return <StringListEditor value={(value as string[]) ?? []} onChange={onChange} label={label} />;
    case 'userList':
      return <UserListEditor value={(value as string[]) ?? []} onChange={onChange} users={context.users} />;
    case 'botPicker':
      return (
        <IdPicker
          value={(value as string | null) ?? null}
          onChange={onChange}
          options={(context.bots ?? []).map((bot) => ({
            id: bot.id,
            text: `${bot.name} (${t(bot.kind === 'external' ? 'bots.kind.external' : 'bots.kind.builtin')})`,
          }))}
          label={label}
          none={t('settings.noBot')}
          hint={(context.bots ?? []).length === 0 ? t('settings.noBots') : null}
        />
      );
    case 'userPicker':
      return (
        <IdPicker
          value={(value as string | null) ?? null}
          onChange={onChange}
          options={context.users
            .filter((user) => user.active || user.id === value)
            .map((user) => ({ id: user.id, text: user.name }))}
          label={label}
          none={t('settings.operatorWhoTakes')}
        />
      );
    case 'perChannelKind':
      return (
        <PerChannelKindEditor
          value={(value as Record<string, Record<string, string>>) ?? {}}
          onChange={onChange}
          kinds={context.channelKinds}
        />
      );
  }
}

function QueueMembersEditor({
  value,
  onChange,
  context,
}: {
  value: QueueMember[];
  onChange: (next: QueueMember[]) => void;
  context: SettingsContext;
}) {
  const t = useT();
  const [choice, setChoice] = useState('');
  const id = useId();
  const nameOf = (member: QueueMember) =>
    member.type === 'user'
      ? (context.users.find((u) => u.id === member.id)?.name ?? member.id)
      : (context.departments.find((d) => d.id === member.id)?.name ?? member.id);
  const taken = new Set(value.map((m) => `${m.type}:${m.id}`));
  const move = (index: number, delta: number) => {
    const next = [...value];
    const [item] = next.splice(index, 1);
    next.splice(index + delta, 0, item!);
    onChange(next);
  };
  return (
    <div>
      <ol className="member-list">
        {value.map((member, index) => (
          <li key={`${member.type}:${member.id}`}>
            <span className="chip">
              {t(member.type === 'user' ? 'settings.user' : 'settings.department')}
            </span>{' '}
            {nameOf(member)}
            <span className="row-buttons">
              <button
                type="button"
                disabled={index === 0}
                onClick={() => move(index, -1)}
                aria-label={t('settings.moveUp', { name: nameOf(member) })}
              >
                ↑
              </button>
              <button
                type="button"
                disabled={index === value.length - 1}
                onClick={() => move(index, 1)}
                aria-label={t('settings.moveDown', { name: nameOf(member) })}
              >
                ↓
              </button>
              <button
                type="button"
                onClick={() => onChange(value.filter((_, i) => i !== index))}
                aria-label={t('settings.removeNamed', { name: nameOf(member) })}
              >
                ×
              </button>
            </span>
          </li>
        ))}
        {value.length === 0 ? <li className="muted">{t('settings.queueEmpty')}</li> : null}
      </ol>
      <div className="add-row">
        <label htmlFor={id} className="visually-hidden">
          {t('settings.addMember')}
        </label>
        <select id={id} value={choice} onChange={(event) => setChoice(event.target.value)}>
          <option value="">{t('settings.addMember')}</option>
          <optgroup label={t('settings.users')}>
            {context.users
              .filter((u) => u.active && !taken.has(`user:${u.id}`))
              .map((u) => (
                <option key={u.id} value={`user:${u.id}`}>
                  {u.name}
                </option>
              ))}
          </optgroup>
          <optgroup label={t('settings.departments')}>
            {context.departments
              .filter((d) => !taken.has(`department:${d.id}`))
              .map((d) => (
                <option key={d.id} value={`department:${d.id}`}>
                  {d.name}
                </option>
              ))}
          </optgroup>
        </select>
        <button
          type="button"
          disabled={!choice}
          onClick={() => {
            const [type, memberId] = choice.split(':') as ['user' | 'department', string];
            onChange([...value, { type, id: memberId }]);
            setChoice('');
          }}
        >
          {t('common.add')}
        </button>
      </div>
    </div>
  );
}

function ScheduleEditor({
  value,
  onChange,
}: {
  value: WeeklySchedule;
  onChange: (next: WeeklySchedule) => void;
}) {
  const t = useT();
  return (
    <table className="schedule">
      <tbody>
        {WEEKDAYS.map((day) => {
          const intervals = value?.[day] ?? [];
          const dayName = optionLabel('', day, t.locale);
          return (
            <tr key={day}>
              <th scope="row">{dayName}</th>
              <td>
                {intervals.length === 0 ? <span className="muted">{t('settings.closedDay')}</span> : null}
                {intervals.map((interval, index) => (
                  <span key={`${day}-${index.toString()}`} className="interval">
                    <input
                      type="time"
                      aria-label={t('settings.from', { day: dayName })}
                      value={interval.from}
                      onChange={(event) =>
                        onChange({
                          ...value,
                          [day]: intervals.map((it, i) =>
                            i === index ? { ...it, from: event.target.value } : it,
                          ),
                        })
                      }
                    />
                    –
                    <input
                      type="text"
                      className="time-to"
                      pattern="\d\d:\d\d"
                      aria-label={t('settings.to', { day: dayName })}
                      value={interval.to}
                      onChange={(event) =>
                        onChange({
                          ...value,
                          [day]: intervals.map((it, i) =>
                            i === index ? { ...it, to: event.target.value } : it,
                          ),
                        })
                      }
                    />
                    <button
                      type="button"
                      aria-label={t('settings.removeInterval', { day: dayName })}
                      onClick={() => onChange({ ...value, [day]: intervals.filter((_, i) => i !== index) })}
                    >
                      ×
                    </button>
                  </span>
                ))}
                <button
                  type="button"
                  className="link-button"
                  onClick={() =>
                    onChange({ ...value, [day]: [...intervals, { from: '09:00', to: '18:00' }] })
                  }
                  aria-label={t('settings.addIntervalFor', { day: dayName })}
                >
                  + {t('settings.addInterval')}
                </button>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function StringListEditor({
  value,
  onChange,
  label,
}: {
  value: string[];
  onChange: (next: string[]) => void;
  label: string;
}) {
  const t = useT();
  const [draft, setDraft] = useState('');
  const id = useId();
  const add = () => {
    const item = draft.trim();
    if (!item) return;
    onChange([...value, item]);
    setDraft('');
  };
  return (
    <div>
      <ul className="tag-list">
        {value.map((item, index) => (
          <li key={`${item}-${index.toString()}`}>
            {item}
            <button
              type="button"
              className="icon-button"
              aria-label={t('settings.removeNamed', { name: item })}
              onClick={() => onChange(value.filter((_, i) => i !== index))}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      <div className="add-row">
        <label htmlFor={id} className="visually-hidden">
          {label}
        </label>
        <input
          id={id}
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === 'Enter') {
              event.preventDefault();
              add();
            }
          }}
        />
        <button type="button" onClick={add} disabled={!draft.trim()}>
          {t('common.add')}
        </button>
      </div>
    </div>
  );
}

function UserListEditor({
  value,
  onChange,
  users,
}: {
  value: string[];
  onChange: (next: string[]) => void;
  users: User[];
}) {
  return (
    <div className="settings-inline">
      {users
        .filter((user) => user.active || value.includes(user.id))
        .map((user) => (
          <label key={user.id} className="checkbox">
            <input
              type="checkbox"
              checked={value.includes(user.id)}
              onChange={(event) =>
                onChange(event.target.checked ? [...value, user.id] : value.filter((id) => id !== user.id))
              }
            />
            {user.name}
          </label>
        ))}
    </div>
  );
}

const OVERRIDABLE = ['welcome', 'offHours', 'noAnswer', 'close', 'autoClose'] as const;

function PerChannelKindEditor({
  value,
  onChange,
  kinds,
}: {
  value: Record<string, Record<string, string>>;
  onChange: (next: Record<string, Record<string, string>>) => void;
  kinds: string[];
}) {
  const t = useT();
  const [kind, setKind] = useState('');
  const id = useId();
  const available = [...new Set([...kinds, 'widget', 'telegram', 'api'])]
    .filter((k) => !Object.hasOwn(value, k))
    .sort();
  return (
    <div>
      {Object.entries(value).map(([channelKind, overrides]) => (
        <fieldset key={channelKind} className="settings-group">
          <legend>
            <code>{channelKind}</code>{' '}
            <button
              type="button"
              className="link-button"
              onClick={() => {
                const next = { ...value };
                delete next[channelKind];
                onChange(next);
              }}
            >
              {t('common.remove')}
            </button>
          </legend>
          {OVERRIDABLE.map((name) => (
            <Field key={name} label={t(`settings.override.${name}`)} hint={t('settings.overrideHint')}>
              {(props) => (
                <textarea
                  {...props}
                  rows={2}
                  value={overrides[name] ?? ''}
                  onChange={(event) => {
                    const next = { ...overrides };
                    if (event.target.value === '') delete next[name];
                    else next[name] = event.target.value;
                    onChange({ ...value, [channelKind]: next });
                  }}
                />
              )}
            </Field>
          ))}
        </fieldset>
      ))}
      <div className="add-row">
        <label htmlFor={id} className="visually-hidden">
          {t('settings.addKind')}
        </label>
        <select id={id} value={kind} onChange={(event) => setKind(event.target.value)}>
          <option value="">{t('settings.addKind')}</option>
          {available.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
        <button
          type="button"
          disabled={!kind}
          onClick={() => {
            onChange({ ...value, [kind]: {} });
            setKind('');
          }}
        >
          {t('common.add')}
        </button>
      </div>
    </div>
  );
}

/**
 * One of a list (the account's users, its bots), or none (`none` says what none means for the
 * field). A stored id no longer in the list is still shown, so saving does not drop it silently.
 */
function IdPicker({
  value,
  onChange,
  options,
  label,
  none,
  hint,
}: {
  value: string | null;
  onChange: (next: string | null) => void;
  options: readonly { id: string; text: string }[];
  label: string;
  none: string;
  hint?: string | null;
}) {
  const id = useId();
  const known = value === null || options.some((option) => option.id === value);
  return (
    <div>
      <label htmlFor={id} className="visually-hidden">
        {label}
      </label>
      <select id={id} value={value ?? ''} onChange={(event) => onChange(event.target.value || null)}>
        <option value="">{none}</option>
        {options.map((option) => (
          <option key={option.id} value={option.id}>
            {option.text}
          </option>
        ))}
        {known ? null : <option value={value ?? ''}>{value}</option>}
      </select>
      {hint ? <p className="field-hint">{hint}</p> : null}
    </div>
  );
}
