import { type Line, type QuickAnswer, QuickAnswerBody } from '@openlines/contract';
import { type FormEvent, useState } from 'react';
import { client } from '../lib/api';
import { fieldErrorsOf } from '../lib/errors';
import { useT } from '../lib/i18n';
import { ErrorNotice } from '../ui/error-notice';
import { Field } from '../ui/field';
import type { WorkspaceState } from '../workspace/store';
import { useWorkspace } from '../workspace/store-context';
import { useLoad } from './use-load';

const TITLE_MAX = QuickAnswerBody.properties.title.maxLength ?? 200;
const TEXT_MAX = QuickAnswerBody.properties.text.maxLength ?? 5000;
const selectLines = (state: WorkspaceState) => state.lines;

/**
 * Canned replies (AA-7), found from the message box by typing `/`: the shared list (edited with
 * manageQuickAnswers, in Administration) and each operator's personal ones (issue 19, the
 * "Quick answers" screen every operator has). Either kind may be kept for one line.
 */
export function QuickAnswersScreen({ canShared }: { canShared: boolean }) {
  const t = useT();
  const [search, setSearch] = useState('');
  const lines = useWorkspace(selectLines);
  const { data, error, reload } = useLoad(() => client.quickAnswers.list(search.trim() || undefined), search);
  const [editing, setEditing] = useState<QuickAnswer | null>(null);
  const lineName = (id: string | null) => (id ? (lines.find((line) => line.id === id)?.name ?? '—') : null);
  return (
    <section aria-labelledby="qa-title">
      <h1 id="qa-title">{t('qa.title')}</h1>
      {canShared ? null : <p className="muted">{t('qa.explainPersonal')}</p>}
      <label className="search-row">
        <span className="visually-hidden">{t('qa.search')}</span>
        <input
          type="search"
          placeholder={t('qa.search')}
          value={search}
          onChange={(event) => setSearch(event.target.value)}
        />
      </label>
      <ErrorNotice error={error} />
      <ul className="qa-list">
        {data?.map((answer) =>
          editing?.id === answer.id ? (
            <li key={answer.id}>
              <AnswerForm
                answer={answer}
                canShared={canShared}
                lines={lines}
                onDone={() => {
                  setEditing(null);
                  void reload();
                }}
              />
            </li>
          ) : (
            <li key={answer.id} className="qa-item" data-personal={answer.personal}>
              <div>
                <strong>{answer.title}</strong>{' '}
                <span className="chip">{t(answer.personal ? 'qa.personalBadge' : 'qa.sharedBadge')}</span>{' '}
                {answer.lineId ? (
                  <span className="chip">{t('qa.lineBadge', { name: lineName(answer.lineId) ?? '' })}</span>
                ) : null}
                <p className="qa-text">{answer.text}</p>
              </div>
              {answer.personal || canShared ? (
                <div className="row-buttons">
                  <button
                    type="button"
                    onClick={() => setEditing(answer)}
                    aria-label={t('qa.editNamed', { title: answer.title })}
                  >
                    {t('common.edit')}
                  </button>
                  <button
                    type="button"
                    className="danger-outline"
                    aria-label={t('qa.deleteNamed', { title: answer.title })}
                    onClick={() => client.quickAnswers.delete(answer.id).then(reload, () => undefined)}
                  >
                    {t('common.delete')}
                  </button>
                </div>
              ) : null}
            </li>
          ),
        )}
        {data?.length === 0 ? <li className="muted">{t('qa.none')}</li> : null}
      </ul>
      <h2>{t('qa.create')}</h2>
      <AnswerForm canShared={canShared} lines={lines} onDone={reload} />
    </section>
  );
}

function AnswerForm({
  answer,
  canShared,
  lines,
  onDone,
}: {
  answer?: QuickAnswer;
  canShared: boolean;
  lines: readonly Line[];
  onDone: () => void;
}) {
  const t = useT();
  const [title, setTitle] = useState(answer?.title ?? '');
  const [text, setText] = useState(answer?.text ?? '');
  const [lineId, setLineId] = useState(answer?.lineId ?? '');
  // Only a manager may add a shared answer; everyone else's are personal.
  const [personal, setPersonal] = useState(!canShared);
  const [error, setError] = useState<unknown>(null);
  const errors = fieldErrorsOf(error);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      if (answer) await client.quickAnswers.update(answer.id, { title, text, lineId: lineId || null });
      else await client.quickAnswers.create({ title, text, personal, lineId: lineId || null });
      if (!answer) {
        setTitle('');
        setText('');
        setLineId('');
      }
      onDone();
    } catch (failure) {
      setError(failure);
    }
  }
  return (
    <form className="stack qa-form" onSubmit={submit} noValidate>
      <Field label={t('qa.titleField')} errors={errors.title}>
        {(props) => (
          <input
            {...props}
            maxLength={TITLE_MAX}
            value={title}
            onChange={(event) => setTitle(event.target.value)}
          />
        )}
      </Field>
      <Field label={t('qa.text')} errors={errors.text}>
        {(props) => (
          <textarea
            {...props}
            rows={3}
            maxLength={TEXT_MAX}
            value={text}
            onChange={(event) => setText(event.target.value)}
          />
        )}
      </Field>
      <Field label={t('qa.line')} errors={errors.lineId}>
        {(props) => (
          <select {...props} value={lineId} onChange={(event) => setLineId(event.target.value)}>
            <option value="">{t('qa.allLines')}</option>
            {lines.map((line) => (
              <option key={line.id} value={line.id}>
                {line.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      {!answer && canShared ? (
        <Field label={t('qa.personal')} inline errors={errors.personal}>
          {(props) => (
            <input
              {...props}
              type="checkbox"
              checked={personal}
              onChange={(event) => setPersonal(event.target.checked)}
            />
          )}
        </Field>
      ) : null}
      <ErrorNotice error={error} inline={['title', 'text', 'lineId', 'personal']} />
      <div className="row-buttons">
        {answer ? (
          <button type="button" onClick={onDone}>
            {t('common.cancel')}
          </button>
        ) : null}
        <button type="submit" className="primary">
          {answer ? t('common.save') : t('qa.createButton')}
        </button>
      </div>
    </form>
  );
}
