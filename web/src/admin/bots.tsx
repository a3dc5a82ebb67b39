import type {
  Bot,
  BotAction,
  BotPreview,
  BotStep,
  BuiltinBotDefinition,
  Department,
  User,
} from '@openlines/contract';
import type { CreatedBot } from '@openlines/sdk';
import { type FormEvent, useState } from 'react';
import { client } from '../lib/api';
import { fieldErrorsOf } from '../lib/errors';
import { useT } from '../lib/i18n';
import { ErrorNotice } from '../ui/error-notice';
import { Field } from '../ui/field';
import { Modal } from '../ui/modal';
import { CopyField } from './channels';
import { useLoad } from './use-load';

// Chatbots (SPEC §7): the account's bots. External bots are registered with a webhook URL and get
// a token and a signing secret (shown once); menu bots are built here, tried in the preview pane,
// and saved as a new version. Lines pick a bot in their Chatbots settings.

type Editing = { kind: 'external'; bot: Bot | null } | { kind: 'builtin'; bot: Bot | null } | null;

export function BotsScreen() {
  const t = useT();
  const { data, error, reload } = useLoad(async () => {
    const [bots, users, departments] = await Promise.all([
      client.bots.list(),
      client.users.list(),
      client.departments.list(),
    ]);
    return { bots, users, departments };
  }, 'bots');
  const [editing, setEditing] = useState<Editing>(null);
  const [secrets, setSecrets] = useState<CreatedBot | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const done = (created?: CreatedBot) => {
    setEditing(null);
    if (created?.secrets) setSecrets(created);
    void reload();
  };
  return (
    <section aria-labelledby="bots-title">
      <h1 id="bots-title">{t('bots.title')}</h1>
      <p className="muted">{t('bots.intro')}</p>
      <ErrorNotice error={error ?? failure} onDismiss={failure ? () => setFailure(null) : undefined} />
      <ul className="qa-list bot-list">
        {data?.bots.map((bot) => (
          <li key={bot.id} className="qa-item">
            <div>
              <strong>{bot.name}</strong>{' '}
              <span className="chip">
                {t(bot.kind === 'external' ? 'bots.kind.external' : 'bots.kind.builtin')}
              </span>
              <p className="muted">
                {bot.kind === 'external'
                  ? `${bot.webhookUrl} · ${t('bots.token')}: ${bot.tokenPrefix}…`
                  : t('bots.versionSteps', {
                      version: bot.version,
                      steps: bot.definition?.steps.length ?? 0,
                    })}
              </p>
            </div>
            <div className="row-buttons">
              <button
                type="button"
                onClick={() => setEditing({ kind: bot.kind, bot })}
                aria-label={t('bots.editNamed', { name: bot.name })}
              >
                {t('common.edit')}
              </button>
              {bot.kind === 'external' ? (
                <button
                  type="button"
                  onClick={() => client.bots.rotateSecrets(bot.id).then(setSecrets, setFailure)}
                >
                  {t('bots.rotate')}
                </button>
              ) : null}
              <button
                type="button"
                className="danger-outline"
                aria-label={t('bots.deleteNamed', { name: bot.name })}
                onClick={() => client.bots.delete(bot.id).then(reload, setFailure)}
              >
                {t('common.delete')}
              </button>
            </div>
          </li>
        ))}
        {data?.bots.length === 0 ? <li className="muted">{t('bots.none')}</li> : null}
      </ul>
      <div className="row-buttons">
        <button type="button" className="primary" onClick={() => setEditing({ kind: 'builtin', bot: null })}>
          {t('bots.newBuiltin')}
        </button>
        <button type="button" onClick={() => setEditing({ kind: 'external', bot: null })}>
          {t('bots.newExternal')}
        </button>
      </div>
      {editing?.kind === 'external' ? (
        <Modal
          title={editing.bot ? editing.bot.name : t('bots.newExternal')}
          onClose={() => setEditing(null)}
        >
          <ExternalBotForm bot={editing.bot} onDone={done} />
        </Modal>
      ) : null}
      {editing?.kind === 'builtin' && data ? (
        <MenuBotEditor bot={editing.bot} users={data.users} departments={data.departments} onDone={done} />
      ) : null}
      {secrets?.secrets ? (
        <Modal
          title={t('bots.secretsTitle', { name: secrets.bot.name })}
          onClose={() => setSecrets(null)}
          wide
        >
          <p className="notice notice-warn">{t('bots.secretsOnce')}</p>
          <CopyField label={t('bots.token')} value={secrets.secrets.token} />
          <CopyField label={t('bots.webhookSecret')} value={secrets.secrets.webhookSecret} />
          <CopyField label={t('bots.apiUrl')} value={`${window.location.origin}/api/v1/bot-api`} />
          <div className="modal-buttons">
            <button type="button" className="primary" onClick={() => setSecrets(null)}>
              {t('channels.secretsDone')}
            </button>
          </div>
        </Modal>
      ) : null}
    </section>
  );
}

