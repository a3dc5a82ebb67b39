import { fieldMessage, readableError } from '../lib/errors';
import { useT } from '../lib/i18n';

/**
 * A failed call, as the user reads it: what happened, the server's reason, the fields concerned.
 * `inline` names the fields (without `body.`; `settings.` for all under it) the form already shows
 * next to their controls; they are not repeated here, so each message is said once.
 */
export function ErrorNotice({
  error,
  onDismiss,
  inline = [],
}: {
  error: unknown;
  onDismiss?: () => void;
  inline?: readonly string[];
}) {
  const t = useT();
  if (!error) return null;
  const readable = readableError(error, t);
  const isInline = (field: string) => {
    const name = field.replace(/^body\./, '');
    return inline.some((shown) => (shown.endsWith('.') ? name.startsWith(shown) : name === shown));
  };
  const fields = readable.fields.filter((field) => !isInline(field.field));
  return (
    <div className="notice notice-error" role="alert">
      <div>
        <strong>{readable.title}</strong>
        {readable.detail ? <div className="notice-detail">{readable.detail}</div> : null}
        {fields.length > 0 ? (
          <ul className="notice-fields">
            {fields.map((field) => (
              <li key={`${field.field}:${field.message}`}>
                <code>{field.field}</code> {fieldMessage(field, t)}
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
