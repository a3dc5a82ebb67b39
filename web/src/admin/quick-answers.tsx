import type { QuickAnswer } from '@openlines/contract';
import { type FormEvent, useState } from 'react';
import { client } from '../lib/api';
import { fieldErrorsOf } from '../lib/errors';
import { useT } from '../lib/i18n';
import { ErrorNotice } from '../ui/error-notice';
import { Field } from '../ui/field';
import { useLoad } from './use-load';

/** Shared canned replies (AA-7), found from the message box by typing `/`. */
export function QuickAnswersScreen() {
  const t = useT();
  const [search, setSearch] = useState('');
  const { data, error, reload } = useLoad(() => client.quickAnswers.list(search.trim() || undefined), search);
  const [editing, setEditing] = useState<QuickAnswer | null>(null);
  return (
    <section aria-labelledby="qa-title">
      <h1 id="qa-title">{t('qa.title')}</h1>
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
                onDone={() => {
                  setEditing(null);
                  void reload();
                }}
              />
            </li>
          ) : (
            <li key={answer.id} className="qa-item">
              <div>
                <strong>{answer.title}</strong>
                <p className="qa-text">{answer.text}</p>
              </div>
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
            </li>
          ),
        )}
        {data?.length === 0 ? <li className="muted">{t('qa.none')}</li> : null}
      </ul>
      <h2>{t('qa.create')}</h2>
      <AnswerForm onDone={reload} />
    </section>
  );
}

function AnswerForm({ answer, onDone }: { answer?: QuickAnswer; onDone: () => void }) {
  const t = useT();
  const [title, setTitle] = useState(answer?.title ?? '');
  const [text, setText] = useState(answer?.text ?? '');
  const [error, setError] = useState<unknown>(null);
  const errors = fieldErrorsOf(error);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      if (answer) await client.quickAnswers.update(answer.id, { title, text });
      else await client.quickAnswers.create({ title, text });
      if (!answer) {
        setTitle('');
        setText('');
      }
      onDone();
    } catch (failure) {
      setError(failure);
    }
  }
  return (
    <form className="stack qa-form" onSubmit={submit} noValidate>
      <Field label={t('qa.titleField')} errors={errors.title}>
        {(props) => <input {...props} value={title} onChange={(event) => setTitle(event.target.value)} />}
      </Field>
      <Field label={t('qa.text')} errors={errors.text}>
        {(props) => (
          <textarea {...props} rows={3} value={text} onChange={(event) => setText(event.target.value)} />
        )}
      </Field>
      <ErrorNotice error={error} inline={['title', 'text']} />
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