function ExternalBotForm({ bot, onDone }: { bot: Bot | null; onDone: (created?: CreatedBot) => void }) {
  const t = useT();
  const [name, setName] = useState(bot?.name ?? '');
  const [avatarUrl, setAvatarUrl] = useState(bot?.avatarUrl ?? '');
  const [webhookUrl, setWebhookUrl] = useState(bot?.webhookUrl ?? '');
  const [error, setError] = useState<unknown>(null);
  const errors = fieldErrorsOf(error);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      const avatar = avatarUrl.trim() || null;
      if (bot) {
        await client.bots.update(bot.id, { name, avatarUrl: avatar, webhookUrl });
        onDone();
      } else {
        onDone(await client.bots.create({ kind: 'external', name, avatarUrl: avatar, webhookUrl }));
      }
    } catch (failure) {
      setError(failure);
    }
  }
  return (
    <form className="stack" onSubmit={submit} noValidate>
      <Field label={t('common.name')} errors={errors.name}>
        {(props) => <input {...props} value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
      <Field label={t('bots.webhookUrl')} hint={t('bots.webhookHint')} errors={errors.webhookUrl}>
        {(props) => (
          <input {...props} type="url" value={webhookUrl} onChange={(e) => setWebhookUrl(e.target.value)} />
        )}
      </Field>
      <Field label={t('bots.avatarUrl')} errors={errors.avatarUrl}>
        {(props) => (
          <input {...props} type="url" value={avatarUrl} onChange={(e) => setAvatarUrl(e.target.value)} />
        )}
      </Field>
      <ErrorNotice error={error} inline={['name', 'webhookUrl', 'avatarUrl']} />
      <div className="modal-buttons">
        <button type="submit" className="primary">
          {bot ? t('common.save') : t('bots.register')}
        </button>
      </div>
    </form>
  );
}

const ACTION_TYPES: BotAction['type'][] = [
  'step',
  'answer',
  'queue',
  'operator',
  'department',
  'contact_form',
];

function starter(t: ReturnType<typeof useT>): BuiltinBotDefinition {
  return {
    steps: [{ id: 'start', text: t('bots.starterGreeting'), options: [] }],
    fallbackText: t('bots.starterFallback'),
    handOverAfterMisses: 2,
  };
}

function defaultAction(
  type: BotAction['type'],
  steps: BotStep[],
  users: User[],
  departments: Department[],
): BotAction {
  switch (type) {
    case 'step':
      return { type, step: steps[0]?.id ?? 'start' };
    case 'answer':
      return { type, text: '' };
    case 'operator':
      return { type, userId: users[0]?.id ?? '' };
    case 'department':
      return { type, departmentId: departments[0]?.id ?? '' };
    default:
      return { type };
  }
}

