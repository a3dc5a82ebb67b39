import type { Absence, CreateUserBody, UpdateUserBody, User, Workload } from '@openlines/contract';
import { segment, type Transport } from '../transport';
import type { CreateAbsenceInput, UserListFilter } from '../types';

/** Users of my account and their absence periods (`/users/*`). */
export class UsersApi {
  constructor(private readonly transport: Transport) {}

  list(filter: UserListFilter = {}): Promise<User[]> {
    return this.transport.request('GET', '/users', { query: { ...filter } });
  }

  /** Every active colleague's status and how many dialogs they hold now. */
  workload(): Promise<Workload[]> {
    return this.transport.request('GET', '/users/workload');
  }

  get(id: string): Promise<User> {
    return this.transport.request('GET', `/users/${segment(id)}`);
  }

  create(input: CreateUserBody): Promise<User> {
    return this.transport.request('POST', '/users', { body: input });
  }

  update(id: string, input: UpdateUserBody): Promise<User> {
    return this.transport.request('PATCH', `/users/${segment(id)}`, { body: input });
  }

  /** Dismisses a user: they cannot sign in any more and their sessions and sockets end. */
  deactivate(id: string): Promise<User> {
    return this.update(id, { active: false });
  }

  listAbsences(userId: string): Promise<Absence[]> {
    return this.transport.request('GET', `/users/${segment(userId)}/absences`);
  }

  createAbsence(userId: string, input: CreateAbsenceInput): Promise<Absence> {
    return this.transport.request('POST', `/users/${segment(userId)}/absences`, { body: input });
  }

  deleteAbsence(userId: string, absenceId: string): Promise<void> {
    return this.transport.request('DELETE', `/users/${segment(userId)}/absences/${segment(absenceId)}`);
  }
}
