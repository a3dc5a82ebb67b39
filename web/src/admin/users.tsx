import type { Department, Me, Role, User } from '@openlines/contract';
import { type FormEvent, useId, useState } from 'react';
import { client } from '../lib/api';
import { fieldErrorsOf } from '../lib/errors';
import { formatDateTime } from '../lib/format';
import { useT } from '../lib/i18n';
import { ClientProfileFields } from '../ui/client-profile-fields';
import { ErrorNotice } from '../ui/error-notice';
import { Field } from '../ui/field';
import { Modal } from '../ui/modal';
import { roleName } from './roles';
import { useLoad } from './use-load';

/** Users (AR-1): create, assign roles and departments, deactivate, absence periods. */
export function UsersScreen({ me }: { me: Me }) {
  const t = useT();
  const { data, error, reload } = useLoad(async () => {
    const [users, roles, departments] = await Promise.all([
      client.users.list(),
      client.roles.list(),
      client.departments.list(),
    ]);
    return { users, roles, departments };
  });
  const [creating, setCreating] = useState(false);
  const [absencesOf, setAbsencesOf] = useState<User | null>(null);
  const [editing, setEditing] = useState<User | null>(null);
  return (
    <section aria-labelledby="users-title">
      <div className="screen-head">
        <h1 id="users-title">{t('users.title')}</h1>
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          {t('users.create')}
        </button>
      </div>
      <ErrorNotice error={error} />
      {data ? (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t('common.name')}</th>
              <th scope="col">{t('users.email')}</th>
              <th scope="col">{t('users.role')}</th>
              <th scope="col">{t('users.departments')}</th>
              <th scope="col">{t('users.status')}</th>
              <th scope="col">
                <span className="visually-hidden">{t('common.actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.users.map((user) => (
              <UserRow
                key={user.id}
                user={user}
                roles={data.roles}
                departments={data.departments}
                isMe={user.id === me.user.id}
                onChanged={reload}
                onAbsences={() => setAbsencesOf(user)}
                onEdit={() => setEditing(user)}
              />
            ))}
          </tbody>
        </table>
      ) : null}
      {creating && data ? (
        <UserForm
          roles={data.roles}
          departments={data.departments}
          onClose={() => setCreating(false)}
          onSaved={() => {
            setCreating(false);
            void reload();
          }}
        />
      ) : null}
      {editing && data ? (
        <UserForm
          user={editing}
          roles={data.roles}
          departments={data.departments}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            void reload();
          }}
        />
      ) : null}
      {absencesOf ? <AbsencesModal user={absencesOf} onClose={() => setAbsencesOf(null)} /> : null}
    </section>
  );
}

