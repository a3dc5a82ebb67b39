import type { Department, User } from '@openlines/contract';
import { type FormEvent, useState } from 'react';
import { client } from '../lib/api';
import { fieldErrorsOf } from '../lib/errors';
import { useT } from '../lib/i18n';
import { ErrorNotice } from '../ui/error-notice';
import { Field } from '../ui/field';
import { Modal } from '../ui/modal';
import { useLoad } from './use-load';

/** Departments: a tree of teams; a department in a line's queue means its current members. */
export function DepartmentsScreen() {
  const t = useT();
  const { data, error, reload } = useLoad(async () => {
    const [departments, users] = await Promise.all([client.departments.list(), client.users.list()]);
    return { departments, users };
  });
  const [editing, setEditing] = useState<Department | 'new' | null>(null);
  const [rowError, setRowError] = useState<unknown>(null);
  const nameOf = (id: string | null) =>
    id ? (data?.departments.find((d) => d.id === id)?.name ?? '—') : '—';
  return (
    <section aria-labelledby="departments-title">
      <div className="screen-head">
        <h1 id="departments-title">{t('departments.title')}</h1>
        <button type="button" className="primary" onClick={() => setEditing('new')}>
          {t('departments.create')}
        </button>
      </div>
      <ErrorNotice error={error ?? rowError} onDismiss={() => setRowError(null)} />
      {data ? (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t('common.name')}</th>
              <th scope="col">{t('departments.parent')}</th>
              <th scope="col">{t('departments.members')}</th>
              <th scope="col">
                <span className="visually-hidden">{t('common.actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.departments.map((department) => (
              <tr key={department.id}>
                <td>{department.name}</td>
                <td>{nameOf(department.parentId)}</td>
                <td>
                  {department.memberIds
                    .map((id) => data.users.find((u) => u.id === id)?.name ?? id.slice(0, 8))
                    .join(', ') || '—'}
                </td>
                <td className="row-buttons">
                  <button type="button" onClick={() => setEditing(department)}>
                    {t('common.edit')}
                  </button>
                  <button
                    type="button"
                    className="danger-outline"
                    onClick={() => client.departments.delete(department.id).then(reload, setRowError)}
                  >
                    {t('common.delete')}
                  </button>
                </td>
              </tr>
            ))}
            {data.departments.length === 0 ? (
              <tr>
                <td colSpan={4} className="muted">
                  {t('departments.none')}
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      ) : null}
      {editing && data ? (
        <DepartmentForm
          department={editing === 'new' ? null : editing}
          departments={data.departments}
          users={data.users}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            void reload();
          }}
        />
      ) : null}
    </section>
  );
}

function DepartmentForm({
  department,
  departments,
  users,
  onClose,
  onSaved,
}: {
  department: Department | null;
  departments: Department[];
  users: User[];
  onClose: () => void;
  onSaved: () => void;
}) {
  const t = useT();
  const [name, setName] = useState(department?.name ?? '');
  const [parentId, setParentId] = useState(department?.parentId ?? '');
  const [memberIds, setMemberIds] = useState<string[]>(department?.memberIds ?? []);
  const [error, setError] = useState<unknown>(null);
  const errors = fieldErrorsOf(error);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    const input = { name, parentId: parentId || null, memberIds };
    try {
      if (department) await client.departments.update(department.id, input);
      else await client.departments.create(input);
      onSaved();
    } catch (failure) {
      setError(failure);
    }
  }
  return (
    <Modal
      title={department ? t('departments.editTitle', { name: department.name }) : t('departments.create')}
      onClose={onClose}
    >
      <form onSubmit={submit} noValidate className="stack">
        <Field label={t('common.name')} errors={errors.name}>
          {(props) => <input {...props} value={name} onChange={(event) => setName(event.target.value)} />}
        </Field>
        <Field label={t('departments.parent')} errors={errors.parentId}>
          {(props) => (
            <select {...props} value={parentId} onChange={(event) => setParentId(event.target.value)}>
              <option value="">—</option>
              {departments
                .filter((d) => d.id !== department?.id)
                .map((d) => (
                  <option key={d.id} value={d.id}>
                    {d.name}
                  </option>
                ))}
            </select>
          )}
        </Field>
        <fieldset className="settings-group settings-inline">
          <legend>{t('departments.members')}</legend>
          {users
            .filter((user) => user.active || memberIds.includes(user.id))
            .map((user) => (
              <label key={user.id} className="checkbox">
                <input
                  type="checkbox"
                  checked={memberIds.includes(user.id)}
                  onChange={(event) =>
                    setMemberIds(
                      event.target.checked
                        ? [...memberIds, user.id]
                        : memberIds.filter((id) => id !== user.id),
                    )
                  }
                />
                {user.name}
              </label>
            ))}
        </fieldset>
        <ErrorNotice error={error} inline={['name', 'parentId']} />
        <div className="modal-buttons">
          <button type="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="primary">
            {t('common.save')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