/** The no-code bot (BOT-3): steps with a text and options (buttons and keywords), and a preview. */
function MenuBotEditor({
  bot,
  users,
  departments,
  onDone,
}: {
  bot: Bot | null;
  users: User[];
  departments: Department[];
  onDone: () => void;
}) {
  const t = useT();
  const [name, setName] = useState(bot?.name ?? '');
  const [definition, setDefinition] = useState<BuiltinBotDefinition>(bot?.definition ?? starter(t));
  const [error, setError] = useState<unknown>(null);
  const errors = fieldErrorsOf(error);
  const defErrors = (path: string) => errors[`definition.${path}`];
  const setStep = (index: number, step: BotStep) =>
    setDefinition({ ...definition, steps: definition.steps.map((s, i) => (i === index ? step : s)) });
  async function save() {
    setError(null);
    try {
      if (bot) await client.bots.update(bot.id, { name, definition });
      else await client.bots.create({ kind: 'builtin', name, definition });
      onDone();
    } catch (failure) {
      setError(failure);
    }
  }
  return (
    <Modal title={bot ? bot.name : t('bots.newBuiltin')} onClose={onDone} wide>
      <div className="bot-editor">
        <div className="bot-steps stack">
          <Field label={t('common.name')} errors={errors.name}>
            {(props) => <input {...props} value={name} onChange={(e) => setName(e.target.value)} />}
          </Field>
          {definition.steps.map((step, index) => (
            <fieldset key={index.toString()} className="settings-group bot-step" data-step={step.id}>
              <legend>
                {t('bots.step', { n: index + 1 })}
                {index === 0 ? ` · ${t('bots.startStep')}` : ''}
              </legend>
              <Field label={t('bots.stepId')} errors={defErrors(`steps.${index}.id`)}>
                {(props) => (
                  <input
                    {...props}
                    value={step.id}
                    onChange={(e) => setStep(index, { ...step, id: e.target.value })}
                  />
                )}
              </Field>
              <Field label={t('bots.stepText')} errors={defErrors(`steps.${index}.text`)}>
                {(props) => (
                  <textarea
                    {...props}
                    rows={2}
                    value={step.text}
                    onChange={(e) => setStep(index, { ...step, text: e.target.value })}
                  />
                )}
              </Field>
              {step.options.map((option, optionIndex) => {
                const at = `steps.${index}.options.${optionIndex}`;
                const setOption = (next: typeof option) =>
                  setStep(index, {
                    ...step,
                    options: step.options.map((o, i) => (i === optionIndex ? next : o)),
                  });
                const action = option.action;
                return (
                  <div key={optionIndex.toString()} className="bot-option">
                    <Field label={t('bots.button')} errors={defErrors(`${at}.title`)}>
                      {(props) => (
                        <input
                          {...props}
                          value={option.title}
                          onChange={(e) => setOption({ ...option, title: e.target.value })}
                        />
                      )}
                    </Field>
                    <Field label={t('bots.keywords')} hint={t('bots.keywordsHint')}>
                      {(props) => (
                        <input
                          {...props}
                          value={option.keywords.join(', ')}
                          onChange={(e) =>
                            setOption({
                              ...option,
                              keywords: e.target.value
                                .split(',')
                                .map((k) => k.trimStart())
                                .filter((k, i, all) => k !== '' || i === all.length - 1),
                            })
                          }
                        />
                      )}
                    </Field>
                    <Field label={t('bots.action')}>
                      {(props) => (
                        <select
                          {...props}
                          value={action.type}
                          onChange={(e) =>
                            setOption({
                              ...option,
                              action: defaultAction(
                                e.target.value as BotAction['type'],
                                definition.steps,
                                users,
                                departments,
                              ),
                            })
                          }
                        >
                          {ACTION_TYPES.map((type) => (
                            <option key={type} value={type}>
                              {t(`bots.action.${type}`)}
                            </option>
                          ))}
                        </select>
                      )}
                    </Field>
                    {action.type === 'step' ? (
                      <Field label={t('bots.action.step')} errors={defErrors(`${at}.action.step`)}>
                        {(props) => (
                          <select
                            {...props}
                            value={action.step}
                            onChange={(e) =>
                              setOption({ ...option, action: { type: 'step', step: e.target.value } })
                            }
                          >
                            {definition.steps.map((s) => (
                              <option key={s.id} value={s.id}>
                                {s.id}
                              </option>
                            ))}
                          </select>
                        )}
                      </Field>
                    ) : action.type === 'answer' ? (
                      <Field label={t('bots.answerText')} errors={defErrors(`${at}.action.text`)}>
                        {(props) => (
                          <textarea
                            {...props}
                            rows={2}
                            value={action.text}
                            onChange={(e) =>
                              setOption({ ...option, action: { type: 'answer', text: e.target.value } })
                            }
                          />
                        )}
                      </Field>
                    ) : action.type === 'operator' ? (
                      <Field label={t('bots.action.operator')}>
                        {(props) => (
                          <select
                            {...props}
                            value={action.userId}
                            onChange={(e) =>
                              setOption({ ...option, action: { type: 'operator', userId: e.target.value } })
                            }
                          >
                            {users
                              .filter((u) => u.active)
                              .map((u) => (
                                <option key={u.id} value={u.id}>
                                  {u.name}
                                </option>
                              ))}
                          </select>
                        )}
                      </Field>
                    ) : action.type === 'department' ? (
                      <Field label={t('bots.action.department')}>
                        {(props) => (
                          <select
                            {...props}
                            value={action.departmentId}
                            onChange={(e) =>
                              setOption({
                                ...option,
                                action: { type: 'department', departmentId: e.target.value },
                              })
                            }
                          >
                            {departments.map((d) => (
                              <option key={d.id} value={d.id}>
                                {d.name}
                              </option>
                            ))}
                          </select>
                        )}
                      </Field>
                    ) : null}
                    <button
                      type="button"
                      className="link-button"
                      onClick={() =>
                        setStep(index, { ...step, options: step.options.filter((_, i) => i !== optionIndex) })
                      }
                    >
                      {t('bots.removeButton')}
                    </button>
                  </div>
                );
              })}
              <div className="row-buttons">
                <button
                  type="button"
                  onClick={() =>
                    setStep(index, {
                      ...step,
                      options: [...step.options, { title: '', keywords: [], action: { type: 'queue' } }],
                    })
                  }
                >
                  + {t('bots.addButton')}
                </button>
                {index > 0 ? (
                  <button
                    type="button"
                    className="danger-outline"
                    onClick={() =>
                      setDefinition({ ...definition, steps: definition.steps.filter((_, i) => i !== index) })
                    }
                  >
                    {t('bots.removeStep')}
                  </button>
                ) : null}
              </div>
            </fieldset>
          ))}
          <button
            type="button"
            onClick={() =>
              setDefinition({
                ...definition,
                steps: [
                  ...definition.steps,
                  { id: `step${definition.steps.length + 1}`, text: '', options: [] },
                ],
              })
            }
          >
            + {t('bots.addStep')}
          </button>
          <Field label={t('bots.fallback')} hint={t('bots.fallbackHint')} errors={defErrors('fallbackText')}>
            {(props) => (
              <textarea
                {...props}
                rows={2}
                value={definition.fallbackText}
                onChange={(e) => setDefinition({ ...definition, fallbackText: e.target.value })}
              />
            )}
          </Field>
          <Field
            label={t('bots.misses')}
            hint={t('bots.missesHint')}
            errors={defErrors('handOverAfterMisses')}
          >
            {(props) => (
              <input
                {...props}
                type="number"
                min={0}
                max={10}
                value={definition.handOverAfterMisses}
                onChange={(e) =>
                  setDefinition({ ...definition, handOverAfterMisses: Number(e.target.value) })
                }
              />
            )}
          </Field>
          <ErrorNotice error={error} inline={['name', 'definition.']} />
          <div className="modal-buttons">
            <button type="button" className="primary" onClick={save}>
              {bot ? t('bots.saveVersion') : t('bots.create')}
            </button>
          </div>
        </div>
        <BotPreviewPane definition={definition} />
      </div>
    </Modal>
  );
}

