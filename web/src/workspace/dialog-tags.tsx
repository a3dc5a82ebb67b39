import type { Dialog } from '@openlines/contract';
import { type FormEvent, useState } from 'react';
import { client } from '../lib/api';
import { useT } from '../lib/i18n';
import { addTag, TAG_MAX_LENGTH, TAGS_MAX, type TagProblem } from '../lib/tags';
import { ErrorNotice } from '../ui/error-notice';
import { useStore } from './store-context';

/**
 * A dialog's labels (issue 19): shown as chips, added and removed by whoever sees the dialog. The
 * contract's limits are said beside the field and checked before saving; the server checks again.
 */
export function DialogTags({ dialog }: { dialog: Dialog }) {
  const t = useT();
  const store = useStore();
  const [draft, setDraft] = useState('');
  const [problem, setProblem] = useState<TagProblem | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function save(tags: readonly string[]) {
    setBusy(true);
    setError(null);
    try {
      store.applyDialog(await client.dialogs.setTags(dialog.id, [...tags]));
      return true;
    } catch (failure) {
      setError(failure);
      return false;
    } finally {
      setBusy(false);
    }
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const next = addTag(dialog.tags, draft);
    setProblem(next.problem);
    if (next.problem) return;
    if (await save(next.tags)) setDraft('');
  }

  const problemText =
    problem === 'tooLong'
      ? t('tags.tooLong', { max: TAG_MAX_LENGTH })
      : problem === 'tooMany'
        ? t('tags.tooMany', { count: TAGS_MAX })
        : problem === 'duplicate'
          ? t('tags.duplicate')
          : problem === 'empty'
            ? t('tags.empty')
            : null;

  return (
    <section className="dialog-tags" aria-label={t('tags.label')}>
      <span className="dialog-tags-label">{t('tags.label')}:</span>
      {dialog.tags.length === 0 ? <span className="muted">{t('tags.none')}</span> : null}
      <ul className="tag-list">
        {dialog.tags.map((tag) => (
          <li key={tag} className="tag">
            <span className="tag-text">{tag}</span>
            <button
              type="button"
              className="icon-button"
              disabled={busy}
              aria-label={t('tags.remove', { tag })}
              onClick={() => void save(dialog.tags.filter((other) => other !== tag))}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      <form className="tag-form" onSubmit={submit} noValidate>
        <label className="visually-hidden" htmlFor={`tag-input-${dialog.id}`}>
          {t('tags.input')}
        </label>
        <input
          id={`tag-input-${dialog.id}`}
          value={draft}
          placeholder={t('tags.input')}
          maxLength={TAG_MAX_LENGTH}
          aria-invalid={problem !== null}
          aria-describedby={`tag-hint-${dialog.id}`}
          onChange={(event) => {
            setDraft(event.target.value);
            setProblem(null);
          }}
        />
        <button type="submit" disabled={busy}>
          {t('tags.add')}
        </button>
        <span
          id={`tag-hint-${dialog.id}`}
          className={problem ? 'tag-hint tag-problem' : 'muted tag-hint'}
          role={problem ? 'alert' : undefined}
        >
          {problemText ?? t('tags.hint', { count: TAGS_MAX, max: TAG_MAX_LENGTH })}
        </span>
      </form>
      <ErrorNotice error={error} onDismiss={() => setError(null)} />
    </section>
  );
}
