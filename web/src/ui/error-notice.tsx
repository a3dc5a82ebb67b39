import { readableError } from '../lib/errors';
import { useT } from '../lib/i18n';

/** A failed call, as the user reads it: what happened, the server's reason, the fields concerned. */
export function ErrorNotice({ error, onDismiss }: { error: unknown; onDismiss?: () => void }) {
  const t = useT();
  if (!error) return null;
  const readable = readableError(error, t);
  return (
    <div className="notice notice-error" role="alert">
      <div>
        <strong>{readable.title}</strong>
        {readable.detail ? <div className="notice-detail">{readable.detail}</div> : null}
        {readable.fields.length > 0 ? (
          <ul className="notice-fields">
            {readable.fields.map((field) => (
              <li key={`${field.field}:${field.message}`}>
                <code>{field.field}</code> {field.message}
              </li>
            ))}
          </ul>
        ) : null}
      </div>
      {onDismiss ? (
        <button type="button" className="icon-button" onClick={onDismiss} aria-label={t('common.dismiss')}>
          ×
        </button>
      ) : null}
    </div>
  );
}
