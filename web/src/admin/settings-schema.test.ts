import { defaultLineSettings, LineSettingsSchema } from '@openlines/contract';
import { describe, expect, it } from 'vitest';
import { FIELD_LABELS, GROUP_LABELS, OPTION_LABELS, optionLabel, SECTION_LABELS } from './settings-labels';
import {
  describeField,
  errorsFor,
  type FieldSpec,
  getAt,
  groupPaths,
  leafPaths,
  SECTIONS,
  sectionOf,
  setAt,
  settingsPatch,
} from './settings-schema';

const sections = SECTIONS.map((id) => describeField(LineSettingsSchema.properties[id], id));

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
});