function UserRow({
  user,
  roles,
  departments,
  isMe,
  onChanged,
  onAbsences,
  onEdit,
}: {
  user: User;
  roles: Role[];
  departments: Department[];
  isMe: boolean;
  onChanged: () => void;
  onAbsences: () => void;
  onEdit: () => void;
}) {
  const t = useT();
  const [error, setError] = useState<unknown>(null);
  const roleSelect = useId();
  const update = async (input: Parameters<typeof client.users.update>[1]) => {
    setError(null);
    try {
      await client.users.update(user.id, input);
      onChanged();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <tr className={user.active ? undefined : 'inactive'}>
      <td>
        {user.name}
        {isMe ? <span className="muted"> ({t('users.you')})</span> : null}
      </td>
      <td>{user.email}</td>
      <td>
        <label htmlFor={roleSelect} className="visually-hidden">
          {t('users.roleOf', { name: user.name })}
        </label>
        <select
          id={roleSelect}
          value={user.roleId}
          onChange={(event) => update({ roleId: event.target.value })}
        >
          {roles.map((role) => (
            <option key={role.id} value={role.id}>
              {roleName(role, t)}
            </option>
          ))}
        </select>
      </td>
      <td>
        {user.departmentIds
          .map((id) => departments.find((d) => d.id === id)?.name ?? id.slice(0, 8))
          .join(', ') || '—'}
      </td>
      <td>
        {user.active ? (
          <span className="presence-inline">
            <span className={`dot dot-${user.presence}`} aria-hidden="true" />{' '}
            {t(`presence.${user.presence}`)}
          </span>
        ) : (
          <span className="status status-closed">{t('users.deactivated')}</span>
        )}
      </td>
      <td className="row-buttons">
        <button type="button" onClick={onEdit}>
          {t('common.edit')}
        </button>
        <button type="button" onClick={onAbsences}>
          {t('users.absences')}
        </button>
        {!isMe ? (
          <button
            type="button"
            className={user.active ? 'danger-outline' : undefined}
            onClick={() => update({ active: !user.active })}
          >
            {user.active ? t('users.deactivate') : t('users.reactivate')}
          </button>
        ) : null}
        <ErrorNotice error={error} onDismiss={() => setError(null)} />
      </td>
    </tr>
  );
}

function UserForm({
  user,
  roles,
  departments,
  onClose,
  onSaved,
}: {
  user?: User;
  roles: Role[];
  departments: Department[];
  onClose: () => void;
  onSaved: () => void;
}) {
  const t = useT();
  const [email, setEmail] = useState(user?.email ?? '');
  const [name, setName] = useState(user?.name ?? '');
  const [password, setPassword] = useState('');
  const [roleId, setRoleId] = useState(
    user?.roleId ?? roles.find((r) => r.builtIn === 'operator')?.id ?? roles[0]?.id ?? '',
  );
  const [departmentIds, setDepartmentIds] = useState<string[]>(user?.departmentIds ?? []);
  const [clientName, setClientName] = useState(user?.clientName ?? '');
  const [clientAvatarUrl, setClientAvatarUrl] = useState(user?.clientAvatarUrl ?? '');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const errors = fieldErrorsOf(error);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (user)
        await client.users.update(user.id, {
          name,
          roleId,
          departmentIds,
          clientName: clientName.trim() || null,
          clientAvatarUrl: clientAvatarUrl.trim() || null,
        });
      else await client.users.create({ email: email.trim(), name, password, roleId, departmentIds });
      onSaved();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal title={user ? t('users.editTitle', { name: user.name }) : t('users.create')} onClose={onClose}>
      <form onSubmit={submit} noValidate className="stack">
        {!user ? (
          <Field label={t('users.email')} errors={errors.email}>
            {(props) => (
              <input
                {...props}
                type="email"
                value={email}
                onChange={(event) => setEmail(event.target.value)}
              />
            )}
          </Field>
        ) : null}
        <Field label={t('common.name')} errors={errors.name}>
          {(props) => <input {...props} value={name} onChange={(event) => setName(event.target.value)} />}
        </Field>
        {!user ? (
          <Field label={t('users.password')} hint={t('users.passwordHint')} errors={errors.password}>
            {(props) => (
              <input
                {...props}
                type="password"
                autoComplete="new-password"
                value={password}
                onChange={(event) => setPassword(event.target.value)}
              />
            )}
          </Field>
        ) : null}
        <Field label={t('users.role')} errors={errors.roleId}>
          {(props) => (
            <select {...props} value={roleId} onChange={(event) => setRoleId(event.target.value)}>
              {roles.map((role) => (
                <option key={role.id} value={role.id}>
                  {roleName(role, t)}
                </option>
              ))}
            </select>
          )}
        </Field>
        {departments.length > 0 ? (
          <fieldset className="settings-group settings-inline">
            <legend>{t('users.departments')}</legend>
            {departments.map((department) => (
              <label key={department.id} className="checkbox">
                <input
                  type="checkbox"
                  checked={departmentIds.includes(department.id)}
                  onChange={(event) =>
                    setDepartmentIds(
                      event.target.checked
                        ? [...departmentIds, department.id]
                        : departmentIds.filter((id) => id !== department.id),
                    )
                  }
                />
                {department.name}
              </label>
            ))}
          </fieldset>
        ) : null}
        {user ? (
          <ClientProfileFields
            profileName={name.trim() || user.name}
            name={clientName}
            avatarUrl={clientAvatarUrl}
            onName={setClientName}
            onAvatarUrl={setClientAvatarUrl}
            errors={errors}
          />
        ) : null}
        <ErrorNotice
          error={error}
          inline={['email', 'name', 'password', 'roleId', 'clientName', 'clientAvatarUrl']}
        />
        <div className="modal-buttons">
          <button type="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {user ? t('common.save') : t('users.createButton')}
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** Local date-time input value → ISO timestamp. */
function localToIso(value: string): string {
  return value ? new Date(value).toISOString() : '';
}

function AbsencesModal({ user, onClose }: { user: User; onClose: () => void }) {
  const t = useT();
  const { data, error, reload } = useLoad(() => client.users.listAbsences(user.id), user.id);
  const [startsAt, setStartsAt] = useState('');
  const [endsAt, setEndsAt] = useState('');
  const [reason, setReason] = useState('');
  const [saveError, setSaveError] = useState<unknown>(null);
  const errors = fieldErrorsOf(saveError);
  return (
    <Modal title={t('users.absencesOf', { name: user.name })} onClose={onClose} wide>
      <ErrorNotice error={error} />
      <ul className="pick-list">
        {data?.map((absence) => (
          <li key={absence.id}>
            <span>
              {formatDateTime(absence.startsAt, t.locale)} — {formatDateTime(absence.endsAt, t.locale)}
              {absence.reason ? <span className="muted"> · {absence.reason}</span> : null}
            </span>
            <button
              type="button"
              onClick={() => client.users.deleteAbsence(user.id, absence.id).then(reload, setSaveError)}
            >
              {t('common.remove')}
            </button>
          </li>
        ))}
        {data?.length === 0 ? <li className="muted">{t('users.noAbsences')}</li> : null}
      </ul>
      <form
        className="stack"
        noValidate
        onSubmit={async (event) => {
          event.preventDefault();
          setSaveError(null);
          try {
            await client.users.createAbsence(user.id, {
              startsAt: localToIso(startsAt),
              endsAt: localToIso(endsAt),
              ...(reason.trim() ? { reason: reason.trim() } : {}),
            });
            setStartsAt('');
            setEndsAt('');
            setReason('');
            await reload();
          } catch (failure) {
            setSaveError(failure);
          }
        }}
      >
        <h3>{t('users.addAbsence')}</h3>
        <div className="row">
          <Field label={t('users.absenceFrom')} errors={errors.startsAt}>
            {(props) => (
              <input
                {...props}
                type="datetime-local"
                value={startsAt}
                onChange={(event) => setStartsAt(event.target.value)}
              />
            )}
          </Field>
          <Field label={t('users.absenceTo')} errors={errors.endsAt}>
            {(props) => (
              <input
                {...props}
                type="datetime-local"
                value={endsAt}
                onChange={(event) => setEndsAt(event.target.value)}
              />
            )}
          </Field>
        </div>
        <Field label={t('users.absenceReason')} errors={errors.reason}>
          {(props) => <input {...props} value={reason} onChange={(event) => setReason(event.target.value)} />}
        </Field>
        <ErrorNotice error={saveError} inline={['startsAt', 'endsAt', 'reason']} />
        <button type="submit" className="primary">
          {t('common.add')}
        </button>
      </form>
    </Modal>
  );
}
