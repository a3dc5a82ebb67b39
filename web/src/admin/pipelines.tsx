import type { CrmPipeline } from '@openlines/contract';
import { type FormEvent, useState } from 'react';
import { useT } from '../lib/i18n';
import { ErrorNotice } from '../ui/error-notice';
import { crmApi } from '../workspace/crm-card';
import { useLoad } from './use-load';

type Semantics = CrmPipeline['stages'][number]['semantics'];
interface StageDraft {
  key: string;
  id?: string;
  name: string;
  semantics: Semantics;
}

let drafts = 0;
const draftOf = (pipeline: CrmPipeline | null): StageDraft[] =>
  pipeline
    ? pipeline.stages.map((s) => ({ key: s.id, id: s.id, name: s.name, semantics: s.semantics }))
    : [{ key: `new-${++drafts}`, name: '', semantics: 'open' }];

/** CRM pipelines and their ordered stages (CRM-1): renamed, reordered, added and removed by admins. */
export function PipelinesScreen() {
  const t = useT();
  const { data, error, reload } = useLoad(() => crmApi.pipelines(), 'pipelines');
  const [adding, setAdding] = useState(false);
  return (
    <section aria-labelledby="pipelines-title">
      <h1 id="pipelines-title">{t('crm.pipelines')}</h1>
      <ErrorNotice error={error} />
      {data?.map((pipeline) => (
        <PipelineForm key={pipeline.id} pipeline={pipeline} onSaved={reload} />
      ))}
      {adding ? (
        <PipelineForm
          pipeline={null}
          onSaved={async () => {
            setAdding(false);
            await reload();
          }}
        />
      ) : (
        <button type="button" onClick={() => setAdding(true)}>
          {t('crm.addPipeline')}
        </button>
      )}
    </section>
  );
}

function PipelineForm({
  pipeline,
  onSaved,
}: {
  pipeline: CrmPipeline | null;
  onSaved: () => Promise<unknown>;
}) {
  const t = useT();
  const [name, setName] = useState(pipeline?.name ?? '');
  const [stages, setStages] = useState<StageDraft[]>(() => draftOf(pipeline));
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const formId = pipeline?.id ?? 'new';
  const change = (index: number, patch: Partial<StageDraft>) =>
    setStages((list) => list.map((stage, i) => (i === index ? { ...stage, ...patch } : stage)));
  const move = (index: number, by: number) =>
    setStages((list) => {
      const next = [...list];
      const [stage] = next.splice(index, 1);
      next.splice(index + by, 0, stage!);
      return next;
    });
  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setSaved(false);
    const body = {
      name: name.trim(),
      stages: stages.map((s) => ({
        ...(s.id ? { id: s.id } : {}),
        name: s.name.trim(),
        semantics: s.semantics,
      })),
    };
    try {
      if (pipeline) await crmApi.updatePipeline(pipeline.id, body);
      else await crmApi.createPipeline(body);
      setSaved(true);
      await onSaved();
    } catch (failure) {
      setError(failure);
    }
  }
  return (
    <form
      className="stack settings-group"
      onSubmit={submit}
      aria-label={pipeline?.name ?? t('crm.addPipeline')}
    >
      <label htmlFor={`pipeline-name-${formId}`}>{t('crm.pipeline')}</label>
      <input
        id={`pipeline-name-${formId}`}
        value={name}
        onChange={(e) => setName(e.target.value)}
        required
        maxLength={100}
      />
      {pipeline?.isDefault ? <span className="chip">{t('crm.defaultPipeline')}</span> : null}
      <table className="table">
        <thead>
          <tr>
            <th>{t('crm.stage')}</th>
            <th>{t('crm.semantics')}</th>
            <th>{t('common.actions')}</th>
          </tr>
        </thead>
        <tbody>
          {stages.map((stage, index) => (
            <tr key={stage.key}>
              <td>
                <input
                  aria-label={t('crm.stageNumber', { number: index + 1 })}
                  value={stage.name}
                  onChange={(e) => change(index, { name: e.target.value })}
                  required
                  maxLength={100}
                />
              </td>
              <td>
                <select
                  aria-label={t('crm.semanticsOf', { number: index + 1 })}
                  value={stage.semantics}
                  onChange={(e) => change(index, { semantics: e.target.value as Semantics })}
                >
                  <option value="open">{t('crm.semantics.open')}</option>
                  <option value="won">{t('crm.semantics.won')}</option>
                  <option value="lost">{t('crm.semantics.lost')}</option>
                </select>
              </td>
              <td className="row-buttons">
                <button
                  type="button"
                  disabled={index === 0}
                  onClick={() => move(index, -1)}
                  aria-label={t('crm.up', { number: index + 1 })}
                >
                  ↑
                </button>
                <button
                  type="button"
                  disabled={index === stages.length - 1}
                  onClick={() => move(index, 1)}
                  aria-label={t('crm.down', { number: index + 1 })}
                >
                  ↓
                </button>
                <button
                  type="button"
                  disabled={stages.length === 1}
                  onClick={() => setStages((list) => list.filter((_, i) => i !== index))}
                >
                  {t('common.remove')}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ErrorNotice error={error} onDismiss={() => setError(null)} />
      <div className="row-buttons">
        <button
          type="button"
          onClick={() =>
            setStages((list) => [...list, { key: `new-${++drafts}`, name: '', semantics: 'open' }])
          }
        >
          {t('crm.addStage')}
        </button>
        <button type="submit" className="primary">
          {t('common.save')}
        </button>
        {saved ? (
          <span role="status" className="saved">
            {t('common.saved')}
          </span>
        ) : null}
      </div>
    </form>
  );
}
