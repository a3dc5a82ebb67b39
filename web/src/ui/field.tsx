import type { FieldError } from '@openlines/contract';
import { type ReactNode, useId } from 'react';
import { fieldMessage } from '../lib/errors';
import { useT } from '../lib/i18n';

/**
 * A labelled form control with its hint and the server's messages for it. The control gets its id,
 * `aria-invalid` and `aria-describedby` through the render function.
 */
export function Field({
  label,
  hint,
  errors,
  children,
  inline = false,
}: {
  label: ReactNode;
  hint?: ReactNode;
  errors?: readonly (FieldError | string)[] | undefined;
  inline?: boolean;
  children: (props: {
    id: string;
    'aria-invalid': boolean;
    'aria-describedby': string | undefined;
  }) => ReactNode;
}) {
  const id = useId();
  const t = useT();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const invalid = Boolean(errors && errors.length > 0);
  const describedBy = [hint ? hintId : null, invalid ? errorId : null].filter(Boolean).join(' ') || undefined;
  const control = children({ id, 'aria-invalid': invalid, 'aria-describedby': describedBy });
  return (
    <div className={`field${inline ? ' field-inline' : ''}${invalid ? ' field-invalid' : ''}`}>
      {inline ? (
        <>
          {control}
          <label htmlFor={id}>{label}</label>
        </>
      ) : (
        <>
          <label htmlFor={id}>{label}</label>
          {control}
        </>
      )}
      {hint ? (
        <div className="field-hint" id={hintId}>
          {hint}
        </div>
      ) : null}
      {invalid ? (
        <ul className="field-errors" id={errorId}>
          {errors!.map((error) => {
            const message = fieldMessage(error, t);
            return <li key={message}>{message}</li>;
          })}
        </ul>
      ) : null}
    </div>
  );
}
