import type { BuiltinBotDefinition, Channel } from '@openlines/contract';
import { CrmApi } from '@openlines/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineWorld, type EngineWorld } from './engine-fixture';
import { TestVisitor } from './widget-visitor';

// The built-in bot's "leave your contact details" step (BOT-3) feeds the contact form's path: what
// the client types (a messenger, mail, the API channel) or sends in the widget's form lands on the
// client's card and the CRM contact; then the operators take over. And the bot is shown to clients
// under its own name and avatar; options typed by number (channels without buttons) choose.

const ORIGIN = 'https://shop.example.test';

const MENU: BuiltinBotDefinition = {
  steps: [
    {
      id: 'start',
      text: 'Здравствуйте! Выберите тему.',
      options: [
        {
          title: 'Доставка',
          keywords: ['доставка'],
          action: { type: 'answer', text: 'Доставляем за 1–3 дня.' },
        },
        { title: 'Оставить контакты', keywords: ['контакты'], action: { type: 'contact_form' } },
        { title: 'Leave my details', keywords: ['details'], action: { type: 'contact_form' } },
      ],
    },
  ],
  fallbackText: 'Не понял вас.',
  handOverAfterMisses: 0,
};

let world: EngineWorld;
let crm: CrmApi;
let widget: Channel;

beforeAll(async () => {
  world = await createEngineWorld({ operatorCount: 1, settings: { crm: { enabled: true, create: 'lead' } } });
  await world.online(...world.operators);
  const { bot } = await world.admin.client.bots.create({
    kind: 'builtin',
    name: 'Помощник',
    avatarUrl: 'https://cdn.example.test/helper.png',
    definition: MENU,
  });
  await world.admin.lines.update(world.line.id, {
    settings: { bot: { welcomeBot: { enabled: true, botId: bot.id, timeSeconds: 600 } } },
  });
  ({ channel: widget } = await world.admin.channels.create({
    kind: 'widget',
    name: 'Site',
    lineId: world.line.id,
    settings: { allowedDomains: ['shop.example.test'] },
  }));
  crm = new CrmApi(world.admin.client.transport);
}, 120_000);
afterAll(async () => {
  await world?.stop();
});

async function contactOf(dialogId: string) {
  const card = await crm.dialogCard(dialogId);
  expect(card.contact).not.toBeNull();
  return { card, contact: await crm.contacts.get(card.contact!.id) };
}

describe('“leave your contact details” (BOT-3 → AA-2, CRM)', { timeout: 120_000 }, () => {
  it.each([
    {
      language: 'ru',
      client: 'contact-ru',
      choose: '2',
      details: 'Анна Петрова, +7 900 123-45-67, anna.petrova@example.ru',
      expected: { name: 'Анна Петрова', phone: '+7 900 123-45-67', email: 'anna.petrova@example.ru' },
      phone: '+79001234567',
    },
    {
      language: 'en',
      client: 'contact-en',
      choose: 'Leave my details',
      details: 'my name is John Smith, john.smith@example.com',
      expected: { name: 'John Smith', email: 'john.smith@example.com' },
      phone: null,
    },
  ])(
    'typed ($language): the details go on the client card and the CRM contact, then to the operators',
    async (c) => {
      const intake = await world.clientSays(c.client, 'Добрый день');
      expect((await world.admin.dialogs.get(intake.dialogId)).session?.status).toBe('bot');
      // A channel without buttons: the option is picked by its number or its title.
      await world.clientSays(c.client, c.choose);
      let messages = await world.admin.dialogs.messages(intake.dialogId);
      expect(messages.at(-1)).toMatchObject({ authorKind: 'system', systemKind: 'contact_form_request' });
      // Still the bot's: the next message is the answer.
      expect((await world.admin.dialogs.get(intake.dialogId)).session?.status).toBe('bot');

      await world.clientSays(c.client, c.details);
      const dialog = await world.admin.dialogs.get(intake.dialogId);
      expect(dialog.client).toMatchObject({
        name: c.expected.name,
        email: c.expected.email,
        ...(c.expected.phone ? { phone: c.expected.phone } : {}),
      });
      expect(dialog.session).toMatchObject({ status: 'assigned', operatorId: world.operators[0]!.id });
      const { card, contact } = await contactOf(intake.dialogId);
      expect(contact.name).toBe(c.expected.name);
      expect(contact.emails).toContain(c.expected.email);
      if (c.phone) expect(contact.phones).toContain(c.phone);
      // The session's lead belongs to the contact the details went to.
      expect(card.session.leadId).not.toBeNull();
      const transitions = await world.admin.dialogs.transitions(intake.dialogId);
      expect(transitions.map((t) => [t.from, t.to, t.actorKind, t.reason])).toContainEqual([
        'bot',
        'queued',
        'bot',
        'bot_handover',
      ]);
      // The operator sees the whole exchange, the details included.
      messages = await world.operators[0]!.ws.dialogs.messages(intake.dialogId);
      expect(messages.some((m) => m.authorKind === 'client' && m.text === c.details)).toBe(true);
    },
  );

  it('nothing usable in the answer: the operators take over and the card is left as it was', async () => {
    const intake = await world.clientSays('contact-none', 'Привет');
    await world.clientSays('contact-none', 'контакты');
    await world.clientSays('contact-none', 'не хочу');
    const dialog = await world.admin.dialogs.get(intake.dialogId);
    expect(dialog.session?.status).toBe('assigned');
    expect(dialog.client).toMatchObject({ name: 'Client contact-none', email: null, phone: null });
  });

  it('in the widget: the bot signs with its name and avatar, its form sends the details and hands over', async () => {
    const visitor = new TestVisitor(world.server.url, String(widget.settings.publicKey), ORIGIN);
    await visitor.start();
    expect((await visitor.send('Здравствуйте')).status).toBe(201);
    let history = (await visitor.history()).body.items;
    const greeting = history.find((m) => m.author === 'bot')!;
    expect(greeting).toMatchObject({
      name: 'Помощник',
      avatarUrl: 'https://cdn.example.test/helper.png',
      quickReplies: MENU.steps[0]!.options.map((o) => ({ title: o.title, reply: o.title })),
    });
    // A tapped button sends its title.
    await visitor.send('Оставить контакты');
    history = (await visitor.history()).body.items;
    expect(history.at(-1)).toMatchObject({ author: 'system', systemKind: 'contact_form_request' });
    const form = await visitor.call('POST', '/contact-form', {
      body: { name: 'Мария Иванова', phone: '+7 901 000-11-22', email: 'maria@example.org' },
    });
    expect(form.status).toBe(204);
    const { items } = await world.admin.dialogs.list({ view: 'all', search: 'Мария Иванова' });
    const dialog = await world.admin.dialogs.get(items[0]!.id);
    expect(dialog.client).toMatchObject({ name: 'Мария Иванова', email: 'maria@example.org' });
    expect(dialog.session).toMatchObject({ status: 'assigned' });
    const { contact } = await contactOf(dialog.id);
    expect(contact).toMatchObject({ name: 'Мария Иванова' });
    expect(contact.phones).toContain('+79010001122');
    expect(contact.emails).toContain('maria@example.org');
  });
});
