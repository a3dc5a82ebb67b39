import {
  BUILT_IN_ROLES,
  type BuiltInRoleKey,
  type Permissions,
  type Role,
  type Scope,
} from '@openlines/contract';
import { type FormEvent, useState } from 'react';
import { client } from '../lib/api';
import { fieldErrorsOf } from '../lib/errors';
import { type Translate, useT } from '../lib/i18n';
import { ErrorNotice } from '../ui/error-notice';
import { Field } from '../ui/field';
import { useLoad } from './use-load';

const FLAGS = [
  'manageLines',
  'manageUsers',
  'manageQuickAnswers',
  'supervise',
  'managePersonalData',
  'manageIntegrations',
] as const satisfies readonly (keyof Permissions)[];
const SCOPES = ['dialogHistory', 'statistics', 'crm'] as const satisfies readonly (keyof Permissions)[];
const SCOPE_VALUES: Scope[] = ['none', 'own', 'department', 'all'];

/**
 * A built-in role under the name it was created with is shown in the reader's language; once an
 * admin renames it, their name is shown as typed.
 */
export function roleName(role: Pick<Role, 'name' | 'builtIn'>, t: Translate): string {
  const builtIn = role.builtIn as BuiltInRoleKey | null;
  if (builtIn && builtIn in BUILT_IN_ROLES && BUILT_IN_ROLES[builtIn].name === role.name) {
    return t(`role.builtIn.${builtIn}`);
  }
  return role.name;
}

/** A new role starts with what the built-in operator role may do. */
const OPERATOR_PERMISSIONS: Permissions = BUILT_IN_ROLES.operator.permissions;

/** Roles and permissions (AR-1..AR-3): what each role may do, for every line of the account. */
export function RolesScreen() {
  const t = useT();
  const { data, error, reload } = useLoad(() => client.roles.list());
  const [name, setName] = useState('');
  const [createError, setCreateError] = useState<unknown>(null);
  async function create(event: FormEvent) {
    event.preventDefault();
    setCreateError(null);
    try {
      await client.roles.create({ name: name.trim(), permissions: OPERATOR_PERMISSIONS });
      setName('');
      await reload();
    } catch (failure) {
      setCreateError(failure);
    }
  }
  return (
    <section aria-labelledby="roles-title">
      <h1 id="roles-title">{t('roles.title')}</h1>
      <p className="muted">{t('roles.explain')}</p>
      <ErrorNotice error={error} />
      <div className="roles">
        {data?.map((role) => (
          <RoleCard key={role.id} role={role} onChanged={reload} />
        ))}
      </div>
      <form className="inline-form" onSubmit={create} noValidate>
        <h2>{t('roles.create')}</h2>
        <Field label={t('common.name')} errors={fieldErrorsOf(createError).name}>
          {(props) => <input {...props} value={name} onChange={(event) => setName(event.target.value)} />}
        </Field>
        <button type="submit" className="primary" disabled={!name.trim()}>
          {t('roles.createButton')}
        </button>
        <ErrorNotice error={createError} inline={['name']} />
      </form>
    </section>
  );
}

function RoleCard({ role, onChanged }: { role: Role; onChanged: () => void }) {
  const t = useT();
  const [name, setName] = useState(role.name);
  const [permissions, setPermissions] = useState<Permissions>(role.permissions);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const dirty = name !== role.name || JSON.stringify(permissions) !== JSON.stringify(role.permissions);
  const errors = fieldErrorsOf(error);
  async function save(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setSaved(false);
    try {
      await client.roles.update(role.id, { ...(name !== role.name ? { name } : {}), permissions });
      setSaved(true);
      onChanged();
    } catch (failure) {
      setError(failure);
    }
  }
  return (
    <form className="role-card" onSubmit={save} noValidate aria-label={role.name}>
      <Field label={t('common.name')} errors={errors.name}>
        {(props) => <input {...props} value={name} onChange={(event) => setName(event.target.value)} />}
      </Field>
      {role.builtIn ? <p className="muted">{t('roles.builtIn')}</p> : null}
      <fieldset className="settings-group">
        <legend>{t('roles.permissions')}</legend>
        {FLAGS.map((flag) => (
          <label key={flag} className="checkbox">
            <input
              type="checkbox"
              checked={permissions[flag]}
              onChange={(event) => setPermissions({ ...permissions, [flag]: event.target.checked })}
            />
            {t(`permission.${flag}`)}
          </label>
        ))}
        {SCOPES.map((scope) => (
          <Field key={scope} label={t(`permission.${scope}`)} errors={errors[`permissions.${scope}`]}>
            {(props) => (
              <select
                {...props}
                value={permissions[scope]}
                onChange={(event) => setPermissions({ ...permissions, [scope]: event.target.value as Scope })}
              >
                {SCOPE_VALUES.map((value) => (
                  <option key={value} value={value}>
                    {t(`scope.${value}`)}
                  </option>
                ))}
              </select>
            )}
          </Field>
        ))}
      </fieldset>
      <ErrorNotice
        error={error}
        onDismiss={() => setError(null)}
        inline={['name', ...SCOPES.map((scope) => `permissions.${scope}`)]}
      />
      <div className="row-buttons">
        {saved && !dirty ? (
          <span role="status" className="saved">
            {t('common.saved')}
          </span>
        ) : null}
        <button type="submit" className="primary" disabled={!dirty}>
          {t('common.save')}
        </button>
        {!role.builtIn ? (
          <button
            type="button"
            className="danger-outline"
            onClick={() => client.roles.delete(role.id).then(onChanged, setError)}
          >
            {t('common.delete')}
          </button>
        ) : null}
      </div>
    </form>
  );
}
