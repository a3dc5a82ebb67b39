import { defaultLineSettings, type LineSettings } from '@openlines/contract';
import { describe, expect, it } from 'vitest';
import { type OperatorProfile, operatorShownAs, shownByLine } from './operator-shown';

function line(mode: 'profile' | 'replaced' | 'hidden', avatar: string | null = 'https://cdn.test/line.png') {
  const settings: LineSettings = defaultLineSettings('en');
  settings.queue.operatorData = { mode, replacementName: 'Support team', replacementAvatarUrl: avatar };
  return settings;
}

const plain: OperatorProfile = {
  name: 'Anna Petrova',
  avatar_url: 'https://cdn.test/anna.png',
  client_name: null,
  client_avatar_url: null,
};
const own: OperatorProfile = {
  ...plain,
  client_name: 'Anna',
  client_avatar_url: 'https://cdn.test/anna-public.png',
};

describe('operatorShownAs (Q-8)', () => {
  const cases: [
    string,
    LineSettings,
    OperatorProfile | undefined,
    { name: string | null; avatarUrl: string | null },
  ][] = [
    [
      'profile: the profile when nothing client-facing is set',
      line('profile'),
      plain,
      { name: 'Anna Petrova', avatarUrl: 'https://cdn.test/anna.png' },
    ],
    [
      'profile: the operator’s own client name and photo',
      line('profile'),
      own,
      { name: 'Anna', avatarUrl: 'https://cdn.test/anna-public.png' },
    ],
    [
      'profile: only a client name, the profile photo stays',
      line('profile'),
      { ...plain, client_name: 'Anna' },
      { name: 'Anna', avatarUrl: 'https://cdn.test/anna.png' },
    ],
    [
      'profile: only a client photo, the profile name stays',
      line('profile'),
      { ...plain, client_avatar_url: 'https://cdn.test/p.png' },
      { name: 'Anna Petrova', avatarUrl: 'https://cdn.test/p.png' },
    ],
    [
      'profile: no photo at all',
      line('profile'),
      { ...plain, avatar_url: null },
      { name: 'Anna Petrova', avatarUrl: null },
    ],
    [
      'profile: an operator not found shows nobody',
      line('profile'),
      undefined,
      { name: null, avatarUrl: null },
    ],
    [
      'replaced: the line’s replacement beats the operator’s own',
      line('replaced'),
      own,
      { name: 'Support team', avatarUrl: 'https://cdn.test/line.png' },
    ],
    [
      'replaced without a photo: no photo, not the operator’s',
      line('replaced', null),
      own,
      { name: 'Support team', avatarUrl: null },
    ],
    ['hidden: nothing, whatever the operator set', line('hidden'), own, { name: null, avatarUrl: null }],
  ];
  it.each(cases)('%s', (_, settings, profile, expected) => {
    expect(operatorShownAs(settings, profile)).toEqual(expected);
  });

  it('needs the profile row only when the line shows the profile', () => {
    expect(shownByLine(line('profile'))).toBeNull();
    expect(shownByLine(line('replaced'))).not.toBeNull();
    expect(shownByLine(line('hidden'))).toEqual({ name: null, avatarUrl: null });
    expect(shownByLine(undefined)).toEqual({ name: null, avatarUrl: null });
  });
});
