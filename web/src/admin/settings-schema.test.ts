import { defaultLineSettings, LineSettingsSchema } from '@openlines/contract';
import { describe, expect, it } from 'vitest';
import { FIELD_LABELS, GROUP_LABELS, OPTION_LABELS, optionLabel, SECTION_LABELS } from './settings-labels';
import {
  collectSettings,
  describeField,
  describeFields,
  describeSection,
  errorsFor,
  type FieldSpec,
  getAt,
  groupPaths,
  LINE_SETTINGS_FORM,
  leafPaths,
  SECTIONS,
  sectionOf,
  setAt,
  settingsPatch,
} from './settings-schema';

const sections = SECTIONS.map(describeSection);

function enums(spec: FieldSpec): Extract<FieldSpec, { kind: 'enum' | 'multiEnum' }>[] {
  if (spec.kind === 'group') return spec.children.flatMap(enums);
  return spec.kind === 'enum' || spec.kind === 'multiEnum' ? [spec] : [];
}

describe('the line settings form', () => {
  it('has a section for every part of the settings model', () => {
    const modelSections = Object.keys(LineSettingsSchema.properties).filter((key) => key !== 'version');
    expect([...SECTIONS].sort()).toEqual(modelSections.sort());
    for (const id of SECTIONS) expect(SECTION_LABELS[id], id).toBeDefined();
  });

  it('has a control and a label in both languages for every field', () => {
    const leaves = sections.flatMap(leafPaths);
    expect(leaves.length).toBeGreaterThan(60);
    for (const path of leaves) expect(FIELD_LABELS[path], path).toBeDefined();
    for (const path of sections.flatMap(groupPaths)) {
      if (!(SECTIONS as readonly string[]).includes(path)) expect(GROUP_LABELS[path], path).toBeDefined();
    }
    for (const spec of sections.flatMap(enums)) {
      for (const option of spec.options)
        expect(OPTION_LABELS[option], `${spec.path}=${option}`).toBeDefined();
    }
    expect(optionLabel('bot.welcomeBot.join', 'always', 'ru')).toBe('В каждой сессии');
  });

  it('chooses controls from the schema', () => {
    const queue = sections[0]!;
    const find = (path: string) =>
      queue.kind === 'group' ? queue.children.find((c) => c.path === path) : undefined;
    expect(find('queue.maxChat')).toMatchObject({ kind: 'integer', min: 0, max: 1000 });
    expect(find('queue.distribution')).toMatchObject({
      kind: 'enum',
      options: ['evenly', 'strictly', 'all'],
    });
    expect(find('queue.checkAvailable')).toMatchObject({ kind: 'boolean' });
    expect(find('queue.members')).toMatchObject({ kind: 'custom', custom: 'queueMembers' });
    expect(find('queue.queueTimeSeconds')).toMatchObject({ kind: 'integer', seconds: true });
  });

  it('sends only what changed; arrays and maps whole', () => {
    const before = defaultLineSettings('en');
    let after = setAt(before, 'queue.maxChat', 5);
    after = setAt(after, 'workingHours.daysOff', ['sat']);
    after = setAt(after, 'automaticActions.perChannelKind', { telegram: { welcome: 'Hi' } });
    expect(getAt(after, 'queue.maxChat')).toBe(5);
    expect(getAt(before, 'queue.maxChat')).toBe(0);
    expect(settingsPatch(LineSettingsSchema, before, after)).toEqual({
      queue: { maxChat: 5 },
      workingHours: { daysOff: ['sat'] },
      automaticActions: { perChannelKind: { telegram: { welcome: 'Hi' } } },
    });
    expect(settingsPatch(LineSettingsSchema, before, structuredClone(before))).toBeUndefined();
  });

  it('puts the server’s messages next to their fields', () => {
    const errors = {
      'queue.maxChat': ['must be <= 1000'],
      'workingHours.weekly.mon.1.to': ["Must be later than 'from'"],
    };
    expect(errorsFor(errors, 'queue.maxChat', false)).toEqual(['must be <= 1000']);
    expect(errorsFor(errors, 'workingHours.weekly', true)).toEqual(["mon.1.to: Must be later than 'from'"]);
    expect(errorsFor(errors, 'workingHours.weekly', false)).toEqual([]);
    expect(sectionOf('workingHours.weekly.mon.1.to')).toBe('workingHours');
    expect(sectionOf('name')).toBeNull();
  });

  it('reads a schema that came over the wire like the same schema in memory', () => {
    const wire = JSON.parse(JSON.stringify(LineSettingsSchema)) as typeof LineSettingsSchema;
    for (const [index, id] of SECTIONS.entries()) {
      expect(describeField(wire.properties[id], id, LINE_SETTINGS_FORM), id).toEqual(sections[index]);
    }
    const before = defaultLineSettings('en');
    const after = setAt(before, 'rating.enabled', !before.rating.enabled);
    expect(settingsPatch(wire, before, after)).toEqual({ rating: { enabled: after.rating.enabled } });
  });
});