/** Try the bot before saving: the same rules the server runs, on the unsaved definition. */
function BotPreviewPane({ definition }: { definition: BuiltinBotDefinition }) {
  const t = useT();
  const [messages, setMessages] = useState<string[]>([]);
  const [draft, setDraft] = useState('');
  const [preview, setPreview] = useState<BotPreview | null>(null);
  const [error, setError] = useState<unknown>(null);
  async function run(next: string[]) {
    setError(null);
    try {
      setPreview(await client.bots.preview(definition, next));
      setMessages(next);
    } catch (failure) {
      setError(failure);
    }
  }
  const ended = preview?.handedOver != null;
  return (
    <aside className="bot-preview" aria-label={t('bots.preview')}>
      <h2>{t('bots.preview')}</h2>
      <div className="row-buttons">
        <button type="button" onClick={() => run([])}>
          {preview ? t('bots.restart') : t('bots.tryIt')}
        </button>
      </div>
      <ol className="preview-turns">
        {preview?.turns.map((turn, index) => (
          <li key={index.toString()} className={`preview-turn preview-${turn.author}`}>
            <span>{turn.text}</span>
            {turn.buttons.length > 0 && index === preview.turns.length - 1 && !ended ? (
              <span className="preview-buttons">
                {turn.buttons.map((title) => (
                  <button key={title} type="button" onClick={() => run([...messages, title])}>
                    {title}
                  </button>
                ))}
              </span>
            ) : null}
          </li>
        ))}
      </ol>
      {ended ? (
        <p className="notice notice-info">{handedOverText(preview?.handedOver ?? null, t)}</p>
      ) : preview ? (
        <form
          className="add-row"
          onSubmit={(event) => {
            event.preventDefault();
            if (draft.trim()) void run([...messages, draft.trim()]).then(() => setDraft(''));
          }}
        >
          <label className="visually-hidden" htmlFor="bot-preview-input">
            {t('bots.previewInput')}
          </label>
          <input
            id="bot-preview-input"
            value={draft}
            placeholder={t('bots.previewInput')}
            onChange={(e) => setDraft(e.target.value)}
          />
          <button type="submit">{t('bots.previewSend')}</button>
        </form>
      ) : null}
      <ErrorNotice error={error} />
    </aside>
  );
}

function handedOverText(how: string | null, t: ReturnType<typeof useT>): string {
  const key = `bots.handedOver.${how}`;
  return t.has(key) ? t(key) : t('bots.handedOver.queue');
}
