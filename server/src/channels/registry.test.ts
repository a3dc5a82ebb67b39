import type { TSchema } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { connectorKinds, findConnector } from './registry';

/** The schema at a dotted path of an object schema, or undefined. */
function schemaAt(schema: TSchema, path: string): TSchema | undefined {
  let current: TSchema | undefined = schema;
  for (const key of path.split('.')) {
    const properties = current?.properties as Record<string, TSchema> | undefined;
    current = properties?.[key];
  }
  return current;
}

describe('channel kinds as the admin app draws them', () => {
  for (const kind of connectorKinds()) {
    it(`${kind}: every form field is a setting of its schema, listed once`, () => {
      const connector = findConnector(kind)!;
      // A kind an integration creates (a Bitrix24 connector) has no form in the admin app.
      if (connector.createdByIntegration) return void expect(connector.formFields).toEqual([]);
      expect(connector.formFields.length).toBeGreaterThan(0);
      expect(new Set(connector.formFields).size).toBe(connector.formFields.length);
      for (const path of connector.formFields) {
        expect({ path, found: schemaAt(connector.settingsSchema, path) !== undefined }).toEqual({
          path,
          found: true,
        });
      }
    });
  }
});