// Fields of the channel kinds' settings schemas (widget, api, telegram) as GET /channel-kinds sends
// them: plain JSON Schema, without TypeBox's symbols.
const widgetSchema = {
  type: 'object',
  required: ['allowedDomains'],
  properties: {
    allowedDomains: { type: 'array', items: { type: 'string', maxLength: 300 }, minItems: 1 },
    appearance: {
      type: 'object',
      properties: {
        color: { type: 'string', pattern: '^#[0-9a-fA-F]{6}$' },
        position: {
          anyOf: [
            { const: 'right', type: 'string' },
            { const: 'left', type: 'string' },
          ],
        },
        title: { anyOf: [{ type: 'string', maxLength: 60 }, { type: 'null' }] },
      },
    },
    webhookUrl: { type: 'string', format: 'uri', maxLength: 2048 },
    botToken: { type: 'string', pattern: '^[0-9]+:.+$', writeOnly: true },
  },
};

describe('a channel settings form', () => {
  const fields = describeFields(widgetSchema, [
    'allowedDomains',
    'appearance.title',
    'appearance.color',
    'appearance.position',
    'webhookUrl',
    'botToken',
  ]);

  it('chooses the same kinds of controls from a served schema', () => {
    expect(fields.map(({ path, ...rest }) => [path, rest])).toEqual([
      ['allowedDomains', { kind: 'list', key: 'allowedDomains', required: true }],
      [
        'appearance.title',
        { kind: 'text', key: 'title', maxLength: 60, multiline: false, nullable: true, input: 'text' },
      ],
      ['appearance.color', { kind: 'text', key: 'color', multiline: false, nullable: false, input: 'color' }],
      ['appearance.position', { kind: 'enum', key: 'position', options: ['right', 'left'] }],
      [
        'webhookUrl',
        { kind: 'text', key: 'webhookUrl', maxLength: 2048, multiline: false, nullable: false, input: 'url' },
      ],
      ['botToken', { kind: 'text', key: 'botToken', multiline: false, nullable: false, input: 'password' }],
    ]);
    expect(() => describeFields(widgetSchema, ['publicKey'])).toThrow(/publicKey/);
  });

  it('sends only its fields: trimmed, lists split, empty optional ones left out', () => {
    const draft = {
      allowedDomains: ' example.com\n\n*.shop.example, https://a.example:8443 ',
      appearance: { title: null, color: '#ff0000' },
      webhookUrl: '  https://hooks.example/in ',
      botToken: '',
      publicKey: 'set by the server',
    };
    expect(collectSettings(fields, draft)).toEqual({
      allowedDomains: ['example.com', '*.shop.example', 'https://a.example:8443'],
      appearance: { color: '#ff0000' },
      webhookUrl: 'https://hooks.example/in',
    });
    // A required list goes even when empty, for the server to say what is missing; stored lists
    // (arrays, when the field was not touched) go as they are.
    expect(collectSettings(fields, {})).toEqual({ allowedDomains: [] });
    expect(collectSettings(fields, { allowedDomains: ['a.example', 'b.example'] })).toEqual({
      allowedDomains: ['a.example', 'b.example'],
    });
  });
});
