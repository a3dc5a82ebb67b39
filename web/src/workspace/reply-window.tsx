import type { ChannelKind, ChannelTemplate, Dialog, MessageTemplateRef } from '@openlines/contract';
import { useEffect, useId, useState } from 'react';
import { client } from '../lib/api';
import { useT } from '../lib/i18n';
import { renderTemplate } from '../lib/reply-window';
import { ErrorNotice } from '../ui/error-notice';
import type { WorkspaceState } from './store';
import { useWorkspace } from './store-context';

// A channel with a reply window (WhatsApp: free-form replies only within 24 hours of the client's
// last message, ChannelKind.replyWindowHours): the composer says so before the operator writes,
// and offers the channel's approved templates (ChannelKind.templates) with their parameters.

let kindsOnce: Promise<ChannelKind[]> | null = null;
function channelKinds(): Promise<ChannelKind[]> {
  kindsOnce ??= client.channels.kinds().catch((error: unknown) => {
    kindsOnce = null;
    throw error;
  });
  return kindsOnce;
}

/** The kind of a dialog's channel, once known. */
export function useChannelKind(kind: string): ChannelKind | undefined {
  const [found, setFound] = useState<ChannelKind | undefined>(undefined);
  useEffect(() => {
    let live = true;
    channelKinds()
      .then((kinds) => {
        if (live) setFound(kinds.find((k) => k.kind === kind));
      })
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [kind]);
  return found;
}

/** When the client last wrote, from the loaded history; null when no client message is loaded. */
export function useLastClientMessageAt(dialogId: string): string | null {
  return useWorkspace((state: WorkspaceState) => {
    const messages = state.history[dialogId]?.messages ?? [];
    for (let i = messages.length - 1; i >= 0; i--) {
      if (messages[i]!.authorKind === 'client') return messages[i]!.createdAt;
    }
    return null;
  });
}

export function TemplatePicker({
  dialog,
  onSend,
}: {
  dialog: Dialog;
  onSend: (text: string, template: MessageTemplateRef) => Promise<void>;
}) {
  const t = useT();
  const id = useId();
  const [templates, setTemplates] = useState<ChannelTemplate[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [chosen, setChosen] = useState(0);
  const [parameters, setParameters] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    let live = true;
    client.channels
      .templates(dialog.channelId)
      .then((list) => live && setTemplates(list))
      .catch((failure: unknown) => live && setError(failure));
    return () => {
      live = false;
    };
  }, [dialog.channelId]);
  const template = templates?.[chosen];
  const filled = template
    ? Array.from({ length: template.parameterCount }, (_, i) => parameters[i] ?? '')
    : [];
  const ready = template !== undefined && filled.every((value) => value.trim());
  return (
    <div className="template-picker">
      <ErrorNotice error={error} onDismiss={() => setError(null)} />
      {templates && templates.length === 0 ? <p className="muted">{t('composer.noTemplates')}</p> : null}
      {templates && templates.length > 0 ? (
        <>
          <label htmlFor={`${id}-template`}>{t('composer.template')}</label>
          <select
            id={`${id}-template`}
            value={chosen}
            onChange={(event) => {
              setChosen(Number(event.target.value));
              setParameters([]);
            }}
          >
            {templates.map((item, index) => (
              <option key={`${item.name}:${item.language}`} value={index}>
                {item.name} ({item.language})
              </option>
            ))}
          </select>
          {filled.map((value, index) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: a parameter is its position ({{1}}, {{2}})
            <label key={`${template?.name}-${index}`} className="template-parameter">
              {t('composer.templateParameter', { n: String(index + 1) })}
              <input
                value={value}
                maxLength={1024}
                onChange={(event) => {
                  const next = [...filled];
                  next[index] = event.target.value;
                  setParameters(next);
                }}
              />
            </label>
          ))}
          {template ? <p className="template-preview">{renderTemplate(template.body, filled)}</p> : null}
          <button
            type="button"
            className="primary"
            disabled={!ready || busy}
            onClick={() => {
              if (!template) return;
              setBusy(true);
              const values = filled.map((value) => value.trim());
              onSend(renderTemplate(template.body, values), {
                name: template.name,
                language: template.language,
                parameters: values,
              })
                .then(() => setParameters([]))
                .catch((failure: unknown) => setError(failure))
                .finally(() => setBusy(false));
            }}
          >
            {t('composer.sendTemplate')}
          </button>
        </>
      ) : null}
    </div>
  );
}
