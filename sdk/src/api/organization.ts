import type { Department, Role } from '@openlines/contract';
import { segment, type Transport } from '../transport';
import type {
  CreateDepartmentInput,
  CreateRoleInput,
  UpdateDepartmentInput,
  UpdateRoleInput,
} from '../types';

/** The department tree, as a flat list with `parentId`. */
export class DepartmentsApi {
  constructor(private readonly transport: Transport) {}

  list(): Promise<Department[]> {
    return this.transport.request('GET', '/departments');
  }

  create(input: CreateDepartmentInput): Promise<Department> {
    return this.transport.request('POST', '/departments', { body: input });
  }

  update(id: string, input: UpdateDepartmentInput): Promise<Department> {
    return this.transport.request('PATCH', `/departments/${segment(id)}`, { body: input });
  }

  delete(id: string): Promise<void> {
    return this.transport.request('DELETE', `/departments/${segment(id)}`);
  }
}

/** Roles and their permissions. */
export class RolesApi {
  constructor(private readonly transport: Transport) {}

  list(): Promise<Role[]> {
    return this.transport.request('GET', '/roles');
  }

  create(input: CreateRoleInput): Promise<Role> {
    return this.transport.request('POST', '/roles', { body: input });
  }

  update(id: string, input: UpdateRoleInput): Promise<Role> {
    return this.transport.request('PATCH', `/roles/${segment(id)}`, { body: input });
  }

  delete(id: string): Promise<void> {
    return this.transport.request('DELETE', `/roles/${segment(id)}`);
  }
}
